"""Where a sequence's cells go on screen: the crop to the puzzle and the thin EOS frame.

Why: on the official 30×30 canvas a 5×5 puzzle is 25 cells among 900. The viewer shows
only the bounding box of the puzzle (cells that are not PAD in the input or the label),
and draws rows and columns that hold nothing but EOS/PAD as thin strips, so the puzzle
reads as 5×5 while every scored cell — EOS included — stays visible and clickable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hrm_studio.data.grid import EOS, IGNORE, PAD

THIN = 0.25  # width of an EOS-only row/column, as a share of a cell


@dataclass(frozen=True)
class GridGeometry:
    """The visible window onto a rows × cols grid, and which of its lines are thin."""

    grid_rows: int
    grid_cols: int
    row_start: int
    row_stop: int
    col_start: int
    col_stop: int
    thin_rows: tuple[bool, ...]   # per visible row
    thin_cols: tuple[bool, ...]   # per visible column

    @property
    def rows(self) -> int:
        return self.row_stop - self.row_start

    @property
    def cols(self) -> int:
        return self.col_stop - self.col_start

    @property
    def shape_text(self) -> str:
        """'H×W' of the puzzle itself (thin frame lines not counted)."""
        return f"{self.thin_rows.count(False)}×{self.thin_cols.count(False)}"

    def sizes(self, cell: float) -> tuple[np.ndarray, np.ndarray]:
        """Row heights and column widths in pixels for a full cell of `cell` pixels."""
        heights = np.array([cell * THIN if thin else cell for thin in self.thin_rows])
        widths = np.array([cell * THIN if thin else cell for thin in self.thin_cols])
        return heights, widths

    def offsets(self, cell: float) -> tuple[np.ndarray, np.ndarray]:
        """Top edge of every visible row and left edge of every visible column, plus the far edges."""
        heights, widths = self.sizes(cell)
        return np.concatenate([[0.0], np.cumsum(heights)]), np.concatenate([[0.0], np.cumsum(widths)])

    def extent(self, cell: float) -> tuple[float, float]:
        """(width, height) in pixels of the whole visible grid."""
        heights, widths = self.sizes(cell)
        return float(widths.sum()), float(heights.sum())

    def cell_at(self, x: float, y: float, cell: float) -> tuple[int, int] | None:
        """Grid (row, col) under pixel (x, y) of the drawn grid, None outside it."""
        tops, lefts = self.offsets(cell)
        if not (0 <= y < tops[-1] and 0 <= x < lefts[-1]):
            return None
        r = int(np.searchsorted(tops, y, side="right")) - 1
        c = int(np.searchsorted(lefts, x, side="right")) - 1
        return self.row_start + r, self.col_start + c

    def visible_index(self) -> np.ndarray:
        """Sequence positions of the visible cells, as an int [rows, cols] array."""
        r = np.arange(self.row_start, self.row_stop)[:, None]
        c = np.arange(self.col_start, self.col_stop)[None, :]
        return r * self.grid_cols + c


def grid_geometry(grid_shape: tuple[int, int] | list[int], inputs: np.ndarray, labels: np.ndarray,
                  frame: bool = True) -> GridGeometry:
    """Crop to the cells that are not PAD in `inputs` or `labels`; thin EOS-only lines when `frame`."""
    rows, cols = int(grid_shape[0]), int(grid_shape[1])
    inp = np.asarray(inputs).reshape(rows, cols)
    lab = np.asarray(labels).reshape(rows, cols)
    lab = np.where(lab == IGNORE, PAD, lab)
    used = (inp != PAD) | (lab != PAD)
    if not used.any():
        return GridGeometry(rows, cols, 0, rows, 0, cols, (False,) * rows, (False,) * cols)
    rs, cs = np.flatnonzero(used.any(axis=1)), np.flatnonzero(used.any(axis=0))
    r0, r1, c0, c1 = int(rs[0]), int(rs[-1]) + 1, int(cs[0]), int(cs[-1]) + 1
    if frame:
        content = (inp != PAD) & (inp != EOS) | (lab != PAD) & (lab != EOS)
        thin_rows = tuple(not content[r, c0:c1].any() for r in range(r0, r1))
        thin_cols = tuple(not content[r0:r1, c].any() for c in range(c0, c1))
    else:
        thin_rows, thin_cols = (False,) * (r1 - r0), (False,) * (c1 - c0)
    return GridGeometry(rows, cols, r0, r1, c0, c1, thin_rows, thin_cols)
