"""Difficulty views: measures per puzzle, accuracy by group, Sudoku rule breaks (4×4 and 9×9)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from hrm_studio.data.csv_import import import_maze_csv, import_sudoku_csv
from hrm_studio.data.hrm_format import read_dataset
from hrm_studio.evaluation.difficulty import (
    dataset_ratings,
    difficulty_report,
    difficulty_views,
    group_accuracy,
    maze_path_lengths,
    puzzle_violations,
    split_violations,
    sudoku_givens,
    sudoku_violations,
)
from tests.evaluation.sudoku_sets import (
    SOLVED_4X4,
    prediction_set,
    sudoku_4x4_set,
    sudoku_task,
)

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures"


def csv_ratings(path: Path) -> list[int]:
    return [int(line.rsplit(",", 1)[1]) for line in path.read_text().splitlines()[1:]]


def test_4x4_rule_breaks_mark_exactly_the_repeating_cells() -> None:
    ps = sudoku_4x4_set()
    v = split_violations(ps)
    assert [list(np.flatnonzero(row)) for row in v.cells] == [[], [], [0, 1, 9], []]
    assert (v.rows.tolist(), v.columns.tolist(), v.boxes.tolist()) == ([0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 1, 0])
    assert v.not_digits.tolist() == [0, 0, 0, 1]
    assert v.summary() == {"puzzles": 4, "puzzles_breaking_a_rule": 1, "share_breaking_a_rule": 0.25, "cells": 3,
                           "rows": 1, "columns": 1, "boxes": 1, "cells_not_a_digit": 1}
    # the first segment shows the inputs: blanks, no repeats
    first = split_violations(ps, segment=0)
    assert not first.cells.any() and first.not_digits.tolist() == [4, 6, 6, 8]


def test_9x9_box_repeat_without_row_or_column_repeat() -> None:
    solved = (np.arange(9)[:, None] * 3 + np.arange(9)[:, None] // 3 + np.arange(9)) % 9 + 1   # a valid grid
    assert all(len(set(r)) == 9 for r in solved) and all(len(set(c)) == 9 for c in solved.T)
    tokens = (solved + 1).reshape(1, -1).copy()
    assert not sudoku_violations(tokens, 9).cells.any()
    grid = solved.copy()
    grid[[0, 1]] = grid[[1, 0]]     # rows swapped within a band: still valid
    assert not sudoku_violations((grid + 1).reshape(1, -1), 9).cells.any()
    grid = solved.copy()
    grid[[0, 3]] = grid[[3, 0]]     # rows swapped across bands: rows and columns fine, boxes repeat
    v = sudoku_violations((grid + 1).reshape(1, -1), 9)
    assert v.rows.tolist() == [0] and v.columns.tolist() == [0] and v.boxes.tolist() == [6]
    assert v.cell_counts.tolist() == [12]   # each of the six boxes holds one digit twice


def test_one_grid_of_a_task_and_no_violations_for_other_tasks() -> None:
    task = sudoku_task(4)
    tokens = SOLVED_4X4.reshape(-1) + 1
    assert not puzzle_violations(task, tokens).any()
    tokens[5] = tokens[4]
    assert np.flatnonzero(puzzle_violations(task, tokens)).tolist() == [4, 5, 13]   # row 1, column 1, box 0
    assert puzzle_violations({**task, "display": "colour"}, tokens) is None
    assert puzzle_violations({**task, "grid_shape": [2, 8]}, tokens) is None


def test_givens_group_accuracy_by_value() -> None:
    ps = sudoku_4x4_set()
    views = difficulty_views(ps)
    assert [v.measure for v in views] == ["givens"]
    assert views[0].values.tolist() == [12, 10, 10, 8]
    groups = views[0].groups
    assert [(g.label, g.puzzles, g.exact) for g in groups] == [("8", 1, 0.0), ("10", 2, 0.0), ("12", 1, 1.0)]
    assert groups[1].token_accuracy == pytest.approx((8 / 16 + 15 / 16) / 2)   # 1 and 2 swapped: 8 cells wrong
    assert sudoku_givens(ps.puzzles.inputs, 4).tolist() == [12, 10, 10, 8]


def test_many_values_fall_into_ranges_that_cover_every_puzzle_once() -> None:
    rng = np.random.default_rng(0)
    values = rng.integers(0, 500, size=300)
    exact = (values < 100).astype(float)
    groups = group_accuracy(values, exact, exact, max_groups=8)
    assert 2 <= len(groups) <= 8 and sum(g.puzzles for g in groups) == 300
    assert groups[0].low == values.min() and groups[-1].high == values.max()
    assert all(a.high + 1 == b.low for a, b in itertools.pairwise(groups))
    assert groups[0].exact == 1.0 and groups[-1].exact == 0.0
    assert min(g.puzzles for g in groups) >= 300 // 8 // 2   # about as full as each other
    assert group_accuracy(np.zeros(0, np.int64), np.zeros(0), np.zeros(0)) == ()


def test_report_has_ratings_givens_and_rule_breaks() -> None:
    ps = sudoku_4x4_set()
    report = difficulty_report(ps, ratings=np.array([5, 50, 50, 500]))
    assert report["segment"] == 2 and list(report["by"]) == ["rating", "givens"]
    assert [g["puzzles"] for g in report["by"]["rating"]["groups"]] == [1, 2, 1]
    assert report["by"]["rating"]["groups"][0]["exact_match_accuracy"] == 1.0
    assert report["sudoku_violations"]["cells"] == 3
    with pytest.raises(ValueError, match="one per puzzle"):
        difficulty_report(ps, ratings=np.array([1, 2]))


def test_imported_sudoku_ratings_come_back_for_the_puzzles_shown(tmp_path: Path) -> None:
    out = import_sudoku_csv(FIXTURES / "sudoku_csv", tmp_path / "ds", num_aug=1, seed=0).out_dir
    expected = csv_ratings(FIXTURES / "sudoku_csv" / "test.csv")
    assert dataset_ratings(out, "test", np.arange(len(expected))).tolist() == expected
    assert dataset_ratings(out, "test", np.array([2, 0])).tolist() == [expected[2], expected[0]]
    assert dataset_ratings(out, "test", np.array([len(expected)])) is None   # not this folder's puzzles
    assert dataset_ratings(None, "test", np.arange(2)) is None
    data = read_dataset(out)   # the official reader still reads the folder with the ratings beside it
    solved = np.where(data.test.labels < 0, 0, data.test.labels)
    assert not sudoku_violations(solved, 9).cells.any()   # the real answers keep every rule


def test_maze_path_length_is_the_maze_csv_rating(tmp_path: Path) -> None:
    out = import_maze_csv(FIXTURES / "maze_csv", tmp_path / "ds").out_dir
    data = read_dataset(out)
    expected = csv_ratings(FIXTURES / "maze_csv" / "test.csv")
    assert maze_path_lengths(data.test.inputs, data.test.labels).tolist() == expected
    steps = 1
    preds = np.repeat(np.where(data.test.labels < 0, 0, data.test.labels)[:, None], steps, axis=1)
    task = {**data.info.to_dict()}
    ps = prediction_set(task, data.test.inputs, np.where(data.test.labels < 0, 0, data.test.labels), preds)
    views = difficulty_views(ps, dataset_ratings(out, "test", ps.indices))
    assert [v.measure for v in views] == ["rating", "path_length"]
    assert views[1].values.tolist() == expected and split_violations(ps) is None
