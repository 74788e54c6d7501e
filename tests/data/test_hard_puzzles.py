"""Hard puzzles made locally: minimal unique Sudokus with a backtrack rating, long-path mazes."""

from collections import deque

import numpy as np
import pytest

from hrm_studio.data import TaskOptions, make_task
from hrm_studio.data.puzzle_csv import (
    generate_maze_csv,
    generate_sudoku_csv,
    read_puzzle_csv,
)
from hrm_studio.data.tasks.maze_hard import hard_maze
from hrm_studio.data.tasks.sudoku_hard import hard_sudoku
from hrm_studio.data.tasks.sudoku_solver import count_solutions, rate_puzzle
from hrm_studio.errors import ConfigError
from tests.data.test_sudoku_tasks import is_valid_solution

WALL, OPEN, START, GOAL, PATH = 1, 2, 3, 4, 5


def test_hard_sudokus_are_minimal_unique_and_rated():
    rng = np.random.default_rng(5)
    for _ in range(2):
        found = hard_sudoku(rng, min_blanks=56)
        puzzle, solution = found.puzzle, found.solution
        assert is_valid_solution(solution) and found.blanks >= 56
        assert ((puzzle == 0) | (puzzle == solution)).all()
        assert count_solutions(puzzle) == 1
        for cell in np.flatnonzero(puzzle.reshape(-1)):  # every given is needed: minimal
            loose = puzzle.reshape(-1).copy()
            loose[cell] = 0
            assert count_solutions(loose.reshape(9, 9)) == 2
        assert rate_puzzle(puzzle) == (1, found.rating)
        relabel = np.concatenate([[0], rng.permutation(9) + 1])
        assert rate_puzzle(relabel[puzzle]) == (1, found.rating)  # digits do not change the rating


def test_hard_sudoku_task_respects_its_least_blanks():
    data = make_task(TaskOptions("sudoku-9x9-hard", 2, 1, blanks=57, seed=3))
    blanks = (data.train.inputs == 1).sum(axis=1)
    assert (blanks >= 57).all() and data.info.display == "sudoku"
    with pytest.raises(ConfigError, match="blanks must be between 1 and 58"):
        make_task(TaskOptions("sudoku-9x9-hard", 2, 1, blanks=59))


def steps(grid, start, goal):
    dist = {start: 0}
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        for nxt in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if 0 <= nxt[0] < grid.shape[0] and 0 <= nxt[1] < grid.shape[1] and grid[nxt] != WALL \
                    and nxt not in dist:
                dist[nxt] = dist[(r, c)] + 1
                queue.append(nxt)
    return dist[goal]


def test_hard_mazes_have_a_long_shortest_path_marked():
    rng = np.random.default_rng(2)
    for length in (110, 130):
        found = hard_maze(rng, 30, length)
        q, a = found.question, found.answer
        assert q.shape == (30, 30) and found.path_length >= length
        start, goal = tuple(np.argwhere(q == START)[0]), tuple(np.argwhere(q == GOAL)[0])
        assert steps(q, start, goal) == found.path_length  # S and G this far apart, no shortcut
        assert (a == PATH).sum() == found.path_length - 1
        assert ((a == q) | ((q == OPEN) & (a == PATH))).all()


def test_maze_hard_task_is_30x30_with_long_paths():
    data = make_task(TaskOptions("maze-hard", 2, 1, seed=1))
    assert data.info.grid_shape == (30, 30) and data.info.display == "maze"
    assert ((data.train.labels == PATH).sum(axis=1) >= 109).all()


def test_generated_csvs_carry_the_rating(tmp_path):
    rows = read_puzzle_csv(generate_sudoku_csv(tmp_path / "s.csv", 1, seed=4, min_rating=20), 81)
    for question, rating in zip(rows.questions, rows.ratings):
        digits = np.where(question == ord("."), 0, question.astype(int) - ord("0")).reshape(9, 9)
        assert rate_puzzle(digits) == (1, rating) and rating >= 20
    mazes = read_puzzle_csv(generate_maze_csv(tmp_path / "m.csv", 1, seed=4, min_path_length=120), 900)
    answer = bytes(mazes.answers[0]).decode()
    assert mazes.ratings[0] >= 120 and answer.count("o") == mazes.ratings[0] - 1
    with pytest.raises(ConfigError, match="min_blanks"):
        generate_sudoku_csv(tmp_path / "x.csv", 1, min_blanks=70)
