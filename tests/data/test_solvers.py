""""Solver says": Sudoku (unique, ambiguous, contradictory), maze paths, copy / increment, and tasks without one."""

from __future__ import annotations

import numpy as np

from hrm_studio.data.grid import encode_grid, make_labels
from hrm_studio.data.tasks import maze
from hrm_studio.data.tasks.solvers import has_solver, solve

SOLVED_4X4 = np.array([[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]])


def sudoku_tokens(digits: np.ndarray) -> np.ndarray:
    return np.where(digits == 0, 1, digits + 1).reshape(-1)   # blank 1, digit d → d + 1


def test_a_sudoku_with_one_solution_is_solved_and_others_are_explained() -> None:
    puzzle = SOLVED_4X4.copy()
    puzzle[0, :2] = 0
    puzzle[2, 2:] = 0
    answer = solve("sudoku-4x4", (4, 4), sudoku_tokens(puzzle), "sudoku")
    assert np.array_equal(answer.labels, sudoku_tokens(SOLVED_4X4)) and "exactly one" in answer.note
    empty = solve("sudoku-4x4", (4, 4), sudoku_tokens(np.zeros((4, 4), int)), "sudoku")
    assert empty.labels is None and "more than one" in empty.note
    clash = SOLVED_4X4.copy()
    clash[0, 0] = 2   # two 2s in the first row
    assert "no solution" in solve("sudoku-4x4", (4, 4), sudoku_tokens(clash), "sudoku").note


def test_a_maze_gets_its_shortest_path_marked_and_a_closed_one_is_explained() -> None:
    W, O, S, G, P = maze.WALL, maze.OPEN, maze.START, maze.GOAL, maze.PATH
    grid = np.array([[W, W, W, W, W], [W, S, O, O, W], [W, W, W, O, W], [W, G, O, O, W], [W, W, W, W, W]])
    answer = solve("maze", (5, 5), grid.reshape(-1), "maze")
    assert answer.labels is not None
    marked = answer.labels.reshape(5, 5)
    assert {tuple(c) for c in np.argwhere(marked == P)} == {(1, 2), (1, 3), (2, 3), (3, 3), (3, 2)}
    grid[2, 3] = W
    assert "cannot be reached" in solve("maze", (5, 5), grid.reshape(-1), "maze").note


def test_copy_and_increment_follow_the_rule_and_refuse_colour_9_for_increment() -> None:
    tokens = encode_grid(np.array([[2, 3], [4, 10]]), "tight")
    copy = solve("copy-increment", (3, 3), tokens, "copy")
    assert np.array_equal(copy.labels, make_labels(tokens[None])[0])
    inc = solve("copy-increment", (3, 3), tokens, "increment")
    assert np.array_equal(inc.labels, make_labels(encode_grid(np.array([[3, 4], [5, 11]]), "tight")[None])[0])
    nine = encode_grid(np.array([[11, 3], [4, 5]]), "tight")
    assert solve("increment", (3, 3), nine, "increment").labels is None
    assert not has_solver("arc-agi-1") and solve("recolor", (3, 3), tokens, "recolor").labels is None
