"""draw_grid: cell colours, thin EOS lines, wrong / changed / confidence / dim marks, labels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageFont

from hrm_studio.data.grid import COLOUR_VOCAB_LABELS, EOS, PAD
from hrm_studio.render.grid_geometry import THIN, grid_geometry
from hrm_studio.render.grid_image import _has_glyph, draw_grid, plain_text, ui_font
from hrm_studio.render.grid_style import GridStyle, hex_to_rgb

CELL = 24
COLOUR_TASK = {"display": "colour", "vocab_labels": list(COLOUR_VOCAB_LABELS)}
SUDOKU_TASK = {"display": "sudoku", "vocab_labels": ["PAD", "_", "1", "2", "3", "4"]}


def framed_3x3() -> np.ndarray:
    """A 3×3 colour grid (colours 0..8) with its EOS row and column, on a 5×5 PAD canvas."""
    grid = np.full((5, 5), PAD, np.int32)
    grid[:3, :3] = 2 + np.arange(9).reshape(3, 3)
    grid[3, :4] = grid[:4, 3] = EOS
    return grid.reshape(-1)


def setup(seq: np.ndarray | None = None):
    seq = framed_3x3() if seq is None else seq
    return seq, grid_geometry((5, 5), seq, seq, frame=True), GridStyle.for_task(COLOUR_TASK)


def box(row: int, col: int, image_cell: int = CELL) -> tuple[int, int, int, int]:
    """Inside pixels (x0, y0, x1, y1) of a full-size cell of the framed grid."""
    return col * image_cell + 1, row * image_cell + 1, (col + 1) * image_cell - 1, (row + 1) * image_cell - 1


def pixels(image, b) -> set[tuple[int, int, int]]:
    x0, y0, x1, y1 = b
    return {image.getpixel((x, y)) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)}


def test_size_follows_geometry_with_thin_eos_lines():
    seq, g, style = setup()
    image = draw_grid(seq, g, style, CELL)
    assert image.size == (3 * CELL + int(CELL * THIN) + 1,) * 2
    assert image.getpixel((3 * CELL + 2, CELL // 2)) == hex_to_rgb(style.fill(EOS))  # thin EOS column


def test_every_cell_has_its_tokens_colour_and_a_grid_line_between():
    seq, g, style = setup()
    image = draw_grid(seq, g, style, CELL)
    for r in range(3):
        for c in range(3):
            assert image.getpixel((c * CELL + CELL // 2, r * CELL + CELL // 2)) == hex_to_rgb(style.fill(2 + 3 * r + c))
    assert image.getpixel((CELL, CELL // 2)) == hex_to_rgb(style.marks["grid_line"])


def test_a_wrong_cell_shows_the_wrong_mark_and_a_right_cell_does_not():
    seq, g, style = setup()
    wrong = np.zeros_like(seq, bool)
    wrong[1 * 5 + 2] = True                      # row 1, col 2
    image = draw_grid(seq, g, style, CELL, wrong=wrong)
    mark = hex_to_rgb(style.marks["wrong"])
    x0, y0, x1, y1 = box(1, 2)
    assert image.getpixel((x0, y0)) == mark      # outline
    assert image.getpixel(((x0 + x1) // 2, (y0 + y1) // 2)) == mark  # the cross
    for r in range(3):
        for c in range(3):
            if (r, c) != (1, 2):
                assert mark not in pixels(image, box(r, c))


def test_a_wrong_thin_eos_cell_is_filled_with_the_mark():
    seq, g, style = setup()
    wrong = np.zeros_like(seq, bool)
    wrong[0 * 5 + 3] = True                      # the EOS cell right of row 0
    image = draw_grid(seq, g, style, CELL, wrong=wrong)
    assert image.getpixel((3 * CELL + 2, CELL // 2)) == hex_to_rgb(style.marks["wrong"])
    assert image.getpixel((3 * CELL + 2, CELL + CELL // 2)) == hex_to_rgb(style.fill(EOS))


def test_changed_cells_are_outlined_in_the_changed_colour():
    seq, g, style = setup()
    changed = np.zeros_like(seq, bool)
    changed[0] = True
    image = draw_grid(seq, g, style, CELL, changed=changed)
    mark = hex_to_rgb(style.marks["changed"])
    assert image.getpixel((1, 1)) == mark
    assert mark not in pixels(image, box(0, 1))


def test_low_confidence_cells_are_darker_and_dimmed_cells_fade():
    seq, g, style = setup()
    confidence = np.ones(seq.shape, np.float16)
    confidence[1] = 0.1                          # row 0, col 1
    image = draw_grid(seq, g, style, CELL, confidence=confidence)
    sure, unsure = (image.getpixel((c * CELL + CELL // 2, CELL // 2)) for c in (2, 1))
    assert sure == hex_to_rgb(style.fill(seq[2]))
    assert sum(unsure) < sum(hex_to_rgb(style.fill(seq[1])))
    dim = np.zeros_like(seq, bool)
    dim[5] = True                                # row 1, col 0 (colour 3, bright green)
    faded = draw_grid(seq, g, style, CELL, dim=dim).getpixel((CELL // 2, CELL + CELL // 2))
    assert faded != hex_to_rgb(style.fill(seq[5]))


def test_sudoku_digits_are_drawn_by_default_and_blanks_are_not():
    seq = np.array([2, 3, 1, 5], np.int32)      # "1", "2", blank, "4"
    g = grid_geometry((2, 2), seq, seq, frame=False)
    style = GridStyle.for_task(SUDOKU_TASK)
    with_text = draw_grid(seq, g, style, CELL)
    without = draw_grid(seq, g, style, CELL, show_text=False)
    assert len(pixels(with_text, box(0, 0))) > 1           # ink on the cell
    assert pixels(without, box(0, 0)) == {hex_to_rgb(style.fill(2))}
    assert pixels(with_text, box(1, 0)) == {hex_to_rgb(style.fill(1))}  # blank "_" stays empty


def test_mismatched_arrays_are_refused_plainly():
    seq, g, style = setup()
    with pytest.raises(ValueError, match="25"):
        draw_grid(seq[:10], g, style)
    with pytest.raises(ValueError, match="wrong has 3 cells"):
        draw_grid(seq, g, style, wrong=np.zeros(3, bool))


@pytest.mark.parametrize("font", [ui_font(14), ImageFont.load_default(size=14)], ids=["ui", "pillow"])
def test_symbols_a_font_lacks_are_spelled_out(font):
    text = plain_text("5×5 · exact ✓ ✗", font)
    assert all(_has_glyph(font, ch) for ch in text if ch != " ")


def test_a_wrong_digit_is_outlined_but_stays_readable():
    seq = np.array([2, 3, 1, 5], np.int32)
    g = grid_geometry((2, 2), seq, seq, frame=False)
    style = GridStyle.for_task(SUDOKU_TASK)
    image = draw_grid(seq, g, style, CELL, wrong=np.array([True, False, False, False]))
    x0, y0, x1, y1 = box(0, 0)
    assert image.getpixel((x0, y0)) == hex_to_rgb(style.marks["wrong"])
    centre = pixels(image, (x0 + 6, y0 + 6, x1 - 6, y1 - 6))
    assert hex_to_rgb(style.marks["wrong"]) not in centre          # no cross over the digit
    assert hex_to_rgb(style.text_colour(2)) in centre
