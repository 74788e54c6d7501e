"""Compare runs: their curves overlaid in the six Metrics plots, and their results and settings side by side.

The plots are the Metrics dashboard's own (plots.py, built from render/metric_panels.py):
same panels, smoothing, log scale, x axis, read-out and export, with one curve per run
per plot instead of train and held-out. Each run keeps one colour everywhere (curves, legend, table headers). The
Metrics tab itself is never touched, so leaving the comparison leaves the open run as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QPixmap, QIcon
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from hrm_studio.gui.metrics.history_export import save_history
from hrm_studio.gui.metrics.plot_export import save_plot
from hrm_studio.gui.metrics.plots import MetricsDashboard
from hrm_studio.gui.widgets.theme import PlotColours, plot_colours
from hrm_studio.render.metric_panels import PANELS, TRAIN, VALIDATION, CurveSpec, PanelSpec
from hrm_studio.render.metric_panels import format_value as _format
from hrm_studio.render.metric_panels import number as _number
from hrm_studio.render.metric_panels import panel as _panel
from hrm_studio.runs.compare import ComparedRun, long_history, result_rows, setting_rows

ROLES = {VALIDATION: "Held-out", TRAIN: "Training"}


def _pick(panel: PanelSpec, role: str) -> CurveSpec:
    """The panel's curve for `role`, or its only one (learning rate has no held-out curve)."""
    return next((c for c in panel.curves if c.role == role), panel.curves[0])


