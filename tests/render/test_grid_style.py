"""GridStyle: the exact colours and labels each display kind draws with."""

from __future__ import annotations

import pytest

from hrm_studio.data.grid import COLOUR_VOCAB_LABELS
from hrm_studio.render.grid_style import GridStyle, luminance

ARC = ["#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00",
       "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25"]


def colour_style() -> GridStyle:
    return GridStyle.for_task({"display": "colour", "vocab_labels": list(COLOUR_VOCAB_LABELS)})


@pytest.mark.parametrize("colour", range(10))
def test_arc_colours_are_exact(colour):
    style = colour_style()
    assert style.fill(colour + 2).upper() == ARC[colour]
    assert style.label(colour + 2) == str(colour)


def test_colour_cells_read_without_text_and_sudoku_with_it():
    assert not colour_style().shows_text_by_default()
    sudoku = GridStyle.for_task({"display": "sudoku", "vocab_labels": ["PAD", "_", "1", "2", "3", "4"]})
    assert sudoku.shows_text_by_default()
    assert sudoku.label(3) == "2"
    assert luminance(sudoku.fill(3)) > 0.55 and sudoku.text_colour(3) == sudoku.marks["text_dark"]


def test_maze_symbols_have_their_own_colours():
    maze = GridStyle.for_task({"display": "maze", "vocab_labels": ["PAD", "#", " ", "S", "G", "o"]})
    assert len({maze.fill(t) for t in range(1, 6)}) == 5
    assert maze.text_colour(1) == maze.marks["text_light"]   # dark wall → light text


def test_unknown_tokens_and_labels_still_get_a_colour_and_a_name():
    style = GridStyle.for_task({"display": "colour", "vocab_labels": ["PAD", "mystery"]})
    assert style.fill(1).startswith("#") and len(style.fill(1)) == 7
    assert style.fill(99) == "#ff00ff" and style.label(99) == "99"


def test_marks_used_by_the_exports_exist():
    for name in ("wrong", "changed", "frame", "grid_line", "text_dark", "text_light"):
        assert colour_style().marks[name].startswith("#")
