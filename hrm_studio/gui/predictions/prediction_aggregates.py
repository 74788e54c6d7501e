"""The prediction viewer's summary strip: per-pattern table, token histograms, confusion matrix.

Why these three together: the table says *where* the model fails (which pattern), the
histograms say *what* it produces too often or too rarely (e.g. it never writes a 9), and
the confusion matrix says *which* token it writes instead of which. Clicking a pattern
narrows the two charts to that pattern and tells the viewer to filter its puzzle list.

Every number comes from training/prediction_summary.py, so it is the number the history
and `hrm-studio eval` report. The table and the charts follow the step slider (set_segment): after
the last segment they read as the history does. No torch here: the window must
open before torch has loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QAbstractScrollArea, QHeaderView, QLabel, QSizePolicy, QSplitter,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from hrm_studio.gui.widgets.theme import plot_colours
from hrm_studio.render.grid_style import GridStyle
from hrm_studio.evaluation.prediction_summary import ALL, PatternRow, confusion_matrix, pattern_table, token_histograms

if TYPE_CHECKING:
    from hrm_studio.render.plot_colours import PlotColours
    from hrm_studio.runstore.prediction_set import PredictionSet

COLUMNS = ("Pattern", "Puzzles", "Token acc", "Exact", "Mean steps", "Q-halt acc")
COLUMN_TIPS = (
    "The rule the puzzles follow; click one to narrow the charts and the puzzle list to it.",
    "Puzzles of this pattern in the set shown.",
    "Mean share of scored cells right after the segment the slider shows.",
    "Share of puzzles with every scored cell right after the segment the slider shows (after the last: the "
    "official reading).",
    "Mean reasoning segments before the model's Q-head chose to halt (the same at every segment).",
    "Share of puzzles where the Q-head's 'halt' (q_halt ≥ 0) at the segment the slider shows agrees with the "
    "answer being exactly right there.",
)
BAR_WIDTH = 0.38


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


class PredictionAggregates(QWidget):
    """Per-pattern table | predicted vs true token counts | token confusion matrix.

    Exposed for tests and callers: `pattern_rows` (the table's rows), `histogram_bars`
    ((predicted, true) heights as drawn), `confusion` (the counts behind the image),
    `pattern` (the pattern the charts show, "" = all) and `segment` (None = last).
    """

    pattern_selected = Signal(str)  # a pattern name, or "" for every pattern

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.predictions: PredictionSet | None = None
        self.pattern_rows: list[PatternRow] = []
        self.pattern = ""
        self.segment: int | None = None
        self.confusion = np.zeros((0, 0), np.int64)
        self._labels: list[str] = []
        self._filling = False
        colours = plot_colours()

        self._build_table()
        self._build_histogram(colours)
        self._build_confusion(colours)
        self._style_plots(colours)
        self._build_layout()
        self._show_empty()

    # ----- layout ----------------------------------------------------------------------------------
    def _build_table(self) -> None:
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        for column, tip in enumerate(COLUMN_TIPS):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.table.setMinimumSize(120, 40)
        # Its columns' width as the size it asks for (the splitter's first layout); it scrolls when narrowed.
        self.table.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.table.itemSelectionChanged.connect(self._selection_changed)

    def _build_histogram(self, colours: PlotColours) -> None:
        pg.setConfigOptions(antialias=True)
        self.histogram_plot = pg.PlotWidget(background=colours.background)
        hist = self.histogram_plot.getPlotItem()
        hist.setTitle("Tokens: predicted vs true", color=colours.foreground, size="9pt")
        hist.setMenuEnabled(False)
        hist.setMouseEnabled(x=False, y=False)
        hist.hideButtons()
        hist.showGrid(y=True, alpha=colours.grid_alpha)
        hist.getAxis("left").setLabel("cells", color=colours.foreground)
        legend = hist.addLegend(offset=(-2, 2), labelTextSize="8pt", labelTextColor=colours.foreground,
                                colCount=2, verSpacing=-6)
        self.predicted_bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, brush=colours.train,
                                              pen=pg.mkPen(None), name="predicted")
        self.true_bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, brush=colours.validation,
                                         pen=pg.mkPen(None), name="true")
        hist.addItem(self.predicted_bars)
        hist.addItem(self.true_bars)
        legend.setBrush(pg.mkBrush(QColor(colours.background)))

    def _build_confusion(self, colours: PlotColours) -> None:
        self.confusion_plot = pg.PlotWidget(background=colours.background)
        conf = self.confusion_plot.getPlotItem()
        conf.setTitle("Confusion", color=colours.foreground, size="9pt")
        self.confusion_plot.setToolTip("Row = the true token, column = the token predicted; colour = share of "
                                       "that true token's cells. Hover a cell for its count.")
        self.histogram_plot.setToolTip("How often each token is predicted (blue) and how often the right "
                                       "answers hold it (orange), over scored cells, after the segment the "
                                       "slider shows.")
        conf.setMenuEnabled(False)
        conf.setMouseEnabled(x=False, y=False)
        conf.hideButtons()
        conf.getViewBox().invertY(True)  # true token 0 at the top, as a table reads
        conf.getViewBox().setAspectLocked(False)
        conf.getAxis("left").setLabel("true", color=colours.foreground)
        conf.getAxis("bottom").setLabel("predicted", color=colours.foreground)
        self.confusion_image = pg.ImageItem(axisOrder="row-major")
        self.confusion_image.setColorMap(pg.colormap.get("viridis"))
        conf.addItem(self.confusion_image)
        self.confusion_plot.scene().sigMouseMoved.connect(self._hover_confusion)
        self.hover_label = QLabel(" ")
        self.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def _style_plots(self, colours: PlotColours) -> None:
        hist = self.histogram_plot.getPlotItem()
        conf = self.confusion_plot.getPlotItem()
        tick_font = self.font()
        tick_font.setPointSizeF(max(6.0, tick_font.pointSizeF() * 0.8))
        for axis in ("left", "bottom"):
            for plot in (hist, conf):
                plot.getAxis(axis).setTextPen(colours.foreground)
                plot.getAxis(axis).setPen(colours.foreground)
                plot.getAxis(axis).setStyle(tickFont=tick_font)
        for plot in (self.histogram_plot, self.confusion_plot):
            plot.setMinimumSize(120, 40)
            plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # mouse-only: Tab must not stop on an unmarked plot

    def _build_layout(self) -> None:
        """Table | histogram | confusion in a splitter: each can be narrowed (the table scrolls), so the
        summaries never hold the window wider than a laptop screen."""
        self.split = QSplitter(Qt.Orientation.Horizontal)
        for widget in (self.table, self.histogram_plot, self.confusion_plot):
            self.split.addWidget(widget)
            self.split.setCollapsible(self.split.count() - 1, False)
        self.split.setStretchFactor(0, 0)
        self.split.setStretchFactor(1, 3)
        self.split.setStretchFactor(2, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.split, 1)
        layout.addWidget(self.hover_label)

    # ----- data in ---------------------------------------------------------------------------------
    def set_predictions(self, ps: PredictionSet | None) -> None:
        """Show a new set (None clears). The chosen pattern stays chosen if the new set has it."""
        self.predictions = ps
        if ps is None:
            self.pattern_rows = []
            self._fill_table()
            self._show_empty()
            return
        self._labels = self._vocab_labels(ps)
        if self.segment is not None and not -ps.steps <= self.segment < ps.steps:
            self.segment = None
        self.pattern_rows = pattern_table(ps, segment=self.segment)
        if self.pattern and self.pattern not in {r.pattern for r in self.pattern_rows[:-1]}:
            self.pattern = ""
        self._fill_table()
        self._set_axes()
        self._draw_charts()

    def set_segment(self, segment: int | None) -> None:
        """Show the table and the charts after this 0-based segment (None = the last)."""
        self.segment = segment
        ps = self.predictions
        if ps is not None:
            if segment is not None and not -ps.steps <= segment < ps.steps:
                self.segment = None
            self.pattern_rows = pattern_table(ps, segment=self.segment)
            self._fill_table()
            self._draw_charts()

    def set_pattern(self, pattern: str) -> None:
        """Narrow the charts to `pattern` ("" = all) and select its row, without emitting pattern_selected
        (for a viewer whose own filter changed)."""
        names = {r.pattern for r in self.pattern_rows[:-1]}
        self.pattern = pattern if pattern in names else ""
        self._select_row()
        if self.predictions is not None:
            self._draw_charts()

    # ----- what is drawn (read by tests) ------------------------------------------------------------
    @property
    def histogram_bars(self) -> tuple[np.ndarray, np.ndarray]:
        """(predicted, true) bar heights as drawn, int64 [vocab_size] each."""
        return (np.asarray(self.predicted_bars.opts["height"], np.int64),
                np.asarray(self.true_bars.opts["height"], np.int64))

    def table_text(self) -> list[list[str]]:
        """The table's cells as shown."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]

    def cell_tooltip(self, true_token: int, predicted_token: int) -> str:
        """What hovering the confusion cell (true, predicted) says."""
        counts = self.confusion
        if not (0 <= true_token < counts.shape[0] and 0 <= predicted_token < counts.shape[1]):
            return ""
        row_total = int(counts[true_token].sum())
        n = int(counts[true_token, predicted_token])
        share = f" ({_percent(n / row_total)} of true {self._labels[true_token]})" if row_total else ""
        return (f"true {self._labels[true_token]} → predicted {self._labels[predicted_token]}: "
                f"{n} cell{'s' if n != 1 else ''}{share}")

    # ----- internals --------------------------------------------------------------------------------
    @staticmethod
    def _vocab_labels(ps: PredictionSet) -> list[str]:
        vocab = int(ps.task["vocab_size"])
        given = [str(x) for x in ps.task.get("vocab_labels") or []]
        style = GridStyle.for_task(ps.task)   # the same names the grids use ("·" for a blank label)
        return [style.label(i) if i < len(given) else str(i) for i in range(vocab)]

    def _mask(self) -> np.ndarray | None:
        if not self.pattern or self.predictions is None:
            return None
        return np.asarray(self.predictions.puzzles.patterns).astype(str) == self.pattern

    def _fill_table(self) -> None:
        self._filling = True
        try:
            self.table.setRowCount(len(self.pattern_rows))
            for r, row in enumerate(self.pattern_rows):
                cells = (row.pattern, str(row.puzzles), _percent(row.token_accuracy), _percent(row.exact),
                         f"{row.mean_steps:.2f}", _percent(row.q_halt_accuracy))
                for c, text in enumerate(cells):
                    item = QTableWidgetItem(text)
                    if c:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    if row.pattern == ALL:
                        font = item.font()
                        font.setBold(True)
                        item.setFont(font)
                    item.setToolTip(COLUMN_TIPS[c])
                    self.table.setItem(r, c, item)
            self._select_row()
        finally:
            self._filling = False
        self.table.updateGeometry()

    def _select_row(self) -> None:
        """Select the row of `self.pattern` (the "all" row for ""), emitting nothing."""
        wanted = self.pattern or ALL
        was, self._filling = self._filling, True
        try:
            self.table.clearSelection()
            for r, row in enumerate(self.pattern_rows):
                if row.pattern == wanted:
                    self.table.selectRow(r)
                    break
        finally:
            self._filling = was

    def _selection_changed(self) -> None:
        if self._filling:
            return
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.pattern_rows):
            return
        name = self.pattern_rows[rows[0].row()].pattern
        self.pattern = "" if name == ALL else name
        if self.predictions is not None:
            self._draw_charts()
        self.pattern_selected.emit(self.pattern)

    def _set_axes(self) -> None:
        ticks = [list(enumerate(self._labels))]
        self.histogram_plot.getPlotItem().getAxis("bottom").setTicks(ticks)
        conf = self.confusion_plot.getPlotItem()
        # cell i spans [i, i+1]: ticks at the centres
        centred = [[(i + 0.5, label) for i, label in enumerate(self._labels)]]
        conf.getAxis("bottom").setTicks(centred)
        conf.getAxis("left").setTicks(centred)

    def _draw_charts(self) -> None:
        ps = self.predictions
        assert ps is not None
        mask = self._mask()
        predicted, true = token_histograms(ps, self.segment, mask=mask)
        x = np.arange(len(predicted), dtype=float)
        self.predicted_bars.setOpts(x=x - BAR_WIDTH / 2, height=predicted, width=BAR_WIDTH)
        self.true_bars.setOpts(x=x + BAR_WIDTH / 2, height=true, width=BAR_WIDTH)
        hist = self.histogram_plot.getPlotItem()
        hist.setXRange(-0.6, len(predicted) - 0.4, padding=0)
        top = max(1, int(max(predicted.max(initial=0), true.max(initial=0))))
        hist.setYRange(0, top * 1.25, padding=0)  # headroom for the legend
        self.confusion = confusion_matrix(ps, self.segment, mask=mask)
        totals = self.confusion.sum(axis=1, keepdims=True)
        share = np.divide(self.confusion, totals, out=np.zeros(self.confusion.shape), where=totals > 0)
        self.confusion_image.setImage(share, levels=(0.0, 1.0), autoLevels=False)
        self.confusion_image.setRect(0, 0, share.shape[1], share.shape[0])
        conf = self.confusion_plot.getPlotItem()
        conf.setXRange(0, share.shape[1], padding=0)
        conf.setYRange(0, share.shape[0], padding=0)
        step = ps.steps if self.segment is None else self.segment % ps.steps + 1
        where = f" · {self.pattern}" if self.pattern else ""
        hist.setTitle(f"Tokens, segment {step}/{ps.steps}{where}", color=plot_colours().foreground, size="9pt")
        self.hover_label.setText("Hover the confusion matrix for counts.")

    def _show_empty(self) -> None:
        self.predicted_bars.setOpts(x=[], height=[])
        self.true_bars.setOpts(x=[], height=[])
        self.confusion = np.zeros((0, 0), np.int64)
        self.confusion_image.clear()
        self._labels = []
        self.hover_label.setText("No predictions yet.")

    def _hover_confusion(self, position: QPointF) -> None:
        if self.confusion.size == 0:
            return
        point = self.confusion_plot.getPlotItem().getViewBox().mapSceneToView(position)
        col, row = int(np.floor(point.x())), int(np.floor(point.y()))
        text = self.cell_tooltip(row, col)
        self.hover_label.setText(text or "Hover the confusion matrix for counts.")
        self.confusion_plot.setToolTip(text)