class CompareDashboard(MetricsDashboard):
    """The Metrics plots with one curve per run (held-out by default, training on request)."""

    def __init__(self, colours: PlotColours | None = None, parent: QWidget | None = None) -> None:
        self._runs: list[ComparedRun] = []
        self._role = VALIDATION
        super().__init__(colours, parent)
        self.role_box = QComboBox()
        for key, text in ROLES.items():
            self.role_box.addItem(text, key)
        self.role_box.setToolTip("Compare the held-out curves (how well each run generalises) or the training ones.")
        self.role_box.currentIndexChanged.connect(lambda _: self.set_role(self.role_box.currentData()))
        self.controls.insertWidget(0, QLabel("Curves"))
        self.controls.insertWidget(1, self.role_box)
        self.controls.insertSpacing(2, 12)

    # ----- which curves ------------------------------------------------------------------------
    def _panel_curves(self, panel: PanelSpec) -> Iterable[CurveSpec]:
        return ()

    def set_runs(self, runs: Sequence[ComparedRun]) -> None:
        for key in list(self._curves):
            self._remove_curve(key)
        self._runs = list(runs)
        self._rows = [row for run in self._runs for row in run.history]   # what `rows()` and export see
        for panel in PANELS:
            spec = _pick(panel, self._role)
            for index, run in enumerate(self._runs):
                self._add_curve(panel, CurveSpec(spec.key, run.name, spec.role, index), self._key(index, spec))
        planned = [int(r.settings.get("epochs") or 0) for r in self._runs] + [len(r.history) for r in self._runs]
        self.set_planned_epochs(max(planned, default=1) or 1)
        self._ranges.clear()
        self._zoomed.clear()
        self._update_legend()
        self.refresh()

    def set_role(self, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        self._role = role
        index = self.role_box.findData(role)
        if self.role_box.currentIndex() != index:
            self.role_box.setCurrentIndex(index)
        self.set_runs(self._runs)

    @staticmethod
    def _key(index: int, spec: CurveSpec) -> str:
        return f"{index}:{spec.key}"

    def run_curves(self, panel_name: str) -> list[pg.PlotDataItem]:
        """The curves drawn in one plot, one per run, in the runs' order."""
        return [self._curves[k] for k, (p, _) in self._specs.items() if p.name == panel_name]

    @property
    def runs(self) -> list[ComparedRun]:
        return list(self._runs)

    def _rows_for(self, key: str) -> list[dict[str, Any]]:
        return self._runs[int(key.split(":", 1)[0])].history

    # ----- looks -------------------------------------------------------------------------------
    def run_colour(self, index: int) -> str:
        return self._colours.pattern(index)

    def _style_curve(self, key: str) -> None:
        _, spec = self._specs[key]
        colour = self.run_colour(spec.pattern or 0)
        curve = self._curves[key]
        curve.setPen(pg.mkPen(colour, width=2.0))
        curve.setSymbolBrush(pg.mkBrush(colour))
        curve.setSymbolPen(pg.mkPen(colour))

    def _update_legend(self) -> None:
        runs = getattr(self, "_runs", [])
        if not runs:
            self.legend.setText("Select two or more runs in the list and press Compare.",
                                color=self._colours.foreground, size="9pt")
            return
        parts = [f'<span style="color:{self.run_colour(i)}">━━━</span>&nbsp;{run.name}'
                 for i, run in enumerate(runs)]
        what = ROLES[self._role].lower() if hasattr(self, "_role") else "held-out"
        parts.append(f'<span style="color:{self._colours.foreground}">({what} curves)</span>')
        self.legend.setText("&nbsp;&nbsp;&nbsp;&nbsp;".join(parts), color=self._colours.foreground, size="9pt")

    def readout_at(self, panel_name: str, x: float) -> str:
        """Each run's value in one plot at the epoch (or second) nearest to x."""
        panel = _panel(panel_name)
        spec = _pick(panel, self._role)
        parts, head = [], None
        for run in self._runs:
            points = [(self._x(r), r) for r in run.history]
            points = [(px, r) for px, r in points if px is not None]
            if not points:
                continue
            px, row = min(points, key=lambda item: abs(item[0] - x))
            head = head if head is not None else px
            value = _number(row.get(spec.key))
            parts.append(f"{run.name} {'–' if value is None else _format(value, panel.percent)}")
        if head is None:
            return "No epochs yet."
        for cursor in self._cursors.values():
            cursor.setValue(head)
            cursor.show()
        where = f"Epoch {head:.0f}" if self._x_axis == "epoch" else f"{head:.1f} s"
        return f"{where} · {panel.title}: " + ", ".join(parts)


def _swatch(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class CompareView(QWidget):
    """Plots on the left; results (best in bold) and settings (differences only, if wished) on the right."""

    back_requested = Signal()
    error = Signal(str)
    saved = Signal(object)          # list[Path]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._sized = False
        self.dashboard = CompareDashboard(plot_colours())
        self.title = QLabel("Comparing runs")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        header = self._build_header()
        side = self._build_side(font)
        # Small minimums: the window must still shrink as far as it could before the comparison existed.
        self.dashboard.setMinimumSize(300, 220)
        self.dashboard.view.setMinimumSize(240, 160)
        side.setMinimumWidth(160)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.dashboard)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.splitter, 1)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._theme_changed)

    def _build_header(self) -> QHBoxLayout:
        """Back, the title and the two exports."""
        self.back_button = QPushButton("◀ All runs")
        self.back_button.setToolTip("Back to the run library (Esc).")
        self.back_button.setShortcut("Esc")
        self.back_button.clicked.connect(self.back_requested.emit)
        self.export_plots_button = QPushButton("Export plots…")
        self.export_plots_button.setToolTip("Save the compared plots as PNG or SVG.")
        self.export_csv_button = QPushButton("Export CSV…")
        self.export_csv_button.setToolTip("Save every compared run's history in one table (a 'run' column "
                                          "tells them apart), as CSV or JSON.")
        header = QHBoxLayout()
        header.addWidget(self.back_button)
        header.addSpacing(8)
        header.addWidget(self.title, 1)
        header.addWidget(self.export_plots_button)
        header.addWidget(self.export_csv_button)
        return header

    def _build_side(self, font: QFont) -> QWidget:
        """The results table over the settings table (with its Differences only box)."""
        self.results = QTableWidget()
        self.settings = QTableWidget()
        for table in (self.results, self.settings):
            table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
            table.setAlternatingRowColors(True)
            table.verticalHeader().setDefaultSectionSize(22)
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            table.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideMiddle)
            table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
            table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.results.setToolTip("The best value of each score is in bold.")
        self.differences_only = QCheckBox("Differences only")
        self.differences_only.setToolTip("Show only the settings that are not the same in every run.")
        self.differences_only.setChecked(True)
        self.differences_only.toggled.connect(self._show_setting_rows)
        results_label = QLabel("Results")
        results_label.setFont(font)
        settings_label = QLabel("Settings")
        settings_label.setFont(font)
        settings_header = QHBoxLayout()
        settings_header.addWidget(settings_label)
        settings_header.addStretch(1)
        settings_header.addWidget(self.differences_only)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(4, 0, 0, 0)
        side_layout.addWidget(results_label)
        side_layout.addWidget(self.results)
        side_layout.addSpacing(6)
        side_layout.addLayout(settings_header)
        side_layout.addWidget(self.settings, 1)
        return side

    # ----- contents -----------------------------------------------------------------------------
    def set_runs(self, runs: Sequence[ComparedRun], smoothing: float | None = None) -> None:
        self.title.setText(f"Comparing {len(runs)} runs")
        if smoothing is not None:
            self.dashboard.set_smoothing(smoothing)
        self.dashboard.set_runs(runs)
        width = self.splitter.width()
        if not self._sized and width > 400:
            # Room for the tables' run columns the first time; the person may drag it after.
            self.splitter.setSizes([int(width * 0.6), width - int(width * 0.6)])
            self._sized = True
        self._fill_results()
        self._fill_settings()

    @property
    def runs(self) -> list[ComparedRun]:
        return self.dashboard.runs

    def _headers(self, table: QTableWidget) -> None:
        runs = self.runs
        table.setColumnCount(len(runs))
        for i, run in enumerate(runs):
            item = QTableWidgetItem(_swatch(self.dashboard.run_colour(i)), run.name)
            item.setToolTip(str(run.path))
            table.setHorizontalHeaderItem(i, item)

    def _fill_results(self) -> None:
        rows = result_rows(self.runs)
        table = self.results
        table.clear()
        self._headers(table)
        table.setRowCount(len(rows))
        bold = QFont()
        bold.setBold(True)
        for r, row in enumerate(rows):
            table.setVerticalHeaderItem(r, QTableWidgetItem(row.spec.label))
            for c in range(len(self.runs)):
                item = QTableWidgetItem(row.text(c))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c in row.best:
                    item.setFont(bold)
                    item.setToolTip("Best of the compared runs.")
                table.setItem(r, c, item)
        # Exactly as tall as its rows, so the settings below get the rest of the height.
        table.setFixedHeight(table.horizontalHeader().sizeHint().height() + table.verticalHeader().length()
                             + 2 * table.frameWidth())

    def _fill_settings(self) -> None:
        rows = setting_rows(self.runs)
        table = self.settings
        table.clear()
        self._headers(table)
        table.setRowCount(len(rows))
        self._setting_names = [row.name for row in rows]
        self._setting_differs = [row.differs for row in rows]
        highlight = QBrush(QColor(255, 200, 0, 60))
        for r, row in enumerate(rows):
            head = QTableWidgetItem(row.name)
            head.setToolTip(f"{row.section}.{row.name}")
            table.setVerticalHeaderItem(r, head)
            for c, value in enumerate(row.values):
                item = QTableWidgetItem(_value_text(value))
                if row.differs:
                    item.setBackground(highlight)
                table.setItem(r, c, item)
        self._show_setting_rows()

    def _show_setting_rows(self) -> None:
        only = self.differences_only.isChecked()
        for r, differs in enumerate(getattr(self, "_setting_differs", [])):
            self.settings.setRowHidden(r, only and not differs)

    def shown_settings(self) -> list[str]:
        """The setting names the table shows now (all, or only the differing ones)."""
        return [name for r, name in enumerate(getattr(self, "_setting_names", []))
                if not self.settings.isRowHidden(r)]

    def best_cells(self) -> dict[str, list[str]]:
        """Result label → names of the runs marked best (bold)."""
        out: dict[str, list[str]] = {}
        for r in range(self.results.rowCount()):
            label = self.results.verticalHeaderItem(r).text()
            out[label] = [self.runs[c].name for c in range(self.results.columnCount())
                          if self.results.item(r, c).font().bold()]
        return out

    # ----- exports ------------------------------------------------------------------------------
    def export_plots(self, path: str | Path) -> Path:
        """PNG or SVG by the extension (raises UserError with a sentence when it cannot be written)."""
        self.dashboard.flush()
        written = save_plot(self.dashboard.view, path, self.dashboard.colours.background)
        self.saved.emit([written])
        return written

    def export_csv(self, path: str | Path) -> Path:
        """Every compared run's history, one row per run and epoch; .csv or .json."""
        written = save_history(long_history(self.runs), path)
        self.saved.emit([written])
        return written

    def _theme_changed(self, *_: Any) -> None:
        self.dashboard.apply_colours(plot_colours())
        if self.runs:
            self._fill_results()
            self._fill_settings()


def _value_text(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
