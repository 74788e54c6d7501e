"""sudoku-4x4 and sudoku-9x9: fill the blanks. Every puzzle has exactly one solution.

Tokens follow the official Sudoku dataset: PAD 0, blank cell 1, digit d → d + 1.
The input shows the givens and blanks; the label is the whole solution (every cell
scored, no EOS frame), so a model that copies the givens still has the blanks to learn.

4×4: there are only 288 solved grids, so we list them all (the solver enumerates
them) and, for the requested number of blanks, every blank pattern that leaves a
unique solution (computed for the 12 grids whose first row is 1 2 3 4; digit
relabelling gives the rest). Puzzles are drawn uniformly from that exact list, so the
number of distinct puzzles is known.

9×9: each puzzle starts from a freshly searched random solution (re-used for a few
puzzles under random symmetries, which keeps generation fast) and random blank
positions, kept only if the solver finds a single solution (rejection sampling:
uniform over blank patterns with a unique answer). Above ``_REJECTION_LIMIT`` blanks,
random patterns are almost never unique, so we reach the limit that way and then dig
further one cell at a time, keeping uniqueness (no longer uniform, and slower: about
0.4 ms a puzzle at 40 blanks, 1 ms at 45, 2.5 ms at 50, 11 ms at 55, the maximum).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import permutations

import numpy as np

from hrm_studio.data.tasks.spec import PatternSource, TaskSpec
from hrm_studio.data.tasks.sudoku_solver import count_solutions, find_solutions, random_solution

BLANK = 1
DIGIT_OFFSET = 1  # digit d → token d + 1
PATTERN = "sudoku"
_REJECTION_LIMIT = 45
_PUZZLES_PER_SOLUTION = 8  # 9×9: solved grids re-used (under random symmetries) this often


def vocab_labels(n: int) -> tuple[str, ...]:
    return ("PAD", "_") + tuple(str(d) for d in range(1, n + 1))


def random_symmetry(rng: np.random.Generator, grid: np.ndarray) -> np.ndarray:
    """``grid`` (digits 1..n) under a random validity-preserving transform.

    Relabels digits, shuffles bands / stacks and rows / columns inside them, and
    transposes half the time: each keeps every row, column and box a permutation.
    """
    n = grid.shape[0]
    box = int(round(n**0.5))

    def line_order() -> np.ndarray:
        bands = rng.permutation(box)
        return np.concatenate([band * box + rng.permutation(box) for band in bands])

    out = grid[line_order()][:, line_order()]
    if rng.random() < 0.5:
        out = out.T
    relabel = np.concatenate([[0], rng.permutation(n) + 1])
    return relabel[out]


def all_4x4_solutions() -> np.ndarray:
    """All 288 solved 4×4 grids, [288, 4, 4] digits 1..4, in lexicographic order."""
    grids = np.stack(find_solutions(np.zeros((4, 4), dtype=np.int64), limit=1000))
    flat = grids.reshape(len(grids), 16)
    return grids[np.lexsort(flat.T[::-1])]


@dataclass
class Sudoku4x4Source:
    """Uniform draws from the exact list of unique-solution 4×4 puzzles with ``blanks`` blanks."""

    blanks: int
    reps: np.ndarray = field(init=False)  # [R, 16] solutions with first row 1 2 3 4
    masks: list[np.ndarray] = field(init=False)  # per rep: given-cell bitmasks that are unique
    perms: np.ndarray = field(init=False)  # [24, 5] digit relabellings (index 0 = blank)

    def __post_init__(self) -> None:
        sols = all_4x4_solutions().reshape(-1, 16)
        self.reps = sols[(sols[:, :4] == [1, 2, 3, 4]).all(axis=1)]
        cell_bits = (1 << np.arange(16)).astype(np.uint16)
        everything = np.arange(1 << 16, dtype=np.uint32)
        popcount = ((everything[:, None] >> np.arange(16)) & 1).sum(axis=1)
        givens = everything[popcount == 16 - self.blanks].astype(np.uint16)
        self.masks = []
        for rep in self.reps:
            # cells where each other solution agrees with this one, as 16-bit masks
            agree = np.bitwise_or.reduce(np.where(sols == rep, cell_bits, 0), axis=1)
            others = agree[agree != 0xFFFF].astype(np.uint16)
            ambiguous = ((others[None, :] & givens[:, None]) == givens[:, None]).any(axis=1)
            self.masks.append(givens[~ambiguous].astype(np.int64))
        self.perms = np.array([(0,) + tuple(d + 1 for d in p) for p in permutations(range(4))])

    def capacity(self, pattern: str) -> int:
        return len(self.perms) * sum(len(m) for m in self.masks)

    def sample(
        self, rng: np.random.Generator, pattern: str, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        sizes = np.array([len(m) for m in self.masks])
        if sizes.sum() == 0:
            raise ValueError("no unique 4x4 puzzles with this many blanks")
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        all_masks = np.concatenate(self.masks)
        picks = rng.integers(0, len(self.perms) * offsets[-1], size=n)
        perm_idx, flat = np.divmod(picks, offsets[-1])
        rep_idx = np.searchsorted(offsets, flat, side="right") - 1
        solutions = self.perms[perm_idx[:, None], self.reps[rep_idx]]  # digits 1..4
        given = (all_masks[flat][:, None] >> np.arange(16)) & 1
        inputs = np.where(given == 1, solutions + DIGIT_OFFSET, BLANK)
        outputs = solutions + DIGIT_OFFSET
        return inputs.reshape(n, 4, 4).astype(np.int32), outputs.reshape(n, 4, 4).astype(np.int32)


@dataclass
class Sudoku9x9Source:
    """Unique-solution 9×9 puzzles with ``blanks`` blanks (see module docstring)."""

    blanks: int

    def capacity(self, pattern: str) -> None:
        return None  # astronomically many; duplicates are removed by the builder

    def sample(
        self, rng: np.random.Generator, pattern: str, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        inputs = np.empty((n, 9, 9), dtype=np.int32)
        outputs = np.empty((n, 9, 9), dtype=np.int32)
        base = random_solution(rng, 9)
        for k in range(n):
            if k % _PUZZLES_PER_SOLUTION == 0 and k:
                base = random_solution(rng, 9)
            solution = random_symmetry(rng, base)
            puzzle = self._blank_out(rng, solution)
            inputs[k] = np.where(puzzle == 0, BLANK, puzzle + DIGIT_OFFSET)
            outputs[k] = solution + DIGIT_OFFSET
        return inputs, outputs

    def _blank_out(self, rng: np.random.Generator, solution: np.ndarray) -> np.ndarray:
        """``solution`` with ``blanks`` cells set to 0, leaving a unique solution."""
        first = min(self.blanks, _REJECTION_LIMIT)
        while True:
            order = rng.permutation(81)
            flat = solution.reshape(-1).copy()
            flat[order[:first]] = 0
            if count_solutions(flat.reshape(9, 9)) != 1:
                continue
            blanked = first
            for cell in order[first:]:
                if blanked == self.blanks:
                    break
                digit = flat[cell]
                flat[cell] = 0
                if count_solutions(flat.reshape(9, 9)) == 1:
                    blanked += 1
                else:
                    flat[cell] = digit
            if blanked == self.blanks:
                return flat.reshape(9, 9)


def _spec(
    n: int,
    default_blanks: int,
    max_blanks: int,
    source: Callable[[int], PatternSource],
    description: str,
) -> TaskSpec:
    return TaskSpec(
        name=f"sudoku-{n}x{n}",
        description=description,
        default_grid_size=n,
        default_blanks=default_blanks,
        pattern_names=(PATTERN,),
        display="sudoku",
        vocab_labels=vocab_labels(n),
        eos=False,
        grid_sizes=(n,),
        blank_range=(1, max_blanks),
        canvas_ok=False,
        label_values=tuple(range(1 + DIGIT_OFFSET, n + 1 + DIGIT_OFFSET)),
        make_source=lambda grid_size, blanks, seed: source(blanks),
    )


SPECS: tuple[TaskSpec, ...] = (
    _spec(
        4, 8, 12, Sudoku4x4Source, "Solve 4x4 Sudoku puzzles (digits 1-4), each with one solution."
    ),
    _spec(9, 40, 55, Sudoku9x9Source, "Solve 9x9 Sudoku puzzles, each with one solution."),
)
