""""Solver says": the right answer to an edited puzzle, from the task's own rules.

Why: the puzzle editor lets a person change any cell, so the puzzle's stored label no longer
holds. Where the task has a solver (Sudoku, maze, copy / increment) the editor shows what the
rules say beside what the model says, and saves it as the label of an edited data set. Tasks
without one (ARC, recolour, foreign data sets) answer None with a sentence that says why.
Everything works on the model's token sequences, so callers never decode grids themselves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hrm_studio.data.grid import COLOUR_OFFSET, EOS, PAD, make_labels
from hrm_studio.data.tasks import maze, sudoku
from hrm_studio.data.tasks.sudoku_solver import find_solutions

COLOUR_RULES = {"copy": 0, "increment": 1}   # pattern → what is added to every colour
LAST_COLOUR = COLOUR_OFFSET + 9


@dataclass(frozen=True)
class SolverAnswer:
    """labels: int [seq_len] in token ids (IGNORE where nothing is scored), or None; note: one sentence."""

    labels: np.ndarray | None
    note: str


def has_solver(task: str) -> bool:
    """Whether `solve` can answer puzzles of the task called `task`."""
    return task.startswith("sudoku-") or task.startswith("maze") or task in ("copy", "increment", "copy-increment")


def solve(task: str, grid_shape: tuple[int, int], inputs: np.ndarray, pattern: str) -> SolverAnswer:
    """The answer the rules of `task` give for `inputs` (pattern names the rule where a task has two)."""
    seq = np.asarray(inputs, dtype=np.int64).reshape(-1)
    rows, cols = int(grid_shape[0]), int(grid_shape[1])
    if seq.size != rows * cols:
        return SolverAnswer(None, f"The puzzle has {seq.size} cells but the task's grid is {rows}×{cols}.")
    if task.startswith("sudoku-"):
        return _sudoku(seq.reshape(rows, cols))
    if task.startswith("maze"):
        return _maze(seq.reshape(rows, cols))
    if task in ("copy", "increment", "copy-increment"):
        rule = task if task != "copy-increment" else pattern
        return _colour(seq, rule)
    return SolverAnswer(None, f"The task {task!r} has no solver, so there is no ground truth for an edited puzzle.")


def _sudoku(grid: np.ndarray) -> SolverAnswer:
    n = grid.shape[0]
    if grid.shape != (n, n) or math.isqrt(n) ** 2 != n:
        return SolverAnswer(None, f"A {grid.shape[0]}×{grid.shape[1]} grid is not a Sudoku the solver knows.")
    digits = np.where(grid >= sudoku.DIGIT_OFFSET + 1, grid - sudoku.DIGIT_OFFSET, 0)
    if np.any((grid != sudoku.BLANK) & ((digits < 1) | (digits > n))):
        return SolverAnswer(None, "Some cells hold neither a digit nor a blank.")
    found = find_solutions(digits, limit=2)
    if not found:
        return SolverAnswer(None, "This Sudoku has no solution: some givens contradict each other.")
    if len(found) > 1:
        return SolverAnswer(None, "This Sudoku has more than one solution; give more digits to make it unique.")
    solution = (found[0] + sudoku.DIGIT_OFFSET).astype(np.int32).reshape(-1)
    return SolverAnswer(solution, "The solver finds exactly one solution.")


def _maze(grid: np.ndarray) -> SolverAnswer:
    starts = list(zip(*np.nonzero(grid == maze.START)))
    goals = list(zip(*np.nonzero(grid == maze.GOAL)))
    if len(starts) != 1 or len(goals) != 1:
        return SolverAnswer(None, f"A maze needs exactly one S and one G (this one has {len(starts)} S and "
                                  f"{len(goals)} G).")
    start = (int(starts[0][0]), int(starts[0][1]))
    goal = (int(goals[0][0]), int(goals[0][1]))
    try:
        path = maze.shortest_path(grid, start, goal)
    except ValueError:
        return SolverAnswer(None, "G cannot be reached from S: walls close every way.")
    answer = np.where(grid == maze.PATH, maze.OPEN, grid).astype(np.int32)
    for cell in path[1:-1]:
        answer[cell] = maze.PATH
    return SolverAnswer(answer.reshape(-1), f"The shortest path from S to G is {len(path) - 1} steps long.")


def _colour(seq: np.ndarray, rule: str) -> SolverAnswer:
    if rule not in COLOUR_RULES:
        return SolverAnswer(None, f"The rule {rule!r} is neither copy nor increment, so there is no ground truth.")
    colours = (seq != PAD) & (seq != EOS)
    add = COLOUR_RULES[rule]
    if add and np.any(colours & (seq >= LAST_COLOUR)):
        return SolverAnswer(None, "Increment has no answer for colour 9 (it would wrap); use colours 0–8.")
    out = np.where(colours, seq + add, seq).astype(np.int32)
    return SolverAnswer(make_labels(out[None])[0], f"The {rule} rule applied to every colour.")
