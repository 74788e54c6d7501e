"""The critical-step view as a Qt-free plot description: exact match and token accuracy after
every high-level update, segment boundaries drawn as dashed verticals.

Why a description and not a picture only: the headless report draws it with Pillow
(render/chart_image.py) and the window may draw the same curves with pyqtgraph, so the
curves, labels and colours are decided once, here. Takes plain arrays, so neither side needs
torch or the analysis package to draw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from hrm_studio.render.chart_image import ChartCurve, ChartPanel, draw_charts
from hrm_studio.render.metric_panels import PERCENT_TICK_STEP, CurveStyle, LegendEntry
from hrm_studio.render.plot_colours import LIGHT, PlotColours

__all__ = ["STEP_PANEL", "step_curve_legend", "step_curve_panel", "save_step_curve_chart"]

STEP_PANEL = "reasoning_steps"
BOUNDARY_KEY = "segment_boundary"


def step_curve_panel(exact: Sequence[float], token_accuracy: Sequence[float], steps_per_segment: int,
                     colours: PlotColours = LIGHT, *, count: int | None = None) -> ChartPanel:
    """One panel: x = high-level update 1…steps, y = % of puzzles exactly right and % of cells right."""
    exact_pct = [100.0 * float(v) for v in exact]
    token_pct = [100.0 * float(v) for v in token_accuracy]
    steps = len(exact_pct)
    xs = [float(i + 1) for i in range(steps)]
    boundary = CurveStyle(colours.cursor, 1.0, True)
    curves = [ChartCurve(f"{BOUNDARY_KEY}_{s}", "segment boundary", [b + 0.5, b + 0.5], [0.0, 100.0], boundary)
              for s, b in enumerate(range(steps_per_segment, steps, max(steps_per_segment, 1)))]
    curves += [ChartCurve("token_accuracy", "token accuracy", xs, token_pct, CurveStyle(colours.train, 2.0, False)),
               ChartCurve("exact", "exact match", xs, exact_pct, CurveStyle(colours.validation, 2.4, False))]
    title = "Accuracy after every high-level update"
    if count is not None:
        title += f" ({count} held-out puzzle{'s' if count != 1 else ''})"
    return ChartPanel(STEP_PANEL, title, tuple(curves), (0.5, steps + 0.5), (0.0, 100.0),
                      x_label="high-level update (dashed: segment boundary)", y_label="%",
                      x_step=_x_step(steps, steps_per_segment), y_step=PERCENT_TICK_STEP)


def _x_step(steps: int, steps_per_segment: int) -> float:
    """Every update while there are few, else segment ends (or every few segments)."""
    if steps <= 12:
        return 1.0
    per = max(steps_per_segment, 1)
    while steps / per > 12:
        per *= 2
    return float(per)


def step_curve_legend(colours: PlotColours = LIGHT) -> list[LegendEntry]:
    return [LegendEntry("exact match", colours.validation), LegendEntry("token accuracy", colours.train),
            LegendEntry("segment boundary", colours.cursor, dashed=True)]


def save_step_curve_chart(exact: Sequence[float], token_accuracy: Sequence[float], steps_per_segment: int,
                          path: str | Path, *, count: int | None = None, width: int = 900) -> Path:
    """Write the panel as a PNG on the light background; OSError when it cannot be written."""
    if len(exact) == 0 or len(exact) != len(token_accuracy) or not np.isfinite(np.asarray(exact, float)).all():
        raise ValueError("A step curve needs one finite exact-match value per step, as many as token accuracies.")
    panel = step_curve_panel(exact, token_accuracy, steps_per_segment, LIGHT, count=count)
    image, _ = draw_charts([panel], LIGHT, step_curve_legend(LIGHT), width=width, columns=1)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG", optimize=True)
    return path
