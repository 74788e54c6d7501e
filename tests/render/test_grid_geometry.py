"""grid_geometry: the crop to the puzzle, the thin EOS frame, and pixel → cell lookup."""

from __future__ import annotations

import numpy as np
import pytest

from hrm_studio.data.grid import EOS, IGNORE, PAD
from hrm_studio.render.grid_geometry import THIN, grid_geometry


def canvas_puzzle(size: int = 30, rows: int = 5, cols: int = 5, top: int = 0, left: int = 0) -> np.ndarray:
    """A rows×cols colour grid with its EOS row/column, on a PAD canvas (the official layout)."""
    grid = np.full((size, size), PAD, np.int32)
    grid[top:top + rows, left:left + cols] = 2 + np.arange(rows * cols).reshape(rows, cols) % 10
    grid[top + rows, left:left + cols + 1] = EOS
    grid[top:top + rows + 1, left + cols] = EOS
    return grid.reshape(-1)


def test_canvas_crop_reads_as_the_puzzle_with_a_thin_frame():
    seq = canvas_puzzle()
    g = grid_geometry((30, 30), seq, seq, frame=True)
    assert (g.rows, g.cols) == (6, 6)          # 5×5 puzzle + its EOS row and column
    assert g.shape_text == "5×5"
    assert g.thin_rows == (False,) * 5 + (True,)
    assert g.thin_cols == (False,) * 5 + (True,)
    width, height = g.extent(24)
    assert width == height == pytest.approx(5 * 24 + 24 * THIN)
    assert g.visible_index()[0, 0] == 0 and g.visible_index()[5, 5] == 5 * 30 + 5


def test_crop_follows_an_off_centre_puzzle_and_ignores_unscored_labels():
    seq = canvas_puzzle(rows=3, cols=4, top=7, left=11)
    labels = np.where(seq == PAD, IGNORE, seq)  # IGNORE where not scored must not widen the crop
    g = grid_geometry((30, 30), seq, labels)
    assert (g.row_start, g.row_stop, g.col_start, g.col_stop) == (7, 11, 11, 16)
    assert g.shape_text == "3×4"


def test_without_frame_every_line_is_full_size():
    seq = canvas_puzzle()
    g = grid_geometry((30, 30), seq, seq, frame=False)
    assert not any(g.thin_rows) and not any(g.thin_cols)
    assert g.shape_text == "6×6"
    assert g.extent(10) == (60.0, 60.0)


def test_cell_at_maps_pixels_to_grid_cells_including_thin_lines():
    seq = canvas_puzzle(top=2, left=3)
    g = grid_geometry((30, 30), seq, seq)
    assert g.cell_at(0, 0, 24) == (2, 3)
    assert g.cell_at(24 * 4 + 23, 1, 24) == (2, 7)               # last full column
    assert g.cell_at(24 * 5 + 2, 24 * 5 + 2, 24) == (7, 8)       # inside the thin EOS corner
    assert g.cell_at(24 * 5 + 24 * THIN, 0, 24) is None          # just past the right edge
    assert g.cell_at(-1, 5, 24) is None


def test_an_empty_grid_shows_everything():
    empty = np.zeros(16, np.int32)
    g = grid_geometry((4, 4), empty, empty)
    assert (g.rows, g.cols) == (4, 4) and g.shape_text == "4×4"
