"""The Metrics tab's plots of a run's history as a Pillow picture, for the headless report.

The panels, curves, labels, colours and legend are render/metric_panels.py's, the same
description the window's pyqtgraph dashboard is built from; the axis ranges and tick steps
are render/plot_ranges.py's, as the dashboard fits them (epochs from 1 to the planned last
one, fractions on 0–100 %). So the report shows what the Metrics tab shows, with raw values
(no smoothing) on a linear axis, and needs no display.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from PIL import Image

from hrm_studio.render.chart_image import ChartCurve, ChartLayout, ChartPanel, draw_charts
from hrm_studio.render.metric_panels import (COLUMNS, X_AXES, curve_style, legend_entries, panel_curves,
                                             panels_to_draw, series)
from hrm_studio.render.plot_colours import LIGHT, PlotColours
from hrm_studio.render.plot_ranges import epoch_step, x_range, y_range

DEFAULT_WIDTH = 1200


def chart_panels(rows: Sequence[dict[str, Any]], patterns: Sequence[str], colours: PlotColours, *,
                 planned_epochs: int | None = None) -> list[ChartPanel]:
    """One ChartPanel per described panel the history calls for, fitted as the window fits them."""
    out = []
    for spec in panels_to_draw(rows):
        curves, all_x, all_y = [], [], []
        for curve in panel_curves(spec, patterns):
            xs, ys = series(spec, curve.key, rows)
            all_x += xs
            all_y += ys
            curves.append(ChartCurve(curve.key, curve.label, xs, ys, curve_style(curve, colours)))
        planned = max(planned_epochs or 1, *(int(x) for x in all_x)) if all_x else (planned_epochs or 1)
        xr = x_range(all_x, None, planned=float(planned), start=1.0)
        yr = y_range(all_y, None, percent=spec.percent, log=False)
        out.append(ChartPanel(spec.name, spec.title, tuple(curves), xr, yr, x_label=X_AXES["epoch"].lower(),
                              y_label=spec.y_label, x_step=epoch_step(xr[1] - xr[0]), y_step=spec.y_tick_step))
    return out


def draw_metrics_chart(rows: Sequence[dict[str, Any]], patterns: Sequence[str], *,
                       planned_epochs: int | None = None, colours: PlotColours = LIGHT,
                       width: int = DEFAULT_WIDTH) -> tuple[Image.Image, ChartLayout]:
    """The picture and where each panel and curve landed in it (light colours: it is printed and mailed)."""
    panels = chart_panels(rows, patterns, colours, planned_epochs=planned_epochs)
    return draw_charts(panels, colours, legend_entries(list(patterns), colours), width=width, columns=COLUMNS)


def save_metrics_chart(rows: Sequence[dict[str, Any]], patterns: Sequence[str], path: str | Path, *,
                       planned_epochs: int | None = None, width: int = DEFAULT_WIDTH) -> ChartLayout:
    """Write the picture as PNG to `path`; OSError when it cannot be written."""
    image, layout = draw_metrics_chart(rows, patterns, planned_epochs=planned_epochs, width=width)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "PNG", optimize=True)
    return layout
