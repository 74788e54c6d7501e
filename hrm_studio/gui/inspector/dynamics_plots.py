"""The inspector's plots: state dynamics of one puzzle, and the split's per-step curve.

Dynamics: the forward residual ‖z_t − z_{t−1}‖ of z_H (one point per high-level update) and
of z_L (one per low-level update) on one log-scaled axis whose x is the high-level step, so
z_L's points fall between them; segment boundaries are dashed lines. Beside it the PCA
trajectory of z_H, coloured from early (light) to late (dark) step, each point a circle when
the answer after that step was right and a cross when wrong. Step curve: exact match and
token accuracy after every step over a whole split, with the same boundaries — where the
answer becomes right, it jumps rather than creeps (the "critical step").
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from hrm_studio.analysis import ReasoningTrace, StepCurve
from hrm_studio.gui.widgets.theme import PlotColours, plot_colours

Z_H, Z_L = "#1565c0", "#ef6c00"
EXACT, TOKENS = "#2e7d32", "#6a1b9a"
RIGHT_SYMBOL, WRONG_SYMBOL = "o", "x"
FLOOR = 1e-12   # residuals of exactly 0 (a converged state) still have a place on a log axis


def step_colours(steps: int) -> list[QColor]:
    """Light to dark blue-green along the steps."""
    out = []
    for t in range(steps):
        f = t / max(steps - 1, 1)
        out.append(QColor.fromRgbF(0.75 - 0.7 * f, 0.85 - 0.45 * f, 0.95 - 0.35 * f))
    return out


def residual_x(trace: ReasoningTrace) -> tuple[np.ndarray, np.ndarray]:
    """x of each z_H point (its step, 1-based) and of each z_L point (evenly inside its step)."""
    h = np.arange(1, trace.steps + 1, dtype=float)
    inner = trace.inner_per_step
    l_x = np.arange(trace.steps * inner, dtype=float) / inner + 1.0 / inner
    return h, l_x


def _plot(view: pg.GraphicsLayoutWidget, row: int, col: int, title: str, colours: PlotColours,
          legend_at: tuple[int, int] | None = (-8, 8)) -> pg.PlotItem:
    plot = view.addPlot(row=row, col=col, title=title)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.getViewBox().setMouseEnabled(x=True, y=False)
    if legend_at is not None:
        plot.addLegend(offset=legend_at, labelTextColor=colours.foreground)
    return plot


def _boundaries(plot: pg.PlotItem, segments: int, per: int, trained: int | None = None) -> None:
    for s in range(1, segments):
        extra = trained is not None and s >= trained
        pen = pg.mkPen("#888888", width=1, style=Qt.PenStyle.DashLine if not extra else Qt.PenStyle.DotLine)
        plot.addItem(pg.InfiniteLine(pos=s * per + 0.5, angle=90, pen=pen), ignoreBounds=True)


class DynamicsPlots(QWidget):
    """Residuals (log) and the z_H PCA trajectory of one trace; `view` is what is exported."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colours = plot_colours()
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(self.colours.background)
        self.view.setMinimumSize(300, 220)
        # Plot titles stay short: a pyqtgraph title is never cut, so a long one widens the plot past a
        # narrow panel's edge. What the markers mean goes in a wrapped line below.
        self.key = QLabel("Residual: how far each update moved the state (log scale). Trajectory: z<sub>H</sub> "
                          "after each high-level step, ● right after it, ✖ wrong, light → dark = early → late.")
        self.key.setWordWrap(True)
        self.key.setObjectName("hint")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.key)
        self.residuals = _plot(self.view, 0, 0, "Residual ‖z<sub>t</sub> − z<sub>t−1</sub>‖", self.colours)
        self.residuals.setLogMode(x=False, y=True)
        self.residuals.setLabel("bottom", "high-level step")
        self.pca = _plot(self.view, 1, 0, "z<sub>H</sub> trajectory (PCA)", self.colours, legend_at=None)
        self.pca.setLabel("bottom", "PC 1")
        self.pca.setLabel("left", "PC 2")
        self.pca.getViewBox().setMouseEnabled(x=True, y=True)
        self.pca.getViewBox().setDefaultPadding(0.12)   # room for the start / end labels
        for axis in ("left", "bottom"):
            self.pca.getAxis(axis).enableAutoSIPrefix(False)

    def set_trace(self, trace: ReasoningTrace | None, trained_segments: int) -> None:
        for plot in (self.residuals, self.pca):
            plot.clear()
        if trace is None:
            return
        h_x, l_x = residual_x(trace)
        self.residuals.plot(l_x, np.maximum(trace.z_l_residual, FLOOR), pen=pg.mkPen(Z_L, width=1.5),
                            symbol="t", symbolSize=4, symbolBrush=Z_L, symbolPen=None, name="z<sub>L</sub>")
        self.residuals.plot(h_x, np.maximum(trace.z_h_residual, FLOOR), pen=pg.mkPen(Z_H, width=2),
                            symbol="o", symbolSize=6, symbolBrush=Z_H, symbolPen=None, name="z<sub>H</sub>")
        _boundaries(self.residuals, trace.segments, trace.steps_per_segment, trained_segments)
        self._draw_pca(trace)

    def _draw_pca(self, trace: ReasoningTrace) -> None:
        points = trace.z_h_pca
        self.pca.plot(points[:, 0], points[:, 1], pen=pg.mkPen("#999999", width=1))
        colours = step_colours(trace.steps)
        right = np.ones(trace.steps, bool) if trace.correct is None else np.asarray(trace.correct, bool)
        for ok, name in ((True, "right"), (False, "wrong")):
            idx = np.flatnonzero(right == ok)
            if not idx.size:
                continue
            spots = [{"pos": (float(points[t, 0]), float(points[t, 1])), "brush": pg.mkBrush(colours[t]),
                      "pen": pg.mkPen("#c62828" if not ok else "#333333", width=1.5 if not ok else 0.5),
                      "symbol": RIGHT_SYMBOL if ok else WRONG_SYMBOL, "size": 11 if ok else 13,
                      "data": int(t)} for t in idx]
            label = name if trace.correct is not None else "step"
            self.pca.addItem(pg.ScatterPlotItem(spots=spots, name=label, symbol=spots[0]["symbol"],
                                                brush=pg.mkBrush(colours[-1]), pen=spots[0]["pen"]))
        first, last = points[0], points[-1]
        for point, text in ((first, "start"), (last, "end")):
            label = pg.TextItem(text, color=self.colours.foreground, anchor=(0, 1))
            label.setPos(float(point[0]), float(point[1]))
            self.pca.addItem(label)


