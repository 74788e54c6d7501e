"""Difficulty views of a split: accuracy by how hard each puzzle is, and Sudoku rule breaks.

Why: a single accuracy hides where a model fails. Readers of HRM and TRM ask how accuracy
falls with the Sudoku-Extreme rating, with fewer givens, with longer maze paths, and whether a
wrong Sudoku answer at least keeps the rules. One module answers for `eval --json`, the text
output and the Predictions tab, so the numbers agree everywhere.

Measures per puzzle (each only where it means something):

* ``rating``      the data set's own rating (the CSV imports keep it in ``all__ratings.npy``)
* ``givens``      Sudoku: the digits the input shows
* ``path_length`` mazes: steps of the S→G path in the label (the rating Maze-Hard selects by)
* ``cells``       other tasks: the cells the answer is scored on (an ARC output's size)

Accuracy is grouped by each distinct value, or by up to ``MAX_GROUPS`` ranges holding about as
many puzzles each when there are more values. Numpy only: no torch, no Qt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hrm_studio.data.grid import IGNORE
from hrm_studio.data.tasks.maze import GOAL, PATH, START
from hrm_studio.data.tasks.sudoku import DIGIT_OFFSET

if TYPE_CHECKING:  # only read: importing it here would pull the run store into every caller's start
    from hrm_studio.runstore.prediction_set import PredictionSet

MAX_GROUPS = 10
MEASURE_TITLES = {"rating": "Rating", "givens": "Givens", "path_length": "Path length (steps)",
                  "cells": "Scored cells"}
_CHUNK = 4096  # puzzles checked per numpy step (bounds the one-hot arrays' memory)


@dataclass(frozen=True)
class DifficultyGroup:
    """Puzzles whose measure lies in [low, high], and how the model did on them (fractions)."""

    low: int
    high: int
    puzzles: int
    token_accuracy: float
    exact: float

    @property
    def label(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}–{self.high}"

    def to_json(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "puzzles": self.puzzles,
                "token_accuracy": self.token_accuracy, "exact_match_accuracy": self.exact}


@dataclass(frozen=True)
class DifficultyView:
    """Accuracy grouped by one measure: its name, title, every puzzle's value and the groups."""

    measure: str
    title: str
    values: np.ndarray                       # int64 [N]
    groups: tuple[DifficultyGroup, ...]


# ----------------------------------------------------------------------------- measures


def sudoku_side(task: dict[str, Any]) -> int | None:
    """The side of a Sudoku task's grid (4, 9, …), None when the task is not a Sudoku laid out cell by cell."""
    shape = task.get("grid_shape") or (0, 0)
    side = int(shape[0])
    if task.get("display") != "sudoku" or side < 1 or int(shape[1]) != side or math.isqrt(side) ** 2 != side:
        return None
    return side


def sudoku_givens(inputs: np.ndarray, side: int) -> np.ndarray:
    """int64 [N]: the digits each Sudoku input shows (blanks and PAD are not givens)."""
    tokens = np.asarray(inputs).reshape(len(inputs), -1)
    return ((tokens >= 1 + DIGIT_OFFSET) & (tokens <= side + DIGIT_OFFSET)).sum(axis=1).astype(np.int64)


