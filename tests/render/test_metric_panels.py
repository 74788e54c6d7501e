"""The Qt-free description of the Metrics plots: panels, curve keys, styles and series."""

from __future__ import annotations

import math

import pytest

from hrm_studio.render.metric_panels import (OPTIONAL_PANELS, PANELS, PATTERN_PANEL, TRAIN, VALIDATION, curve_keys,
                                             curve_style, grid_cell, held_out, legend_entries, panel, panel_curves,
                                             panels_to_draw, pattern_curves, series)
from hrm_studio.render.plot_colours import DARK, LIGHT
from hrm_studio.render.plot_ranges import epoch_step, nice_step, nice_ticks
from hrm_studio.runstore.keys import HistoryKey


def test_panels_are_named_once_and_every_curve_key_is_a_plain_history_key():
    names = [p.name for p in PANELS]
    assert len(set(names)) == len(names)
    assert OPTIONAL_PANELS == {"curriculum", "arc_pass_at_2"} and PATTERN_PANEL == "exact_match"
    keys = curve_keys(["copy", "increment"])
    assert len(set(keys)) == len(keys)
    assert all(type(k) is str for k in keys)     # plain strings, not enum members
    for member in (HistoryKey.LOSS, HistoryKey.VAL_LOSS, HistoryKey.VAL_EXACT, HistoryKey.LEARNING_RATE,
                   HistoryKey.CURRICULUM_DIFFICULTY, "val_mean_act_steps", "val_q_halt_accuracy",
                   "copy_accuracy", "val_increment_accuracy"):
        assert member in keys, member
    assert held_out(HistoryKey.TOKEN_ACCURACY) == HistoryKey.VAL_TOKEN_ACCURACY


def test_pattern_curves_join_the_exact_match_panel_only():
    assert [c.key for c in panel_curves(panel("exact_match"), ["a"])] == [
        "exact_match_accuracy", "val_exact_match_accuracy", "a_accuracy", "val_a_accuracy"]
    assert panel_curves(panel("loss"), ["a"]) == list(panel("loss").curves)
    specs = pattern_curves(["a", "b"])
    assert [(c.role, c.pattern) for c in specs] == [(TRAIN, 0), (VALIDATION, 0), (TRAIN, 1), (VALIDATION, 1)]
    with pytest.raises(KeyError):
        panel("nope")


def test_axes_and_grid_positions():
    assert panel("token_accuracy").y_label == "%" and panel("token_accuracy").y_tick_step == 20.0
    assert panel("loss").y_label == "" and panel("loss").y_tick_step is None
    assert [grid_cell(i) for i in range(4)] == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_optional_panels_only_with_their_key():
    plain = [{"epoch": 1, "loss": 1.0}]
    assert [p.name for p in panels_to_draw(plain)] == [p.name for p in PANELS if not p.optional]
    curriculum = [{"epoch": 1, "loss": 1.0, "curriculum_difficulty": 3}]
    assert [p.name for p in panels_to_draw(curriculum)] == [p.name for p in PANELS if p.name != "arc_pass_at_2"]
    arc = [{"epoch": 1, "loss": 1.0, HistoryKey.VAL_ARC_PASS_AT_2: 0.5}]
    assert [p.name for p in panels_to_draw(arc)] == [p.name for p in PANELS if p.name != "curriculum"]


def test_series_skips_missing_values_and_shows_fractions_as_percent():
    rows = [{"epoch": 1, "token_accuracy": 0.5, "wall_seconds": 2.0}, {"epoch": 2, "wall_seconds": 4.0},
            {"epoch": 3, "token_accuracy": 0.75, "wall_seconds": 6.0}, {"epoch": 4, "token_accuracy": math.nan}]
    spec = panel("token_accuracy")
    assert series(spec, "token_accuracy", rows) == ([1.0, 3.0], [50.0, 75.0])
    assert series(spec, "token_accuracy", rows, x_axis="wall")[0] == [2.0, 6.0]
    smoothed = series(spec, "token_accuracy", rows, smoothing=0.5)[1]
    assert smoothed[0] == 50.0 and 50.0 < smoothed[1] < 75.0
    loss = panel("loss")
    assert series(loss, "loss", [{"epoch": 1, "loss": 0.0}], log=True)[1][0] != 0.0   # NaN on a log axis


def test_styles_and_legend_follow_the_colour_roles():
    train, held = panel("loss").curves
    assert curve_style(train, LIGHT).colour == LIGHT.train and not curve_style(train, LIGHT).dashed
    assert curve_style(held, DARK).colour == DARK.validation
    copy_train, copy_held = pattern_curves(["copy"])
    assert curve_style(copy_train, LIGHT).colour == LIGHT.pattern(0) == curve_style(copy_held, LIGHT).colour
    assert curve_style(copy_held, LIGHT).dashed and not curve_style(copy_train, LIGHT).dashed
    texts = [e.text for e in legend_entries(["copy", "increment"], LIGHT)]
    assert texts[:2] == ["train", "held-out"] and "copy" in texts and "increment" in texts
    assert [e.text for e in legend_entries([], LIGHT)] == ["train", "held-out"]


def test_nice_ticks_and_steps():
    assert nice_step(100, 5) == 20 and nice_step(0.002, 5) == 0.0005 and nice_step(2.5, 5) == 0.5
    assert nice_ticks(0, 100, 20) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(1, 12, 2) == [2, 4, 6, 8, 10, 12]
    assert nice_ticks(0, 0.002) == [0, 0.0005, 0.001, 0.0015, 0.002]
    assert nice_ticks(-1, 1, 0.5) == [-1, -0.5, 0, 0.5, 1]
    assert epoch_step(11) == 2 and epoch_step(199) == 50
