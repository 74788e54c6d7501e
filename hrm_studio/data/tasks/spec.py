"""TaskSpec: what a task family declares so ``make_task`` can check options and build data.

A family module supplies a spec per task and a ``PatternSource`` factory; the shared
builder (``build.py``) does everything else (dedupe, split, identifiers, encoding,
label noise), so each generator only has to say how one pattern's grids look.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class PatternSource(Protocol):
    """Draws raw token grids for the patterns of one task at fixed settings."""

    def capacity(self, pattern: str) -> int | None:
        """How many distinct inputs this pattern can produce; None if unknown."""
        ...

    def sample(
        self, rng: np.random.Generator, pattern: str, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """``n`` examples (duplicates allowed): input and output token grids [n, rows, cols]."""
        ...


# (grid_size, blanks, seed) → source; the seed only fixes per-dataset constants
# such as recolor's permutation, never the examples themselves.
SourceFactory = Callable[[int, int, int], PatternSource]

# (pattern weights normalised to sum 1, grid_size, shared_identifier) → ceiling.
CeilingFn = Callable[[Mapping[str, float], int, bool], "float | None"]


def perfect_ceiling(weights: Mapping[str, float], grid_size: int, shared: bool) -> float:
    """Deterministic tasks: the input (and identifier) fixes the answer."""
    return 1.0


@dataclass(frozen=True)
class TaskSpec:
    """A built-in task: its public description plus what the builder needs.

    name, description:  shown in the settings panel
    default_grid_size:  grid side used when TaskOptions.grid_size is 0
    default_blanks:     Sudoku blanks used when TaskOptions.blanks is 0 (0 = no blanks)
    pattern_names:      the tags examples can carry
    display:            "colour" | "sudoku" | "maze"
    vocab_labels:       a display string per token id (len = vocab_size)
    eos:                whether grids get the EOS frame
    grid_sizes:         allowed grid sides (the settings panel's range)
    blank_range:        (min, max) blanks, None when the task has none
    canvas_ok:          whether encoding="canvas" makes sense
    label_values:       tokens a scored grid cell can hold (label noise draws from them)
    make_source:        builds the PatternSource for (grid_size, blanks, seed)
    ceiling:            best held-out exact match for the settings
    """

    name: str
    description: str
    default_grid_size: int
    default_blanks: int
    pattern_names: tuple[str, ...]
    display: str
    vocab_labels: tuple[str, ...]
    eos: bool
    grid_sizes: tuple[int, ...]
    blank_range: tuple[int, int] | None
    canvas_ok: bool
    label_values: tuple[int, ...]
    make_source: SourceFactory
    ceiling: CeilingFn = perfect_ceiling

    @property
    def vocab_size(self) -> int:
        return len(self.vocab_labels)