def maze_path_lengths(inputs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """int64 [N]: steps from S to G along each label's path (path cells, S and G, less one)."""
    inputs, labels = np.asarray(inputs), np.asarray(labels)
    on_path = (labels == PATH) | (inputs == START) | (inputs == GOAL)
    return np.maximum(on_path.sum(axis=1) - 1, 0).astype(np.int64)


def puzzle_measures(task: dict[str, Any], inputs: np.ndarray, labels: np.ndarray,
                    ratings: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every measure that fits the task, name → int64 [N], in the order the views list them."""
    out: dict[str, np.ndarray] = {}
    n = len(inputs)
    if ratings is not None:
        ratings = np.asarray(ratings)
        if ratings.shape != (n,):
            raise ValueError(f"ratings must be one per puzzle ({n}), not shape {ratings.shape}")
        out["rating"] = ratings.astype(np.int64)
    side = sudoku_side(task)
    if side is not None:
        out["givens"] = sudoku_givens(inputs, side)
    elif task.get("display") == "maze":
        out["path_length"] = maze_path_lengths(inputs, labels)
    else:
        out["cells"] = (np.asarray(labels) != IGNORE).sum(axis=1).astype(np.int64)
    return out


def dataset_ratings(dataset_dir: str | Path | None, split: str, indices: np.ndarray) -> np.ndarray | None:
    """The data set's rating of each puzzle at `indices` of `split`, None when it keeps none
    (generated tasks, folders other builders wrote) or they do not cover those puzzles."""
    if not dataset_dir:
        return None
    from hrm_studio.data.csv_import import read_ratings

    ratings = read_ratings(Path(dataset_dir).expanduser(), split)
    indices = np.asarray(indices, np.int64)
    if ratings is None or (len(indices) and int(indices.max()) >= len(ratings)):
        return None
    return ratings[indices]


# ----------------------------------------------------------------------------- grouping


def group_accuracy(values: np.ndarray, token_accuracy: np.ndarray, exact: np.ndarray,
                   max_groups: int = MAX_GROUPS) -> tuple[DifficultyGroup, ...]:
    """Accuracy per distinct value, or per range of values (each about as full) past `max_groups`."""
    values = np.asarray(values, np.int64)
    if len(values) == 0:
        return ()
    distinct = np.unique(values)
    if len(distinct) <= max_groups:
        lows = highs = distinct
    else:  # range starts at quantiles of the values themselves: no range is empty
        lows = np.unique(np.quantile(values, np.linspace(0, 1, max_groups, endpoint=False), method="lower"))
        highs = np.append(lows[1:] - 1, values.max())
    which = np.searchsorted(lows, values, side="right") - 1
    groups = []
    for k, (low, high) in enumerate(zip(lows, highs)):
        members = which == k
        groups.append(DifficultyGroup(int(low), int(high), int(members.sum()),
                                      float(np.mean(token_accuracy[members])), float(np.mean(exact[members]))))
    return tuple(groups)


def difficulty_views(ps: PredictionSet, ratings: np.ndarray | None = None, segment: int | None = None,
                     max_groups: int = MAX_GROUPS) -> list[DifficultyView]:
    """One view per measure of the set's puzzles, accuracy read after `segment` (0-based; default last)."""
    token, exact = ps.token_accuracy(segment), ps.exact(segment).astype(np.float64)
    measures = puzzle_measures(ps.task, ps.puzzles.inputs, ps.puzzles.labels, ratings)
    return [DifficultyView(name, MEASURE_TITLES[name], values, group_accuracy(values, token, exact, max_groups))
            for name, values in measures.items()]


# ----------------------------------------------------------------------------- Sudoku rules


@dataclass(frozen=True)
class SudokuViolations:
    """Where N predicted Sudoku grids repeat a digit: the cells, and per puzzle the rows, columns and
    boxes holding a repeat; `not_digits` counts cells predicted as something other than a digit."""

    cells: np.ndarray        # bool [N, side*side]
    rows: np.ndarray         # int64 [N]
    columns: np.ndarray      # int64 [N]
    boxes: np.ndarray        # int64 [N]
    not_digits: np.ndarray   # int64 [N]

    @property
    def cell_counts(self) -> np.ndarray:
        return self.cells.sum(axis=1).astype(np.int64)

    @property
    def broken(self) -> np.ndarray:
        """bool [N]: the prediction repeats a digit somewhere."""
        return self.cells.any(axis=1)

    def summary(self) -> dict[str, Any]:
        """The split's counts, as `eval --json` prints them."""
        n = len(self.rows)
        broken = int(self.broken.sum())
        return {"puzzles": n, "puzzles_breaking_a_rule": broken, "share_breaking_a_rule": broken / n if n else 0.0,
                "cells": int(self.cells.sum()), "rows": int(self.rows.sum()), "columns": int(self.columns.sum()),
                "boxes": int(self.boxes.sum()), "cells_not_a_digit": int(self.not_digits.sum())}


def sudoku_violations(tokens: np.ndarray, side: int) -> SudokuViolations:
    """The rule breaks of predicted grids `tokens` (int [N, side*side], digit d = token d + 1)."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 2 or tokens.shape[1] != side * side or math.isqrt(side) ** 2 != side:
        raise ValueError(f"expected [N, {side * side}] tokens of a {side}×{side} Sudoku, not shape {tokens.shape}")
    parts = [_violations_chunk(tokens[lo:lo + _CHUNK], side) for lo in range(0, len(tokens), _CHUNK)]
    if not parts:
        parts = [_violations_chunk(tokens, side)]
    return SudokuViolations(*(np.concatenate(p) for p in zip(*parts)))


def _violations_chunk(tokens: np.ndarray, side: int) -> tuple[np.ndarray, ...]:
    n, box = len(tokens), math.isqrt(side)
    digits = tokens.reshape(n, side, side).astype(np.int64) - DIGIT_OFFSET
    onehot = digits[..., None] == np.arange(1, side + 1)                          # [N, r, c, d]
    row_counts = onehot.sum(axis=2)                                                # [N, r, d]
    col_counts = onehot.sum(axis=1)                                                # [N, c, d]
    box_counts = onehot.reshape(n, box, box, box, box, side).sum(axis=(2, 4))      # [N, br, bc, d]
    box_per_cell = np.repeat(np.repeat(box_counts, box, axis=1), box, axis=2)      # [N, r, c, d]
    repeated = (row_counts[:, :, None, :] > 1) | (col_counts[:, None, :, :] > 1) | (box_per_cell > 1)
    cells = (onehot & repeated).any(axis=-1).reshape(n, side * side)
    units = [(counts > 1).any(axis=-1).reshape(n, -1).sum(axis=1) for counts in (row_counts, col_counts, box_counts)]
    not_digits = (~onehot.any(axis=-1)).reshape(n, -1).sum(axis=1)
    return cells, units[0], units[1], units[2], not_digits


def split_violations(ps: PredictionSet, segment: int | None = None) -> SudokuViolations | None:
    """The rule breaks of every prediction of a Sudoku set after `segment` (default last), None for other tasks."""
    side = sudoku_side(ps.task)
    if side is None or ps.puzzles.seq_len != side * side:
        return None
    t = ps.steps - 1 if segment is None else segment
    return sudoku_violations(ps.predictions.predictions[:, t], side)


def puzzle_violations(task: dict[str, Any], tokens: np.ndarray) -> np.ndarray | None:
    """bool [S]: the cells of one predicted grid that repeat a digit, None when the task is not a Sudoku."""
    side = sudoku_side(task)
    tokens = np.asarray(tokens)
    if side is None or tokens.size != side * side:
        return None
    return sudoku_violations(tokens.reshape(1, -1), side).cells[0]


# ----------------------------------------------------------------------------- reports


def difficulty_report(ps: PredictionSet, ratings: np.ndarray | None = None,
                      segment: int | None = None) -> dict[str, Any]:
    """What `eval --json` prints under "difficulty": the groups of every measure and, for a Sudoku,
    the rule breaks, all after `segment` (default the last)."""
    report: dict[str, Any] = {
        "segment": (ps.steps if segment is None else segment + 1),
        "by": {view.measure: {"title": view.title, "groups": [g.to_json() for g in view.groups]}
               for view in difficulty_views(ps, ratings, segment)},
    }
    violations = split_violations(ps, segment)
    if violations is not None:
        report["sudoku_violations"] = violations.summary()
    return report
