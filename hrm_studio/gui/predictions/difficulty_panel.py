"""The Predictions tab's Difficulty view: accuracy by rating / givens / path length, and Sudoku rule breaks.

Why: one accuracy for a split hides that a model solves the easy Sudokus and none of the hard ones,
or short mazes and no long ones. A bar per group (exact match) with the token accuracy over it, the
same numbers in a table beside it, and for Sudoku how many predictions repeat a digit in a row,
column or box — a wrong answer that keeps the rules is a different failure from one that breaks
them. Every number comes from evaluation/difficulty.py (what `eval --json` prints) and follows the
segment slider. No torch here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hrm_studio.evaluation.difficulty import (
    DifficultyView,
    SudokuViolations,
    difficulty_views,
    split_violations,
)
from hrm_studio.gui.widgets.theme import plot_colours
from hrm_studio.gui.widgets.words import count

if TYPE_CHECKING:
    from hrm_studio.runstore.prediction_set import PredictionSet

COLUMN_TIPS = ("The measure's value, or a range of values holding about as many puzzles as the others.",
               "Puzzles in this group.",
               "Mean share of scored cells right, after the segment the slider shows.",
               "Share of puzzles exactly right, after the segment the slider shows.")
MEASURE_TIPS = {"rating": "The data set's own difficulty rating (Sudoku-Extreme: the solver's backtracks; "
                          "Maze-Hard: the path length).",
                "givens": "How many digits the Sudoku shows: fewer givens, harder puzzle.",
                "path_length": "Steps from S to G along the answer's path: longer, harder.",
                "cells": "How many cells the answer is scored on."}
BAR_WIDTH = 0.6


def styled_plot(title: str, left: str, bottom: str) -> pg.PlotWidget:
    """A fixed (no mouse zoom) plot in the theme's colours, 0-100 % high."""
    colours = plot_colours()
    plot = pg.PlotWidget(background=colours.background)
    item = plot.getPlotItem()
    item.setTitle(title, color=colours.foreground, size="9pt")
    item.setMenuEnabled(False)
    item.setMouseEnabled(x=False, y=False)
    item.hideButtons()
    item.showGrid(y=True, alpha=colours.grid_alpha)
    for axis, text in (("left", left), ("bottom", bottom)):
        item.getAxis(axis).setLabel(text, color=colours.foreground)
        item.getAxis(axis).setTextPen(colours.foreground)
        item.getAxis(axis).setPen(colours.foreground)
    item.getAxis("left").setTicks([[(v, str(v)) for v in range(0, 101, 20)]])   # none above 100 %
    item.setYRange(0, 105, padding=0)
    plot.setMinimumSize(120, 60)
    plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return plot


def violations_text(violations: SudokuViolations | None, segment: int, steps: int) -> str:
    """The split's rule breaks in words ("" for a task that is not a Sudoku)."""
    if violations is None:
        return ""
    s = violations.summary()
    return (f"Sudoku rules after segment {segment + 1}/{steps}: {s['puzzles_breaking_a_rule']} of "
            f"{count(s['puzzles'], 'prediction')} repeat a digit ({count(s['cells'], 'cell')}: {s['rows']} in rows, "
            f"{s['columns']} in columns, {s['boxes']} in boxes); {count(s['cells_not_a_digit'], 'cell')} "
            f"left without a digit.")


