"""sudoku-9x9-hard: minimal 9×9 Sudoku puzzles, rated by the solver's backtracks.

A puzzle is *minimal* when removing any one of its givens would leave more than one
solution. Random minimal puzzles have 21–28 givens (measured on 100: mostly 23–25), far
fewer than ``sudoku-9x9``'s 26 or more. How one is made: a fresh random solution; random
blank patterns up to 45 blanks until one leaves a unique solution (cheap, as ``sudoku-9x9``
does); then every remaining given, in random order, is removed if the solution stays unique
(the solver counts solutions up to 2). The result is minimal because a given kept once
would be kept again: removing cells only adds solutions.

``blanks`` here is a *minimum*: puzzles with fewer blanks are thrown away and dug again
(about 1 in 4 minimal puzzles reaches 58 blanks, 1 in 25 reaches 59: so the range stops at
58). The rating is ``rate_puzzle``'s count of dead ends in the search that proves the
solution unique (on 100 random minimal puzzles: median 26, 90th percentile 216, a few 0);
Sudoku-Extreme rates its puzzles by another solver's backtracks, so the scales differ.
Speed (measured, one core): ~70 ms CPU a puzzle, ~110 ms with 57+ blanks, ~280 ms with 58+.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hrm_studio.data.tasks.spec import TaskSpec
from hrm_studio.data.tasks.sudoku import BLANK, DIGIT_OFFSET, PATTERN, vocab_labels
from hrm_studio.data.tasks.sudoku_solver import (
    count_solutions,
    random_solution,
    rate_puzzle,
)

MAX_MIN_BLANKS = 58
_RANDOM_BLANKS = 45  # up to here random patterns are often unique: draw them whole
_MAX_TRIES = 10_000


@dataclass(frozen=True)
class HardSudoku:
    """A minimal puzzle (digits, 0 = blank), its solution and its backtrack rating."""

    puzzle: np.ndarray
    solution: np.ndarray
    rating: int

    @property
    def blanks(self) -> int:
        return int((self.puzzle == 0).sum())


def minimal_puzzle(rng: np.random.Generator, solution: np.ndarray) -> np.ndarray:
    """``solution`` dug down to a minimal puzzle with the same unique solution (0 = blank)."""
    while True:
        order = rng.permutation(81)
        flat = solution.reshape(-1).copy()
        flat[order[:_RANDOM_BLANKS]] = 0
        if count_solutions(flat.reshape(9, 9)) == 1:
            break
    for cell in order[_RANDOM_BLANKS:]:
        digit = flat[cell]
        flat[cell] = 0
        if count_solutions(flat.reshape(9, 9)) != 1:
            flat[cell] = digit
    return flat.reshape(9, 9)


def hard_sudoku(rng: np.random.Generator, min_blanks: int = 0, min_rating: int = 0) -> HardSudoku:
    """A minimal puzzle with at least ``min_blanks`` blanks and a rating of at least ``min_rating``.

    ValueError when ``_MAX_TRIES`` puzzles in a row miss the bounds (asking for too much).
    """
    if not 0 <= min_blanks <= MAX_MIN_BLANKS:
        raise ValueError(f"min_blanks must be between 0 and {MAX_MIN_BLANKS}, not {min_blanks}")
    for _ in range(_MAX_TRIES):
        solution = random_solution(rng, 9)
        puzzle = minimal_puzzle(rng, solution)
        if int((puzzle == 0).sum()) < min_blanks:
            continue
        _, rating = rate_puzzle(puzzle)
        if rating >= min_rating:
            return HardSudoku(puzzle, solution, rating)
    raise ValueError(
        f"no minimal puzzle with {min_blanks}+ blanks and rating {min_rating}+ in {_MAX_TRIES} tries"
    )


@dataclass(frozen=True)
class HardSudokuSource:
    """PatternSource over minimal 9×9 puzzles with at least ``min_blanks`` blanks."""

    min_blanks: int

    def capacity(self, pattern: str) -> None:
        return None  # astronomically many; duplicates are removed by the builder

    def sample(
        self, rng: np.random.Generator, pattern: str, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        inputs = np.empty((n, 9, 9), dtype=np.int32)
        outputs = np.empty((n, 9, 9), dtype=np.int32)
        for k in range(n):
            found = hard_sudoku(rng, self.min_blanks)
            inputs[k] = np.where(found.puzzle == 0, BLANK, found.puzzle + DIGIT_OFFSET)
            outputs[k] = found.solution + DIGIT_OFFSET
        return inputs, outputs


SPECS: tuple[TaskSpec, ...] = (
    TaskSpec(
        name="sudoku-9x9-hard",
        description="Solve minimal 9x9 Sudoku puzzles (about 22-26 givens; no given can be removed "
        "without losing the unique solution). blanks sets the least number of blanks.",
        default_grid_size=9,
        default_blanks=1,
        pattern_names=(PATTERN,),
        display="sudoku",
        vocab_labels=vocab_labels(9),
        eos=False,
        grid_sizes=(9,),
        blank_range=(1, MAX_MIN_BLANKS),
        canvas_ok=False,
        label_values=tuple(range(1 + DIGIT_OFFSET, 10 + DIGIT_OFFSET)),
        make_source=lambda grid_size, blanks, seed: HardSudokuSource(blanks),
    ),
)
