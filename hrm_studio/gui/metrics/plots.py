"""The live metric dashboard: six pyqtgraph plots fed one history row per epoch.

Every curve is one PlotDataItem, created when the run's patterns are known and then
updated with `setData` (never re-created per epoch). Rows arrive as EpochEnd events;
redraws are coalesced on a short timer so a burst of fast epochs costs one redraw.
Smoothing (debiased EMA), log scale and the x axis only change how rows are drawn.

Which panels there are, their titles and axes, the history key, label and colour of
every curve and the legend all come from render/metric_panels.py, the Qt-free description
the headless report draws from too; this module only turns it into pyqtgraph items.

Redraws must stay cheap because the GUI thread shares the GIL with training: axes,
titles and legends are cached as pixmaps, and axis ranges only move in round steps
(render/plot_ranges.py), so a new epoch repaints the curves and little else.
"""

from __future__ import annotations

import html
from typing import Any, Iterable

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent, QTextOption
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGraphicsItem, QHBoxLayout, QLabel, QSlider, QVBoxLayout,
                               QWidget)

from hrm_studio.gui.widgets.theme import PlotColours, plot_colours
from hrm_studio.render.metric_panels import (COLUMNS, OPTIONAL_PANELS, PANELS, PATTERN_PANEL, X_AXES, CurveSpec,
                                             PanelSpec, curve_style, grid_cell, legend_entries, pattern_curves)
from hrm_studio.render.metric_panels import format_value as _format
from hrm_studio.render.metric_panels import number as _number
from hrm_studio.render.metric_panels import panel as _described_panel
from hrm_studio.render.metric_panels import series as _series
from hrm_studio.render.metric_panels import x_value
from hrm_studio.render.plot_ranges import epoch_step as _epoch_step
from hrm_studio.render.plot_ranges import x_range, y_range
from hrm_studio.runstore.keys import HistoryKey

# The description's names, for code that reached them through this module before they moved.
__all__ = ["MetricsDashboard", "PANELS", "OPTIONAL_PANELS", "X_AXES", "CurveSpec", "PanelSpec", "pattern_curves"]

REFRESH_MS = 40
LEGEND_ROW = 0                # the legend spans the first grid row; panels start below it