class DifficultyPanel(QWidget):
    """Measure chooser, accuracy table | bar plot, and the split's Sudoku rule breaks.

    Read by tests: `views`, `violations`, `bar_heights()`, `token_points()`, `table_text()`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.predictions: PredictionSet | None = None
        self.ratings: np.ndarray | None = None
        self.segment: int | None = None
        self.views: list[DifficultyView] = []
        self.violations: SudokuViolations | None = None
        self.measure_box = QComboBox()
        self.measure_box.setToolTip("Which difficulty to group the puzzles by.")
        self.measure_box.currentIndexChanged.connect(lambda _: self._draw())
        self.violations_label = QLabel()
        self.violations_label.setObjectName("sudokuViolations")
        self.violations_label.setWordWrap(True)
        self.violations_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.violations_label.setToolTip("Cells of a prediction that repeat a digit in their row, column or box; "
                                         "the Prediction grid outlines them in red dashes.")
        self._build_table()
        self._build_plot()
        self._build_layout()

    def _build_table(self) -> None:
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Value", "Puzzles", "Token acc", "Exact"])
        for column, tip in enumerate(COLUMN_TIPS):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setMinimumSize(120, 40)

    def _build_plot(self) -> None:
        colours = plot_colours()
        self.plot = styled_plot("Accuracy by difficulty", "% of puzzles / cells", "")
        item = self.plot.getPlotItem()
        legend = item.addLegend(offset=(-2, 2), labelTextSize="8pt", labelTextColor=colours.foreground, colCount=2)
        self.exact_bars = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, brush=colours.train, pen=pg.mkPen(None),
                                          name="exact match")
        self.token_line = pg.PlotDataItem([], [], pen=pg.mkPen(colours.validation, width=2), symbol="o",
                                          symbolSize=6, symbolBrush=colours.validation, name="token accuracy")
        item.addItem(self.exact_bars)
        item.addItem(self.token_line)
        legend.setBrush(pg.mkBrush(colours.background))
        self.plot.setToolTip("Bars: share of puzzles exactly right per group; line: mean share of cells right.")

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Accuracy by:"))
        top.addWidget(self.measure_box)
        top.addWidget(self.violations_label, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        for widget in (self.table, self.plot):
            split.addWidget(widget)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(split, 1)

    # ----- data in ---------------------------------------------------------------------------------
    def set_predictions(self, ps: PredictionSet | None, ratings: np.ndarray | None = None,
                        segment: int | None = None) -> None:
        """A new set (None clears), the data set's ratings of its puzzles if it has them, the segment shown."""
        self.predictions, self.ratings = ps, ratings
        self.set_segment(segment)

    def set_segment(self, segment: int | None) -> None:
        """Group the accuracy after this 0-based segment (None = the last)."""
        ps = self.predictions
        self.segment = segment if ps is not None and segment is not None and 0 <= segment < ps.steps else None
        if ps is None:
            self.views, self.violations = [], None
        else:
            self.views = difficulty_views(ps, self.ratings, self.segment)
            self.violations = split_violations(ps, self.segment)
        self._fill_measures()
        steps = ps.steps if ps is not None else 1
        text = violations_text(self.violations, steps - 1 if self.segment is None else self.segment, steps)
        self.violations_label.setText(text)
        self.violations_label.setVisible(bool(text))
        self._draw()

    def current_view(self) -> DifficultyView | None:
        measure = self.measure_box.currentData()
        return next((v for v in self.views if v.measure == measure), self.views[0] if self.views else None)

    # ----- what is drawn (read by tests) ------------------------------------------------------------
    def bar_heights(self) -> list[float]:
        return [float(h) for h in self.exact_bars.opts["height"]]

    def token_points(self) -> list[float]:
        _, y = self.token_line.getData()
        return [] if y is None else [float(v) for v in y]

    def table_text(self) -> list[list[str]]:
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]

    # ----- internals --------------------------------------------------------------------------------
    def _fill_measures(self) -> None:
        chosen = self.measure_box.currentData()
        self.measure_box.blockSignals(True)
        self.measure_box.clear()
        for k, view in enumerate(self.views):
            self.measure_box.addItem(view.title, view.measure)
            self.measure_box.setItemData(k, MEASURE_TIPS.get(view.measure, ""), Qt.ItemDataRole.ToolTipRole)
        self.measure_box.setCurrentIndex(max(self.measure_box.findData(chosen), 0))
        self.measure_box.blockSignals(False)
        self.measure_box.setEnabled(bool(self.views))

    def _draw(self) -> None:
        view = self.current_view()
        groups = view.groups if view is not None else ()
        self.table.setRowCount(len(groups))
        if view is not None:
            self.table.horizontalHeaderItem(0).setText(view.title)
        for r, g in enumerate(groups):
            cells = (g.label, str(g.puzzles), f"{100 * g.token_accuracy:.1f}%", f"{100 * g.exact:.1f}%")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        x = np.arange(len(groups), dtype=float)
        self.exact_bars.setOpts(x=x, height=[100 * g.exact for g in groups], width=BAR_WIDTH)
        self.token_line.setData(x, [100 * g.token_accuracy for g in groups])
        item = self.plot.getPlotItem()
        item.getAxis("bottom").setTicks([[(k, g.label) for k, g in enumerate(groups)]])
        item.getAxis("bottom").setLabel(view.title if view is not None else "", color=plot_colours().foreground)
        item.setXRange(-0.6, max(len(groups), 1) - 0.4, padding=0)
        item.setYRange(0, 118, padding=0)   # headroom for the legend
        if self.predictions is not None:
            steps = self.predictions.steps
            at = steps if self.segment is None else self.segment + 1
            item.setTitle(f"Accuracy by {view.title.lower() if view else 'difficulty'}, segment {at}/{steps}",
                          color=plot_colours().foreground, size="9pt")
