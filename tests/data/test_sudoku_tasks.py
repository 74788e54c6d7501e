"""sudoku-4x4 / sudoku-9x9: valid, consistent, unique puzzles; the solver; the 4×4 capacity."""

import itertools
import math

import numpy as np
import pytest

from hrm_studio.data import TASKS, TaskOptions, make_task
from hrm_studio.data.tasks.sudoku import all_4x4_solutions, random_symmetry
from hrm_studio.data.tasks.sudoku_solver import count_solutions, random_solution
from hrm_studio.errors import ConfigError

BLANK = 1


def is_valid_solution(grid: np.ndarray) -> bool:
    n = grid.shape[0]
    box = math.isqrt(n)
    digits = set(range(1, n + 1))
    units = [grid[r, :] for r in range(n)] + [grid[:, c] for c in range(n)]
    units += [
        grid[r : r + box, c : c + box].reshape(-1)
        for r in range(0, n, box)
        for c in range(0, n, box)
    ]
    return all(set(u.tolist()) == digits for u in units)


def reference_count(grid: np.ndarray, limit: int = 2) -> int:
    """An independent, deliberately plain solution counter (sets, fewest-options-first)."""
    n = grid.shape[0]
    box = math.isqrt(n)
    cells = {(r, c): int(grid[r, c]) for r in range(n) for c in range(n)}

    def options(r, c):
        used = {cells[(r, k)] for k in range(n)} | {cells[(k, c)] for k in range(n)}
        br, bc = r - r % box, c - c % box
        used |= {cells[(br + i, bc + j)] for i in range(box) for j in range(box)}
        return [d for d in range(1, n + 1) if d not in used]

    def count():
        empty = [rc for rc, v in cells.items() if v == 0]
        if not empty:
            return 1
        rc = min(empty, key=lambda x: len(options(*x)))
        total = 0
        for d in options(*rc):
            cells[rc] = d
            total += count()
            cells[rc] = 0
            if total >= limit:
                break
        return total

    for (r, c), v in cells.items():  # givens must not clash
        if v:
            cells[(r, c)] = 0
            if v not in options(r, c):
                return 0
            cells[(r, c)] = v
    return count()


def check_split(puzzles, n, blanks):
    side = int(n)
    for inp, lab in zip(puzzles.inputs, puzzles.labels):
        solution = lab.reshape(side, side) - 1  # token d + 1 → digit d
        assert is_valid_solution(solution)
        given = inp != BLANK
        assert (inp == BLANK).sum() == blanks
        np.testing.assert_array_equal(inp[given], lab[given])  # givens agree with the solution
        puzzle = np.where(given, inp - 1, 0).reshape(side, side)
        assert reference_count(puzzle) == 1  # unique


def test_there_are_288_valid_4x4_solutions():
    sols = all_4x4_solutions()
    assert sols.shape == (288, 4, 4)
    assert len({s.tobytes() for s in sols}) == 288
    assert all(is_valid_solution(s) for s in sols)
    assert count_solutions(np.zeros((4, 4), int), limit=1000) == 288


def test_solver_counts_agree_with_reference():
    rng = np.random.default_rng(0)
    solution = random_solution(rng, 9)
    assert is_valid_solution(solution)
    assert count_solutions(solution) == 1
    broken = solution.copy()
    broken[0, 0] = broken[0, 1]
    assert count_solutions(broken) == 0
    for blanks in (30, 50, 60):
        puzzle = solution.reshape(-1).copy()
        puzzle[rng.permutation(81)[:blanks]] = 0
        puzzle = puzzle.reshape(9, 9)
        assert count_solutions(puzzle) == reference_count(puzzle)


def test_random_symmetry_keeps_grids_valid():
    rng = np.random.default_rng(1)
    base = random_solution(rng, 9)
    moved = [random_symmetry(rng, base) for _ in range(20)]
    assert all(is_valid_solution(g) for g in moved)
    assert len({g.tobytes() for g in moved}) == 20


def test_sudoku_4x4_puzzles():
    data = make_task(TaskOptions("sudoku-4x4", 300, 60, seed=2))
    info = data.info
    assert (info.vocab_size, info.seq_len, info.grid_shape, info.display) == (
        6,
        16,
        (4, 4),
        "sudoku",
    )
    assert info.vocab_labels == ["PAD", "_", "1", "2", "3", "4"]
    assert info.pattern_names == ["sudoku"] and info.ceiling == 1.0
    for split, n in ((data.train, 300), (data.test, 60)):
        assert split.inputs.shape == (n, 16) and split.inputs.dtype == np.int32
        assert ((split.inputs >= 1) & (split.inputs <= 5)).all()
        assert ((split.labels >= 2) & (split.labels <= 5)).all()  # every cell labelled
        check_split(split, 4, blanks=8)


@pytest.mark.parametrize("blanks", [1, 12])
def test_sudoku_4x4_blanks_setting(blanks):
    data = make_task(TaskOptions("sudoku-4x4", 40, 10, blanks=blanks))
    check_split(data.train, 4, blanks)


def test_sudoku_4x4_capacity_is_exact():
    """Count unique 12-blank puzzles by brute force over every mask and solution."""
    sols = all_4x4_solutions().reshape(288, 16)
    expected = 0
    for givens in itertools.combinations(range(16), 4):
        _, counts = np.unique(sols[:, list(givens)], axis=0, return_counts=True)
        expected += int((counts == 1).sum())  # givens shared with no other solution
    source = TASKS["sudoku-4x4"].make_source(4, 12, 0)
    assert source.capacity("sudoku") == expected
    assert TASKS["sudoku-4x4"].make_source(4, 1, 0).capacity("sudoku") == 288 * 16
    with pytest.raises(ConfigError, match=str(expected)):
        make_task(TaskOptions("sudoku-4x4", expected, 1, blanks=12))


def test_sudoku_9x9_puzzles():
    data = make_task(TaskOptions("sudoku-9x9", 16, 4, seed=1))
    info = data.info
    assert (info.vocab_size, info.seq_len, info.grid_shape) == (11, 81, (9, 9))
    assert info.vocab_labels == ["PAD", "_"] + [str(d) for d in range(1, 10)]
    check_split(data.train, 9, blanks=40)
    check_split(data.test, 9, blanks=40)
    assert len({s.tobytes() for s in data.train.labels}) > 1


def test_sudoku_9x9_many_blanks_still_unique():
    data = make_task(TaskOptions("sudoku-9x9", 4, 1, blanks=52, seed=4))
    check_split(data.train, 9, blanks=52)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(task="sudoku-4x4", encoding="canvas"), "canvas"),
        (dict(task="sudoku-4x4", grid_size=5), "grid_size"),
        (dict(task="sudoku-4x4", blanks=13), "blanks"),
        (dict(task="sudoku-9x9", blanks=70), "blanks"),
    ],
)
def test_bad_sudoku_options(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        make_task(TaskOptions(train_size=5, test_size=1, **kwargs))
