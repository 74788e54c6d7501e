"""Random colour grids mapped by a fixed function: the shared engine of the ARC-like tasks.

Each pattern says which colour tokens its inputs use and how an input becomes its
output; cells are drawn independently and uniformly, like the seed's arc-simple data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from hrm_studio.data.grid import COLOUR_OFFSET, COLOUR_VOCAB_LABELS
from hrm_studio.data.tasks.spec import CeilingFn, SourceFactory, TaskSpec, perfect_ceiling

FIRST_COLOUR = COLOUR_OFFSET  # token of colour 0
LAST_COLOUR = COLOUR_OFFSET + 9  # token of colour 9
COLOUR_TOKENS: tuple[int, ...] = tuple(range(FIRST_COLOUR, LAST_COLOUR + 1))
COLOUR_GRID_SIZES: tuple[int, ...] = tuple(range(1, 31))  # ARC grids are at most 30×30
DEFAULT_COLOUR_GRID = 5  # the seed's grids

GridMap = Callable[[np.ndarray], np.ndarray]  # [n, rows, cols] → [n, rows, cols]


@dataclass(frozen=True)
class ColourPattern:
    """Inputs use tokens low..high (inclusive); the output is ``transform(input)``."""

    low: int
    high: int
    transform: GridMap


@dataclass(frozen=True)
class ColourSource:
    """PatternSource over square ``size``×``size`` colour grids."""

    size: int
    patterns: Mapping[str, ColourPattern]

    def capacity(self, pattern: str) -> int:
        p = self.patterns[pattern]
        return (p.high - p.low + 1) ** (self.size * self.size)

    def sample(
        self, rng: np.random.Generator, pattern: str, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        p = self.patterns[pattern]
        inputs = rng.integers(p.low, p.high + 1, size=(n, self.size, self.size), dtype=np.int32)
        outputs = np.ascontiguousarray(p.transform(inputs), dtype=np.int32)
        return inputs, outputs


def colour_task_spec(
    name: str,
    description: str,
    pattern_names: tuple[str, ...],
    make_source: SourceFactory,
    ceiling: CeilingFn = perfect_ceiling,
) -> TaskSpec:
    """TaskSpec for a colour-grid task (5×5 by default, EOS frame, canvas allowed)."""
    return TaskSpec(
        name=name,
        description=description,
        default_grid_size=DEFAULT_COLOUR_GRID,
        default_blanks=0,
        pattern_names=pattern_names,
        display="colour",
        vocab_labels=COLOUR_VOCAB_LABELS,
        eos=True,
        grid_sizes=COLOUR_GRID_SIZES,
        blank_range=None,
        canvas_ok=True,
        label_values=COLOUR_TOKENS,
        make_source=make_source,
        ceiling=ceiling,
    )


def fixed_colour_task(
    name: str,
    description: str,
    patterns: Mapping[str, ColourPattern],
    ceiling: CeilingFn = perfect_ceiling,
) -> TaskSpec:
    """TaskSpec for colour patterns that do not depend on the seed."""
    return colour_task_spec(
        name,
        description,
        tuple(patterns),
        lambda grid_size, blanks, seed: ColourSource(grid_size, patterns),
        ceiling,
    )
