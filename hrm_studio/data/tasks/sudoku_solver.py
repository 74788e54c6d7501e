"""A small exact Sudoku solver: counts solutions (up to a limit) and fills random grids.

Generation needs "is this puzzle's solution unique?" thousands of times, so the search
keeps one bitmask of used digits per row, column and box and always branches on the
empty cell with the fewest candidates; puzzles with a unique solution and ~40 blanks
are then solved with almost no backtracking. Works for 4×4 and 9×9 (any n = box²).

The same search rates a puzzle: ``rate_puzzle`` counts its dead ends (an empty cell left with
no candidate digit, each one a guess undone) over the whole search that proves the solution
unique. The branching cell depends only on candidate counts and position, so the rating does
not change when the digits are relabelled.
"""

from __future__ import annotations

import math

import numpy as np


def _box_size(n: int) -> int:
    box = math.isqrt(n)
    if box * box != n:
        raise ValueError(f"a Sudoku side must be a square number, not {n}")
    return box


def count_solutions(grid: np.ndarray, limit: int = 2) -> int:
    """Number of completions of ``grid`` (0 = blank, 1..n = digit), counting at most ``limit``."""
    return len(find_solutions(grid, limit))


def find_solutions(grid: np.ndarray, limit: int = 2) -> list[np.ndarray]:
    """Up to ``limit`` completions of ``grid`` (0 = blank, 1..n = digit), as n×n arrays."""
    return _Search(np.asarray(grid), rng=None).run(limit)


def rate_puzzle(grid: np.ndarray) -> tuple[int, int]:
    """(solutions counted up to 2, dead ends met while searching for them): the backtrack rating."""
    search = _Search(np.asarray(grid), rng=None)
    return len(search.run(2)), search.dead_ends


def random_solution(rng: np.random.Generator, n: int = 9) -> np.ndarray:
    """A uniformly shuffled search's first complete n×n grid (digits 1..n)."""
    return _Search(np.zeros((n, n), dtype=np.int64), rng=rng).run(1)[0]


class _Search:
    """Depth-first search over digit bitmasks; ``rng`` shuffles the branch order."""

    def __init__(self, grid: np.ndarray, rng: np.random.Generator | None) -> None:
        n = grid.shape[0]
        if grid.shape != (n, n):
            raise ValueError(f"expected a square grid, got shape {grid.shape}")
        box = _box_size(n)
        self.n = n
        self.full = (1 << n) - 1
        self.rng = rng
        self.rows = [0] * n
        self.cols = [0] * n
        self.boxes = [0] * n
        self.values = [int(v) for v in grid.reshape(-1)]
        self.empties: list[tuple[int, int, int, int]] = []
        self.consistent = True
        for i, v in enumerate(self.values):
            r, c = divmod(i, n)
            b = (r // box) * box + c // box
            if v == 0:
                self.empties.append((i, r, c, b))
                continue
            bit = 1 << (v - 1)
            if not 1 <= v <= n or (self.rows[r] | self.cols[c] | self.boxes[b]) & bit:
                self.consistent = False
            self.rows[r] |= bit
            self.cols[c] |= bit
            self.boxes[b] |= bit
        self.found: list[np.ndarray] = []
        self.dead_ends = 0

    def run(self, limit: int) -> list[np.ndarray]:
        if self.consistent:
            self.limit = limit
            self._descend(self.empties)
        return self.found

    def _descend(self, empties: list[tuple[int, int, int, int]]) -> bool:
        """True when enough solutions were found and the search should stop."""
        if not empties:
            self.found.append(np.array(self.values, dtype=np.int64).reshape(self.n, self.n))
            return len(self.found) >= self.limit
        rows, cols, boxes, full = self.rows, self.cols, self.boxes, self.full
        best = -1
        best_cand = 0
        best_count = self.n + 1
        for k, (_, r, c, b) in enumerate(empties):
            cand = full & ~(rows[r] | cols[c] | boxes[b])
            count = cand.bit_count()
            if count < best_count:
                if count == 0:
                    self.dead_ends += 1
                    return False
                best, best_cand, best_count = k, cand, count
                if count == 1:
                    break
        i, r, c, b = empties[best]
        rest = empties[:best] + empties[best + 1 :]
        bits = []
        cand = best_cand
        while cand:
            bit = cand & -cand
            bits.append(bit)
            cand ^= bit
        if self.rng is not None and len(bits) > 1:
            bits = [bits[j] for j in self.rng.permutation(len(bits))]
        for bit in bits:
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
            self.values[i] = bit.bit_length()
            done = self._descend(rest)
            rows[r] &= ~bit
            cols[c] &= ~bit
            boxes[b] &= ~bit
            self.values[i] = 0
            if done:
                return True
        return False
