"""Exports of the prediction viewer: panel PNG, reasoning-steps GIF, contact sheet PNG."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from hrm_studio.render import puzzle_exports
from hrm_studio.render.puzzle_exports import (
    MAX_SHEET_PUZZLES, contact_sheet, panel_caption, puzzle_panel, save_contact_sheet, save_puzzle_png,
    save_steps_gif, step_caption, step_frames,
)
from hrm_studio.render.grid_image import _DIM_SHARE, blend
from hrm_studio.render.grid_style import GridStyle, hex_to_rgb
from tests.render.render_helpers import prediction_set

DISPLAYS = ("colour", "sudoku", "maze")


@pytest.fixture(scope="module")
def sets():
    return {display: prediction_set(display, n=4, steps=4) for display in DISPLAYS}


@pytest.mark.parametrize("display", DISPLAYS)
def test_panel_png_decodes_for_every_display(sets, tmp_path, display):
    path = save_puzzle_png(sets[display], 1, tmp_path / "panel.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 200 and image.height > 80
    assert sorted(os.listdir(tmp_path)) == ["panel.png"]   # no temporary file left behind


def test_panel_scales_with_the_cell_and_changes_with_the_segment(sets):
    ps = sets["colour"]
    small, big = puzzle_panel(ps, 1, cell=16), puzzle_panel(ps, 1, cell=32)
    assert big.width > small.width and big.height > small.height
    assert puzzle_panel(ps, 1, segment=0).tobytes() != puzzle_panel(ps, 1).tobytes()


def test_panel_caption_reports_the_puzzles_figures(sets):
    ps = sets["colour"]
    right, wrong = panel_caption(ps, 0, ps.steps - 1), panel_caption(ps, 1, ps.steps - 1)
    assert "exact ✓" in right and "token accuracy 100.0%" in right
    assert "exact ✗" in wrong and f"halts at segment 3/{ps.steps}" in wrong
    assert f"halt p={ps.halt_confidence()[1]:.2f}" in wrong


def test_step_captions_say_where_the_model_halts(sets):
    ps = sets["colour"]
    halt = int(ps.predictions.halt_step[0])
    captions = [step_caption(ps, 0, t) for t in range(ps.steps)]
    assert [("(model halts here)" in c) for c in captions] == [t + 1 == halt for t in range(ps.steps)]
    assert captions[0].startswith(f"segment 1/{ps.steps}") and "correct ✗" in captions[0]
    assert "correct ✓" in captions[-1] and "q_continue=" in captions[-1]


@pytest.mark.parametrize("display", DISPLAYS)
def test_steps_gif_has_one_equal_frame_per_segment_and_loops(sets, tmp_path, display):
    ps = sets[display]
    path = save_steps_gif(ps, 1, tmp_path / "steps.gif", frame_ms=250)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == ps.steps
        assert gif.info.get("loop") == 0 and gif.info.get("duration") == 250
        first = gif.size
        seen = []
        for t in range(gif.n_frames):
            gif.seek(t)
            assert gif.size == first
            seen.append(gif.convert("RGB").tobytes())
    assert len(set(seen)) == ps.steps                       # every segment looks different


def test_frames_are_padded_to_one_size(sets):
    sizes = {f.size for f in step_frames(sets["sudoku"], 0)}
    assert len(sizes) == 1


def test_contact_sheet_grows_with_the_number_of_puzzles(sets, tmp_path):
    ps = sets["colour"]
    one, two, four = (contact_sheet(ps, [0] * n) for n in (1, 2, 4))
    column = two.width - one.width
    assert column > 0 and four.width == one.width + 3 * column and four.height == one.height
    path = save_contact_sheet(ps, [0, 1, 2, 3], tmp_path / "sheet.PNG")
    with Image.open(path) as image:
        assert image.size == contact_sheet(ps, [0, 1, 2, 3]).size


def test_contact_sheet_refuses_too_many_or_no_puzzles(sets, tmp_path):
    ps = sets["maze"]
    with pytest.raises(ValueError, match=f"at most {MAX_SHEET_PUZZLES} puzzles; 33 were picked"):
        save_contact_sheet(ps, [0] * 33, tmp_path / "sheet.png")
    with pytest.raises(ValueError, match="at least one"):
        contact_sheet(ps, [])
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("call, name", [
    (lambda ps, p: save_puzzle_png(ps, 0, p), "panel.jpg"),
    (lambda ps, p: save_steps_gif(ps, 0, p), "steps.png"),
    (lambda ps, p: save_contact_sheet(ps, [0], p), "sheet"),
])
def test_unsupported_suffix_is_refused_plainly(sets, tmp_path, call, name):
    with pytest.raises(ValueError, match="can only be saved as a"):
        call(sets["colour"], tmp_path / name)
    assert not list(tmp_path.iterdir())


def test_bad_puzzle_or_segment_is_refused_plainly(sets, tmp_path):
    ps = sets["colour"]
    with pytest.raises(ValueError, match="no puzzle 9"):
        save_puzzle_png(ps, 9, tmp_path / "p.png")
    with pytest.raises(ValueError, match="no segment 4"):
        puzzle_panel(ps, 0, segment=4)


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(sets, tmp_path, monkeypatch):
    target = tmp_path / "panel.png"
    target.write_bytes(b"old picture")

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"half a pictu")
        raise OSError("disk full")

    monkeypatch.setattr(puzzle_exports.Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_puzzle_png(sets["colour"], 0, target)
    assert target.read_bytes() == b"old picture"
    assert sorted(os.listdir(tmp_path)) == ["panel.png"]


def test_unscored_truth_cells_show_the_input_faded():
    """IGNORE labels inside the puzzle must not be drawn as token -100 (the magenta fallback)."""
    ps = prediction_set("colour", n=2, steps=2)
    ps.puzzles.labels[0, :3] = -100
    style = GridStyle.for_task(ps.task)
    unknown = style.fill(-100)
    forbidden = {hex_to_rgb(unknown), blend(unknown, style.marks["grid_line"], _DIM_SHARE)}
    colours = {tuple(p) for p in np.asarray(puzzle_panel(ps, 0)).reshape(-1, 3)}
    assert not colours & forbidden
    faded_input = blend(style.fill(int(ps.puzzles.inputs[0, 0])), style.marks["grid_line"], _DIM_SHARE)
    assert faded_input in colours
