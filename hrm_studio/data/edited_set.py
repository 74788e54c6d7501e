"""Write puzzles made in the puzzle editor as a small official-layout data set.

Why its own module: the editor's puzzles must load anywhere a generated data set does
(`hrm-studio eval --dataset DIR`, the Data settings, the official code), so they go through
the same writer (`hrm_format.write_dataset`) with the task's own TaskInfo. The same puzzles
are written to both splits: a handful of hand-made puzzles is something to evaluate on, or to
fine-tune on, and either needs its split present. A folder that exists is never written into.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hrm_studio.data.hrm_format import write_dataset
from hrm_studio.data.puzzle_set import PuzzleSet
from hrm_studio.data.task_data import TaskData, TaskInfo
from hrm_studio.errors import DatasetError

EDITED_PATTERN = "edited"


@dataclass(frozen=True)
class EditedPuzzle:
    """One puzzle from the editor: its tokens, the answer to score against, and its identifier."""

    inputs: np.ndarray        # int [seq_len]
    labels: np.ndarray        # int [seq_len], IGNORE where not scored
    puzzle_identifier: int

    def __post_init__(self) -> None:
        if np.shape(self.inputs) != np.shape(self.labels) or np.ndim(self.inputs) != 1:
            raise DatasetError("An edited puzzle needs inputs and labels of the same length.")


def edited_task_data(puzzles: list[EditedPuzzle], info: TaskInfo) -> TaskData:
    """The puzzles as TaskData of the task `info` describes (pattern 'edited', both splits)."""
    if not puzzles:
        raise DatasetError("There are no puzzles to save: edit a puzzle first.")
    for p in puzzles:
        if len(p.inputs) != info.seq_len:
            raise DatasetError(f"An edited puzzle has {len(p.inputs)} cells but the task's puzzles have "
                               f"{info.seq_len}; start again from a puzzle of this task.")
    split = PuzzleSet(
        inputs=np.stack([np.asarray(p.inputs, np.int32) for p in puzzles]),
        labels=np.stack([np.asarray(p.labels, np.int32) for p in puzzles]),
        puzzle_identifiers=np.array([p.puzzle_identifier for p in puzzles], np.int32),
        patterns=np.full(len(puzzles), EDITED_PATTERN),
    )
    out_info = replace(info, pattern_names=[EDITED_PATTERN], ceiling=None)
    return TaskData(train=split, test=split.subset(np.arange(len(split))), info=out_info)


def save_edited_set(folder: str | Path, puzzles: list[EditedPuzzle], info: TaskInfo) -> Path:
    """Write `puzzles` at `folder`, which must not exist yet (an existing folder is never overwritten)."""
    folder = Path(folder)
    if folder.exists():
        raise DatasetError(f"{folder} already exists; choose a new folder name (nothing was overwritten).")
    data = edited_task_data(puzzles, info)
    return write_dataset(folder, data)
