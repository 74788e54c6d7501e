"""TaskInfo and TaskData: a generated or loaded dataset and what a viewer needs to know.

TaskInfo is everything about a dataset except its arrays, small enough to save as
JSON beside the arrays (``studio_task.json``) or in a run directory.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from hrm_studio.data.puzzle_set import PuzzleSet
from hrm_studio.errors import DatasetError

DISPLAY_KINDS = ("colour", "sudoku", "maze")


@dataclass
class TaskInfo:
    """Shape, vocabulary and labels of a dataset.

    task:                   task name (or the folder name for a foreign dataset)
    vocab_size:             number of token ids
    seq_len:                tokens per example
    num_puzzle_identifiers: rows of the puzzle embedding (identifier 0 = blank)
    identifier_names:       a name per identifier, index = id, [0] = "<blank>"
    pattern_names:          the patterns the examples are tagged with
    grid_shape:             (rows, cols) to show a sequence as a 2-D grid
    vocab_labels:           a short display string per token id
    display:                "colour" | "sudoku" | "maze": how the viewer draws cells
    ceiling:                best achievable held-out exact match, None if unknown
    """

    task: str
    vocab_size: int
    seq_len: int
    num_puzzle_identifiers: int
    identifier_names: list[str]
    pattern_names: list[str]
    grid_shape: tuple[int, int]
    vocab_labels: list[str]
    display: str
    ceiling: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        d = asdict(self)
        d["grid_shape"] = list(self.grid_shape)
        return d

    @classmethod
    def from_dict(cls, d: Any, source: str = "task info") -> TaskInfo:
        """Rebuild from ``to_dict`` output; DatasetError naming ``source`` if it does not fit."""
        if not isinstance(d, dict):
            raise DatasetError(f"{source} must hold a JSON object, not {type(d).__name__}.")

        def field(name: str, kind: type | tuple[type, ...]) -> Any:
            if name not in d:
                raise DatasetError(f"{source} is missing the field '{name}'.")
            value = d[name]
            if isinstance(value, bool) or not isinstance(value, kind):
                raise DatasetError(f"{source}: field '{name}' has the wrong type ({value!r}).")
            return value

        def str_list(name: str) -> list[str]:
            value = field(name, list)
            if not all(isinstance(v, str) for v in value):
                raise DatasetError(f"{source}: field '{name}' must be a list of strings.")
            return list(value)

        grid_shape = field("grid_shape", list)
        if len(grid_shape) != 2 or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in grid_shape
        ):
            raise DatasetError(f"{source}: field 'grid_shape' must be two positive integers.")
        ceiling = d.get("ceiling")
        if ceiling is not None and (
            isinstance(ceiling, bool)
            or not isinstance(ceiling, (int, float))
            or not math.isfinite(ceiling)
        ):
            raise DatasetError(f"{source}: field 'ceiling' must be a number or null.")
        info = cls(
            task=field("task", str),
            vocab_size=field("vocab_size", int),
            seq_len=field("seq_len", int),
            num_puzzle_identifiers=field("num_puzzle_identifiers", int),
            identifier_names=str_list("identifier_names"),
            pattern_names=str_list("pattern_names"),
            grid_shape=(grid_shape[0], grid_shape[1]),
            vocab_labels=str_list("vocab_labels"),
            display=field("display", str),
            ceiling=None if ceiling is None else float(ceiling),
        )
        info.check(source)
        return info

    def check(self, source: str = "task info") -> None:
        """Raise DatasetError if the fields contradict each other."""
        if self.vocab_size < 1 or self.seq_len < 1 or self.num_puzzle_identifiers < 1:
            raise DatasetError(
                f"{source}: vocab_size, seq_len and num_puzzle_identifiers must be positive."
            )
        if len(self.vocab_labels) != self.vocab_size:
            raise DatasetError(
                f"{source}: field 'vocab_labels' has {len(self.vocab_labels)} entries "
                f"but vocab_size is {self.vocab_size}."
            )
        if len(self.identifier_names) != self.num_puzzle_identifiers:
            raise DatasetError(
                f"{source}: field 'identifier_names' has {len(self.identifier_names)} entries "
                f"but num_puzzle_identifiers is {self.num_puzzle_identifiers}."
            )
        rows, cols = self.grid_shape
        if rows * cols != self.seq_len:
            raise DatasetError(
                f"{source}: field 'grid_shape' {rows}x{cols} does not cover seq_len {self.seq_len}."
            )
        if self.display not in DISPLAY_KINDS:
            raise DatasetError(
                f"{source}: field 'display' is {self.display!r}; "
                f"use one of {', '.join(DISPLAY_KINDS)}."
            )


@dataclass(eq=False)
class TaskData:
    """A dataset ready to train on: its training split, held-out split and description.

    Within each split the examples are grouped by pattern (in ``info.pattern_names``
    order), the order the official folder layout stores them in; shuffle via
    ``PuzzleSet.batches(rng=...)``.
    """

    train: PuzzleSet
    test: PuzzleSet
    info: TaskInfo
