"""The report's Pillow charts: one drawn curve per described key the history has, in its panel and colour."""

from __future__ import annotations

import numpy as np
from PIL import Image

from hrm_studio.render.chart_image import ChartCurve, ChartPanel, draw_charts, tick_text
from hrm_studio.render.grid_style import hex_to_rgb
from hrm_studio.render.metric_panels import (CurveStyle, curve_keys, curve_style, panel_curves, panels_to_draw)
from hrm_studio.render.metrics_chart import draw_metrics_chart, save_metrics_chart
from hrm_studio.render.plot_colours import LIGHT

PATTERNS = ["copy", "increment"]


def history(epochs: int = 8, curriculum: bool = True) -> list[dict]:
    """Every described key, with values far enough apart that no curve hides another."""
    rows = []
    for e in range(1, epochs + 1):
        t = e / epochs
        row = {"epoch": e, "wall_seconds": 1.5 * e, "loss": 2.0 - t, "val_loss": 1.0 - 0.8 * t,
               "token_accuracy": 0.3 + 0.6 * t, "val_token_accuracy": 0.1 + 0.3 * t,
               "exact_match_accuracy": 0.9 * t, "copy_accuracy": 0.05 + 0.3 * t, "increment_accuracy": 0.6,
               "learning_rate": 1e-3 * (1 - 0.5 * t), "mean_act_steps": 4 - 2 * t, "q_halt_accuracy": 0.2 + 0.7 * t}
        if e % 2 == 0:   # evaluated every second epoch
            row.update({"val_exact_match_accuracy": 0.6 * t, "val_copy_accuracy": 0.95,
                        "val_increment_accuracy": 0.4 * t, "val_mean_act_steps": 1.0, "val_q_halt_accuracy": 0.1})
        if curriculum:
            row["curriculum_difficulty"] = 2 + (e > epochs // 2)
        rows.append(row)
    return rows


def _near(pixels: np.ndarray, colour: str, tolerance: int = 40) -> int:
    """How many pixels are within `tolerance` (per channel) of `colour`."""
    target = np.array(hex_to_rgb(colour), dtype=int)
    return int((np.abs(pixels.astype(int) - target).max(axis=-1) <= tolerance).sum())


def test_one_drawn_curve_per_described_key_in_its_panel_and_colour(tmp_path):
    rows = history()
    path = tmp_path / "metrics.png"
    layout = save_metrics_chart(rows, PATTERNS, path, planned_epochs=10)
    expected = [k for k in curve_keys(PATTERNS) if any(k in r for r in rows)]
    assert list(layout.curves) == expected
    assert set(layout.panels) == {p.name for p in panels_to_draw(rows)}
    with Image.open(path) as image:
        assert image.size == layout.size
        pixels = np.asarray(image.convert("RGB"))
    for spec in panels_to_draw(rows):
        left, top, right, bottom = (int(round(v)) for v in layout.panels[spec.name])
        area = pixels[top:bottom, left:right]
        for curve in panel_curves(spec, PATTERNS):
            drawn = layout.curves[curve.key]
            assert drawn.panel == spec.name
            assert drawn.colour == curve_style(curve, LIGHT).colour and drawn.dashed == curve_style(curve, LIGHT).dashed
            assert len(drawn.points) == sum(curve.key in r for r in rows)
            for x, y in drawn.points:    # inside the plot area
                assert left - 1 <= x <= right + 1 and top - 1 <= y <= bottom + 1
            assert _near(area, drawn.colour) > 30, (spec.name, curve.key)
        # Nothing of a colour this panel does not use (other than the axes' greys).
        unused = {LIGHT.train, LIGHT.validation, *LIGHT.patterns[:2]} - {
            curve_style(c, LIGHT).colour for c in panel_curves(spec, PATTERNS)}
        for colour in unused:
            assert _near(area, colour, 25) < 5, (spec.name, colour)


def test_keys_missing_from_the_history_draw_nothing_and_plain_runs_keep_six_panels():
    rows = [{k: v for k, v in r.items() if not k.startswith("val_") and k != "curriculum_difficulty"}
            for r in history(4, curriculum=False)]
    image, layout = draw_metrics_chart(rows, PATTERNS)
    assert not any(k.startswith("val_") for k in layout.curves)
    assert len(layout.panels) == 6 and "curriculum" not in layout.panels
    with_curriculum, layout7 = draw_metrics_chart(history(4), PATTERNS)
    assert len(layout7.panels) == 7 and with_curriculum.height > image.height
    assert with_curriculum.width == image.width == 1200


def test_a_single_epoch_is_a_dot_and_dashes_alternate():
    rows = [{"epoch": 1, "loss": 1.0, "val_loss": 0.5}]
    image, layout = draw_metrics_chart(rows, [], planned_epochs=5)
    assert len(layout.curves["loss"].points) == 1
    pixels = np.asarray(image)
    x, y = (int(round(v)) for v in layout.curves["loss"].points[0])
    assert _near(pixels[y - 1:y + 2, x - 1:x + 2], LIGHT.train) > 0

    dashed = CurveStyle("#d62728", 2.0, True)
    chart = ChartPanel("p", "Dashed", (ChartCurve("k", "k", [0, 10], [0.5, 0.5], dashed),), (0, 10), (0, 1))
    image, layout = draw_charts([chart], LIGHT, width=400, panel_height=200)
    y = int(round(layout.curves["k"].points[0][1]))
    left, _, right, _ = (int(v) for v in layout.panels["p"])
    row = np.asarray(image)[y, left + 5:right - 5]
    red = np.abs(row.astype(int) - np.array(hex_to_rgb("#d62728"))).max(axis=-1) <= 60
    runs = np.flatnonzero(np.diff(red.astype(int)))
    assert red.any() and not red.all() and len(runs) >= 10    # many dashes, gaps between them


def test_tick_labels():
    assert tick_text(0, 0.5) == "0" and tick_text(1.5, 0.5) == "1.5" and tick_text(20, 20) == "20"
    assert tick_text(0.0015, 0.0005) == "0.0015" and tick_text(2e-5, 1e-5) == "2e-05"