class MetricsDashboard(QWidget):
    """Plots of a run's history. Feed it with `set_history` / `add_row`."""

    refreshed = Signal()

    def __init__(self, colours: PlotColours | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._colours = colours or plot_colours()
        self._rows: list[dict[str, Any]] = []
        self._patterns: list[str] = []
        self._smoothing = 0.0
        self._log_y = False
        self._x_axis = "epoch"
        self._planned_epochs: int | None = None
        self._ranges: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {}
        self._zoomed: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.controls = self._build_controls()   # a subclass (the run comparison) adds its own options here

        self.view = pg.GraphicsLayoutWidget()
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # mouse-only: Tab must not stop on an unmarked plot
        self.view.setMinimumSize(360, 240)   # six small plots still read; the window fits 1024×640
        # One legend for all six plots, inside the view so exported images carry it.
        self.legend = pg.LabelItem(justify="center")
        self.legend.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        # The legend wraps between its entries instead of widening the plots past a small window's edge.
        self.legend.item.document().setDefaultTextOption(QTextOption(Qt.AlignmentFlag.AlignHCenter))
        self.view.addItem(self.legend, row=LEGEND_ROW, col=0, colspan=COLUMNS)
        self._plots: dict[str, pg.PlotItem] = {}
        self._cursors: dict[str, pg.InfiniteLine] = {}
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._specs: dict[str, tuple[PanelSpec, CurveSpec]] = {}
        self._shown_optional: set[str] = set()
        for index, panel in enumerate(PANELS):
            self._build_plot(index, panel)
        self.view.scene().sigMouseMoved.connect(self._mouse_moved)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self.controls)
        layout.addWidget(self.readout)
        layout.addWidget(self.view, 1)
        self.apply_colours(self._colours)
        self.refresh()   # fit the empty axes too: 0–100 % and whole epochs before the first run

    def _build_controls(self) -> QHBoxLayout:
        """Smoothing, log scale and x axis above the plots, and the read-out line under them."""
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, 99)
        self.smoothing_slider.setFixedWidth(140)
        self.smoothing_slider.setToolTip("Smooth the curves with a debiased moving average (0 = raw values).")
        self.smoothing_slider.valueChanged.connect(lambda v: self.set_smoothing(v / 100))
        self.smoothing_value = QLabel("off")
        self.smoothing_value.setMinimumWidth(28)
        self.log_box = QCheckBox("Log scale")
        self.log_box.setToolTip("Show loss and learning rate on a logarithmic axis.")
        self.log_box.toggled.connect(self.set_log_y)
        self.x_box = QComboBox()
        for key, text in X_AXES.items():
            self.x_box.addItem(text, key)
        self.x_box.setToolTip("Draw against epochs or against seconds of training.")
        self.x_box.currentIndexChanged.connect(lambda _: self.set_x_axis(self.x_box.currentData()))
        self.readout = QLabel("Point at a plot to read its values.")
        self.readout.setObjectName("hint")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Smoothing"))
        controls.addWidget(self.smoothing_slider)
        controls.addWidget(self.smoothing_value)
        controls.addSpacing(12)
        controls.addWidget(self.log_box)
        controls.addSpacing(12)
        controls.addWidget(QLabel("X axis"))
        controls.addWidget(self.x_box)
        controls.addStretch(1)
        self.readout.setWordWrap(True)
        return controls

    def _build_plot(self, index: int, panel: PanelSpec) -> None:
        """One described panel as a PlotItem, with its axis, cursor and starting curves."""
        if panel.optional:
            plot = pg.PlotItem(title=panel.title)  # joins the layout when a row carries its key
        else:
            row, col = grid_cell(index)
            plot = self.view.addPlot(row=LEGEND_ROW + 1 + row, col=col, title=panel.title)
        plot.showGrid(x=True, y=True)
        plot.setMenuEnabled(False)
        plot.disableAutoRange()
        view_box = plot.getViewBox()
        view_box.setMouseEnabled(x=True, y=False)
        view_box.sigRangeChangedManually.connect(lambda *_, n=panel.name: self._zoomed.add(n))
        plot.autoBtn.clicked.connect(lambda *_, n=panel.name: self._unzoom(n))
        for item in (plot.getAxis("left"), plot.getAxis("bottom"), plot.titleLabel):
            item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).enableAutoSIPrefix(False)
        plot.getAxis("left").setStyle(hideOverlappingLabels=False)
        if panel.y_label:
            plot.setLabel("left", panel.y_label)
        if panel.y_tick_step is not None:
            plot.getAxis("left").setTickSpacing(levels=[(panel.y_tick_step, 0.0)])
        plot.setLabel("bottom", X_AXES[self._x_axis].lower())
        cursor = pg.InfiniteLine(angle=90, movable=False)
        cursor.hide()
        plot.addItem(cursor, ignoreBounds=True)
        self._plots[panel.name] = plot
        self._cursors[panel.name] = cursor
        for spec in self._panel_curves(panel):
            self._add_curve(panel, spec)

    # ----- curves ------------------------------------------------------------------------------
    def _panel(self, name: str) -> PanelSpec:
        return _described_panel(name)

    def _panel_curves(self, panel: PanelSpec) -> Iterable[CurveSpec]:
        """The curves a panel starts with (the run comparison starts with none)."""
        return panel.curves

    def _add_curve(self, panel: PanelSpec, spec: CurveSpec, key: str | None = None) -> None:
        """`key` names the curve when several draw the same history key (one per compared run)."""
        key = key or spec.key
        curve = pg.PlotDataItem(connect="finite", antialias=True, symbolSize=5)
        self._plots[panel.name].addItem(curve)
        self._curves[key] = curve
        self._specs[key] = (panel, spec)
        self._style_curve(key)

    def _remove_curve(self, key: str) -> None:
        panel, _ = self._specs.pop(key)
        curve = self._curves.pop(key)
        self._plots[panel.name].removeItem(curve)

    def _style_curve(self, key: str) -> None:
        _, spec = self._specs[key]
        look = curve_style(spec, self._colours)
        style = Qt.PenStyle.DashLine if look.dashed else Qt.PenStyle.SolidLine
        curve = self._curves[key]
        curve.setPen(pg.mkPen(look.colour, width=look.width, style=style))
        curve.setSymbolBrush(pg.mkBrush(look.colour))
        curve.setSymbolPen(pg.mkPen(look.colour))

    def curve(self, key: str) -> pg.PlotDataItem:
        """The PlotDataItem drawing history key `key` (e.g. 'loss', 'val_copy_accuracy')."""
        return self._curves[key]

    def curve_keys(self) -> list[str]:
        """Curves on show: an optional panel's curves only while that panel is drawn."""
        return [key for key in self._curves
                if key not in self._specs or not self._specs[key][0].optional
                or self._specs[key][0].name in self._shown_optional]

    def plot(self, name: str) -> pg.PlotItem:
        return self._plots[name]

    def set_patterns(self, patterns: Iterable[str]) -> None:
        """Per-pattern exact-match curves; only rebuilt when the task's patterns change."""
        patterns = list(patterns)
        if patterns == self._patterns:
            return
        for spec in pattern_curves(self._patterns):
            self._remove_curve(spec.key)
        self._patterns = patterns
        panel = self._panel(PATTERN_PANEL)
        for spec in pattern_curves(patterns):
            self._add_curve(panel, spec)
        self._update_legend()
        self._schedule()

    @property
    def patterns(self) -> list[str]:
        return list(self._patterns)

    # ----- data --------------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows)

    def clear(self) -> None:
        self._rows = []
        self._ranges.clear()
        self._zoomed.clear()
        self.readout.setText("Point at a plot to read its values.")
        for cursor in self._cursors.values():
            cursor.hide()
        self.refresh()

    def set_history(self, rows: Iterable[dict[str, Any]], patterns: Iterable[str] | None = None) -> None:
        """Redraw a whole history (an opened run or checkpoint)."""
        if patterns is not None:
            self.set_patterns(patterns)
        self._rows = [dict(r) for r in rows]
        self.refresh()

    def keep_epochs_up_to(self, epoch: int) -> None:
        """A resumed run restarts after `epoch`: drop rows the checkpoint does not have."""
        self._rows = [r for r in self._rows if int(r.get(HistoryKey.EPOCH, 0)) <= epoch]
        self._schedule()

    def add_row(self, row: dict[str, Any]) -> None:
        self._rows.append(dict(row))
        self._schedule()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Draw pending rows now instead of on the next timer tick."""
        if self._timer.isActive():
            self._timer.stop()
            self.refresh()

    def _x(self, row: dict[str, Any]) -> float | None:
        return x_value(row, self._x_axis)

    def series(self, key: str) -> tuple[list[float], list[float]]:
        """x and y as drawn for `key`, after smoothing, % and log handling."""
        panel, spec = self._specs[key]
        return _series(panel, spec.key, self._rows_for(key), x_axis=self._x_axis, smoothing=self._smoothing,
                       log=self._log_y)

    def _rows_for(self, key: str) -> list[dict[str, Any]]:
        """The history curve `key` is drawn from (one run here; its own run when comparing)."""
        return self._rows

    def _show_optional_panels(self) -> None:
        """Put an optional panel in the layout while the rows carry its key, and take it out after; those
        shown fill the cells after the fixed panels, in PANELS order, so none leaves a hole in the grid."""
        wanted = {panel.name for panel in PANELS if panel.optional and any(
            _number(row.get(spec.key)) is not None for curve_key, (p, spec) in self._specs.items()
            if p.name == panel.name for row in self._rows_for(curve_key))}
        if wanted == self._shown_optional:
            return
        for name in self._shown_optional:
            self.view.ci.removeItem(self._plots[name])
        fixed = sum(1 for panel in PANELS if not panel.optional)
        for cell, panel in enumerate((p for p in PANELS if p.name in wanted), start=fixed):
            row, col = grid_cell(cell)
            self.view.addItem(self._plots[panel.name], row=LEGEND_ROW + 1 + row, col=col)
        self._shown_optional = wanted

    def refresh(self) -> None:
        self._timer.stop()
        self._show_optional_panels()
        drawn: dict[str, tuple[list[float], list[float]]] = {p.name: ([], []) for p in PANELS}
        for key, curve in self._curves.items():
            xs, ys = self.series(key)
            curve.setData(xs, ys, symbol="o" if len(xs) == 1 else None)
            panel, _ = self._specs[key]
            drawn[panel.name][0].extend(xs)
            drawn[panel.name][1].extend(ys)
        for panel in PANELS:
            self._fit(panel, *drawn[panel.name])
        self.refreshed.emit()

    def set_planned_epochs(self, epochs: int | None) -> None:
        """The run's epoch count: the x axis spans it from the start, so it need not move."""
        if epochs != self._planned_epochs:
            self._planned_epochs = epochs
            self._schedule()

    def _fit(self, panel: PanelSpec, xs: list[float], ys: list[float], force: bool = False) -> None:
        if panel.name in self._zoomed and not force:
            return
        old = self._ranges.get(panel.name)
        if self._x_axis == "epoch":
            planned = max(self._planned_epochs or 1, *(int(x) for x in xs)) if xs else self._planned_epochs
            new_x = x_range(xs, None, planned=float(planned or 1), start=1.0)
        else:
            new_x = x_range(xs, old[0] if old and not force else None, planned=None, start=0.0)
        log = panel.log_capable and self._log_y
        new_y = y_range(ys, old[1] if old and not force else None, percent=panel.percent, log=log)
        if old is not None and old == (new_x, new_y) and not force:
            return
        self._ranges[panel.name] = (new_x, new_y)
        plot = self._plots[panel.name]
        bottom = plot.getAxis("bottom")
        if self._x_axis == "epoch":
            step = _epoch_step(new_x[1] - new_x[0])
            bottom.setTickSpacing(levels=[(step, 0.0)])
        else:
            bottom.setTickSpacing()
        plot.setXRange(*new_x, padding=0.02)
        plot.setYRange(*new_y, padding=0.07)   # room for the 0 and 100 labels inside the cached axis

    def _unzoom(self, name: str) -> None:
        self._zoomed.discard(name)
        self._ranges.pop(name, None)
        self.refresh()

    # ----- view options ------------------------------------------------------------------------
    def set_smoothing(self, weight: float) -> None:
        self._smoothing = min(max(float(weight), 0.0), 0.99)
        self.smoothing_value.setText(f"{self._smoothing:.2f}" if self._smoothing else "off")
        if self.smoothing_slider.value() != round(self._smoothing * 100):
            self.smoothing_slider.setValue(round(self._smoothing * 100))
        self.refresh()

    def set_log_y(self, on: bool) -> None:
        self._log_y = bool(on)
        if self.log_box.isChecked() != self._log_y:
            self.log_box.setChecked(self._log_y)
        for panel in PANELS:
            if panel.log_capable:
                self._plots[panel.name].setLogMode(x=False, y=self._log_y)
                self._ranges.pop(panel.name, None)
        self.refresh()

    def set_x_axis(self, axis: str) -> None:
        if axis not in X_AXES:
            raise ValueError(f"x axis must be one of {', '.join(X_AXES)}")
        self._x_axis = axis
        index = self.x_box.findData(axis)
        if self.x_box.currentIndex() != index:
            self.x_box.setCurrentIndex(index)
        for plot in self._plots.values():
            plot.setLabel("bottom", X_AXES[axis].lower())
        self._ranges.clear()
        self._zoomed.clear()
        self.refresh()

    # ----- hover read-out ---------------------------------------------------------------------
    def _mouse_moved(self, pos: QPointF) -> None:
        for name, plot in self._plots.items():
            if plot.sceneBoundingRect().contains(pos):
                x = plot.getViewBox().mapSceneToView(pos).x()
                self.readout.setText(self.readout_at(name, x))
                return

    def readout_at(self, panel_name: str, x: float) -> str:
        """The values of every curve of one plot at the row nearest to x; moves the cursors."""
        rows = [(self._x(r), r) for r in self._rows]
        rows = [(rx, r) for rx, r in rows if rx is not None]
        if not rows:
            return "No epochs yet."
        rx, row = min(rows, key=lambda item: abs(item[0] - x))
        for cursor in self._cursors.values():
            cursor.setValue(rx)
            cursor.show()
        panel = self._panel(panel_name)
        parts = []
        for key, (p, spec) in self._specs.items():
            if p.name != panel.name:
                continue
            value = _number(row.get(key))
            if value is None:
                continue
            parts.append(f"{spec.label} {_format(value, panel.percent)}")
        head = f"Epoch {row.get(HistoryKey.EPOCH)}"
        if self._x_axis == "wall":
            head += f" ({rx:.1f} s)"
        return f"{head} · {panel.title}: " + (", ".join(parts) if parts else "no value")

    # ----- theme -------------------------------------------------------------------------------
    def apply_colours(self, colours: PlotColours) -> None:
        self._colours = colours
        self.view.setBackground(colours.background)
        fg = colours.foreground
        for name, plot in self._plots.items():
            plot.setTitle(self._panel(name).title, color=fg, size="10pt")
            for axis in ("left", "bottom"):
                item = plot.getAxis(axis)
                item.setPen(pg.mkPen(fg))
                item.setTextPen(pg.mkPen(fg))
                item.setGrid(int(255 * colours.grid_alpha))
            self._cursors[name].setPen(pg.mkPen(colours.cursor, style=Qt.PenStyle.DotLine))
        for key in self._curves:
            self._style_curve(key)
        self._update_legend()

    def _update_legend(self) -> None:
        c = self._colours
        parts = []
        for entry in legend_entries(self._patterns, c):
            text = unbroken(entry.text)
            if entry.colour is None:
                parts.append(f'<span style="color:{c.foreground}">{text}</span>')
            else:
                line = "╍╍╍" if entry.dashed else "━━━"
                parts.append(f'<span style="color:{entry.colour}">{line}</span>&nbsp;{text}')
        self.legend.setText("&nbsp;&nbsp; ".join(parts), color=c.foreground, size="9pt")   # breaks between entries
        self._fit_legend()

    def _fit_legend(self) -> None:
        """Wrap the legend to the plots' width (its one-line width would hold the window wide)."""
        width = max(self.view.width() - 16, 120)
        if self.legend.item.textWidth() != width:
            self.legend.item.setTextWidth(width)
            self.legend.resizeEvent(None)   # pyqtgraph's LabelItem re-reads its size (its minimum) here

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._fit_legend()

    @property
    def colours(self) -> PlotColours:
        return self._colours



def unbroken(text: str) -> str:
    """`text` as HTML that a wrapping legend never breaks inside ("held-out" stays whole)."""
    return html.escape(text).replace(" ", "&nbsp;").replace("-", "&#8209;")