class StepCurvePlot(QWidget):
    """Exact match and token accuracy after every step over a split."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colours = plot_colours()
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(self.colours.background)
        self.view.setMinimumSize(300, 160)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.plot = _plot(self.view, 0, 0, "Over the split: right after each step", self.colours, legend_at=(-8, -30))
        self.plot.setLabel("bottom", "high-level step")
        self.plot.setYRange(0, 1.02)

    def set_curve(self, curve: StepCurve | None, trained_segments: int | None = None) -> None:
        self.plot.clear()
        if curve is None:
            return
        x = np.arange(1, curve.steps + 1)
        self.plot.plot(x, curve.token_accuracy, pen=pg.mkPen(TOKENS, width=2), symbol="s", symbolSize=5,
                       symbolBrush=TOKENS, symbolPen=None, name="token accuracy")
        self.plot.plot(x, curve.exact, pen=pg.mkPen(EXACT, width=2), symbol="o", symbolSize=6,
                       symbolBrush=EXACT, symbolPen=None, name="exact match")
        segments = curve.steps // max(curve.steps_per_segment, 1)
        _boundaries(self.plot, segments, curve.steps_per_segment, trained_segments)
        critical = curve.critical_step()
        if critical is not None:
            line = pg.InfiniteLine(pos=critical + 1, angle=90, pen=pg.mkPen("#f9a825", width=2),
                                   label="critical step", labelOpts={"position": 0.1, "color": "#b26a00"})
            self.plot.addItem(line, ignoreBounds=True)
        self.plot.setYRange(0, 1.02)
