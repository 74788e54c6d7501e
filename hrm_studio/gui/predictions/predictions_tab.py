"""The Predictions tab: browse every puzzle of a split and step through the model's reasoning.

Layout: a filterable, sortable puzzle table on the left; on the right the selected
puzzle as Input | Prediction | Ground truth | Diff, a segment slider with play button
over the ACT segments, the per-segment strip (right or wrong, q_halt, q_continue, halt), and the
split-wide summaries (per-pattern table, token histograms, confusion matrix).

The tab never computes predictions on the GUI thread. During training they arrive as
PredictionsReady events from the worker; otherwise a PredictionLoader job reads the
run folder's saved predictions or evaluates the checkpoint, with a progress bar.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLabel, QProgressBar, QPushButton,
    QMenu, QSizePolicy, QSlider, QSplitter, QTableView, QToolButton, QVBoxLayout, QWidget)

from hrm_studio.gui.predictions.arc_task_switch import ArcTaskSwitch
from hrm_studio.gui.predictions.grid_area import GridArea
from hrm_studio.gui.predictions.grid_view import GridContent
from hrm_studio.gui.predictions.prediction_aggregates import PredictionAggregates
from hrm_studio.gui.predictions.puzzle_table import COLUMN_SAMPLES, COLUMNS, PuzzleFilter, PuzzleTableModel
from hrm_studio.gui.predictions.reasoning_strip import ReasoningStrip, SegmentFacts, sigmoid
from hrm_studio.gui.predictions.summary_tabs import SummaryTabs
from hrm_studio.gui.widgets.flow_layout import flow_row
from hrm_studio.render.grid_geometry import grid_geometry
from hrm_studio.render.grid_style import GridStyle
from hrm_studio.runstore.prediction_set import PredictionSet
from hrm_studio.gui.widgets.words import count

SPLIT_TEXT = {"test": "Held-out puzzles", "train": "Training puzzles"}
RESULT_TEXT = {"all": "All puzzles", "wrong": "Only wrong", "correct": "Only right"}
PLAY_MS = 700
LIST_WIDTH = (180, 420)                    # the puzzle list's first width, least and most
EMPTY_WITHOUT_MODEL = ("No predictions yet. Start a run, or open a checkpoint or run folder: the model's answer "
                       "for every puzzle appears here.")
EMPTY_WITH_MODEL = ("No predictions for this split yet. Press Evaluate whole split to run the model over its "
                    "puzzles with the settings shown (if they do not fit the model, the message above says why).")
PROGRESS_STARTING = "starting…"            # before the job knows how many puzzles there are
PROGRESS_COUNTING = "%v / %m puzzles"
PROGRESS_WIDEST = "100000 / 100000 puzzles"


class PredictionsTab(QWidget):
    """The puzzle browser, the selected puzzle's grids and its reasoning steps."""

    evaluate_requested = Signal(str)        # split: "Evaluate whole split" was pressed
    cancel_requested = Signal()
    export_requested = Signal(str)          # "png" | "gif" | "sheet"
    puzzle_shown = Signal(int)              # row of the shown puzzle in its PredictionSet

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sets: dict[str, PredictionSet] = {}
        self.split = "test"
        self.segment = 0
        self._display: str | None = None
        self._stale = False   # a set arrived while the tab was hidden: draw it when shown
        self.style_cache: tuple[int, GridStyle] | None = None
        self.can_evaluate = False
        self.model = PuzzleTableModel()
        self.proxy = PuzzleFilter()
        self.proxy.setSourceModel(self.model)
        self._play = QTimer(self)
        self._play.setInterval(PLAY_MS)
        self._play.timeout.connect(self._next_frame)
        self._build()

    # ======================================================================================
    # Layout
    # ======================================================================================
    def _build(self) -> None:
        top = self._build_toolbar()
        self._build_table()
        self._build_grids()
        options = self._build_grid_options()
        steps_row = self._build_steps_row()
        puzzle = self._build_puzzle_panel(options, steps_row)
        self._build_body(puzzle)
        self._build_main_layout(top)
        self._connect_signals()
        self._refresh_state()

    def _build_filters(self) -> None:
        self.split_box = QComboBox()
        for key, text in SPLIT_TEXT.items():
            self.split_box.addItem(text, key)
        self.split_box.setToolTip("Which puzzles to inspect: held-out ones the model never trained on, or "
                                  "training ones.")
        self.pattern_box = QComboBox()
        self.pattern_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.pattern_box.setToolTip("Show only puzzles of one pattern.")
        self.result_box = QComboBox()
        for key, text in RESULT_TEXT.items():
            self.result_box.addItem(text, key)
        self.result_box.setToolTip("Show every puzzle, only those the model gets wrong, or only right ones.")
        self.count_label = QLabel()

    def _build_toolbar(self) -> QWidget:
        """Filters on the left, what is shown and Evaluate on the right; wraps onto a second line when
        the pane is narrow instead of holding the window wide."""
        self._build_filters()
        self.source_label = QLabel()
        self.source_label.setObjectName("predictionsSource")
        self.evaluate_button = QPushButton("Evaluate whole split")
        self.evaluate_button.setToolTip("Run the model over every puzzle of this split (in the background) and "
                                        "keep the result in the run folder.")
        self.progress = QProgressBar()
        # Wide enough for the longest text it shows, so the text never wraps inside the bar.
        self.progress.setFixedWidth(self.progress.fontMetrics().horizontalAdvance(PROGRESS_WIDEST) + 48)
        self.progress.setFormat(PROGRESS_STARTING)
        self.cancel_button = QPushButton("Cancel")
        self.progress.hide()
        self.cancel_button.hide()
        return flow_row(labelled("Split:", self.split_box), labelled("Pattern:", self.pattern_box), self.result_box,
                        self.count_label,
                        right=(self.source_label, self.progress, self.cancel_button, self.evaluate_button))

    def _build_table(self) -> None:
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(20)
        # Fixed widths from the header texts: ResizeToContents would read every cell of every row
        # on each change (100 ms for 200 puzzles, per epoch while training).
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        metrics = self.table.fontMetrics()
        for column, title in enumerate(COLUMNS):
            sample = max(title, COLUMN_SAMPLES[column], key=len)
            self.table.setColumnWidth(column, metrics.horizontalAdvance(sample) + 24)
        self.table.setAlternatingRowColors(True)
        self.table.setToolTip("Click a puzzle or move with the arrow keys; click a column title to sort.")
        self.table.setMinimumWidth(140)

    def _build_grids(self) -> None:
        self.grid_area = GridArea()
        self.grid_scroll = self.grid_area   # older name
        self.views = self.grid_area.views
        self.grid_area.cell_hovered.connect(self._hovered)

    def _build_zoom_buttons(self) -> tuple[QToolButton, QToolButton, QToolButton]:
        zoom_out, zoom_in = QToolButton(), QToolButton()
        zoom_out.setText("−")
        zoom_in.setText("+")
        zoom_out.setToolTip("Smaller cells (or use the mouse wheel over a grid).")
        zoom_in.setToolTip("Larger cells (or use the mouse wheel over a grid).")
        fit = QToolButton()
        fit.setText("Fit")
        zoom_out.clicked.connect(self.grid_area.zoom_out)
        zoom_in.clicked.connect(self.grid_area.zoom_in)
        fit.clicked.connect(self.fit_cells)
        fit.setToolTip("Size the cells so the four grids fit the space again (the grids start fitted).")
        return zoom_out, zoom_in, fit

    def _build_grid_options(self) -> QWidget:
        self.numbers_box = QCheckBox("Token numbers")
        self.numbers_box.setToolTip("Write each cell's token in it (also a colour-blind friendly view).")
        self.heat_box = QCheckBox("Confidence heatmap")
        self.heat_box.setToolTip("Colour the prediction by the model's probability for its token: red unsure, "
                                 "green sure.")
        zoom_out, zoom_in, fit = self._build_zoom_buttons()
        self.save_button = QToolButton()   # one button with a menu: the row stays short on a small screen
        self.save_button.setText("Save")
        self.save_button.setToolTip("Save this puzzle as a PNG or GIF, or a contact sheet of the puzzles listed.")
        self.save_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.save_button)
        self.png_action = menu.addAction("Puzzle as PNG…")
        self.png_action.setToolTip("Save this puzzle's Input | Prediction | Ground truth | Diff panel as a PNG.")
        self.gif_action = menu.addAction("Segments as GIF…")
        self.gif_action.setToolTip("Save the prediction after every reasoning segment as an animated GIF.")
        self.sheet_action = menu.addAction("Contact sheet…")
        self.sheet_action.setToolTip("Save input / prediction / truth rows for the first puzzles listed, like "
                                     "the seed's prediction_vs_groundtruth.png.")
        menu.setToolTipsVisible(True)
        self.save_button.setMenu(menu)
        return flow_row(self.numbers_box, self.heat_box, zoom_out, zoom_in, fit,
                        right=(self.save_button,))

    def _build_steps_row(self) -> QHBoxLayout:
        self.play_button = QToolButton()
        self.play_button.setText("▶")
        self.play_button.setToolTip("Play the reasoning segments one after another.")
        self.play_button.setCheckable(True)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setMinimum(0)
        self.slider.setPageStep(1)
        self.slider.setToolTip("Which reasoning (ACT) segment to show: the prediction after it.")
        self.segment_label = QLabel()
        steps_row = QHBoxLayout()
        steps_row.addWidget(self.play_button)
        steps_row.addWidget(QLabel("Segment"))
        steps_row.addWidget(self.slider, 1)
        steps_row.addWidget(self.segment_label)
        return steps_row

    def _build_puzzle_panel(self, options: QWidget, steps_row: QHBoxLayout) -> QWidget:
        self.strip = ReasoningStrip()
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.summary_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hover_label = QLabel()
        self.hover_label.setObjectName("hoverLabel")
        self.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

        puzzle = QWidget()
        puzzle_layout = QVBoxLayout(puzzle)
        puzzle_layout.setContentsMargins(0, 0, 0, 0)
        puzzle_layout.addWidget(self.grid_scroll, 1)
        puzzle_layout.addWidget(self.hover_label)
        puzzle_layout.addWidget(options)
        puzzle_layout.addLayout(steps_row)
        puzzle_layout.addWidget(self.strip)
        puzzle_layout.addWidget(self.summary_label)
        return puzzle

    def _build_body(self, puzzle: QWidget) -> None:
        """Puzzle list | (puzzle over the summaries), both splitters draggable: the list and the
        summaries give way first when the window is small, and either can be dragged shut."""
        self.aggregates = PredictionAggregates()
        self.right_split = QSplitter(Qt.Orientation.Vertical)
        self.right_split.addWidget(puzzle)
        self.summaries = SummaryTabs(self.aggregates)   # tokens and patterns | difficulty | segments
        self.right_split.addWidget(self.summaries)
        self.right_split.setStretchFactor(0, 3)
        self.right_split.setStretchFactor(1, 1)
        self.right_split.setCollapsible(0, False)
        self.right_split.setSizes([600, 220])
        self.body = QSplitter(Qt.Orientation.Horizontal)
        self.body.addWidget(self.table)
        self.body.addWidget(self.right_split)
        self.body.setStretchFactor(0, 0)
        self.body.setStretchFactor(1, 1)
        self.body.setCollapsible(1, False)
        self._body_moved = False   # the person dragged the list's edge: keep their width
        self.body.splitterMoved.connect(lambda *_: setattr(self, "_body_moved", True))

    def _build_main_layout(self, top: QWidget) -> None:
        self.empty_label = QLabel(EMPTY_WITHOUT_MODEL)
        self.empty_label.setObjectName("predictionsEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(top)
        layout.addWidget(self.empty_label, 1)
        self.arc = ArcTaskSwitch(self.body)   # an ARC build's tasks beside the puzzle browser
        layout.addWidget(self.arc, 1)

    def _connect_signals(self) -> None:
        self.split_box.currentIndexChanged.connect(lambda _: self.set_split(self.split_box.currentData()))
        self.pattern_box.currentIndexChanged.connect(lambda _: self._filters_changed())
        self.result_box.currentIndexChanged.connect(lambda _: self._filters_changed())
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_current())
        self.proxy.layoutChanged.connect(self._update_count)
        self.numbers_box.toggled.connect(lambda on: [v.set_show_numbers(on) for v in self.views.values()])
        self.heat_box.toggled.connect(lambda _: self._show_current())
        self.slider.valueChanged.connect(self.set_segment)
        self.strip.segment_clicked.connect(self.slider.setValue)
        self.play_button.toggled.connect(self._toggle_play)
        self.evaluate_button.clicked.connect(lambda: self.evaluate_requested.emit(self.split))
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        self.png_action.triggered.connect(lambda: self.export_requested.emit("png"))
        self.gif_action.triggered.connect(lambda: self.export_requested.emit("gif"))
        self.sheet_action.triggered.connect(lambda: self.export_requested.emit("sheet"))
        self.aggregates.pattern_selected.connect(self.set_pattern_filter)

    # ======================================================================================
    # Data in
    # ======================================================================================
    def set_predictions(self, ps: PredictionSet) -> None:
        """A new PredictionSet for its split; the selected puzzle stays selected if it is still there.

        While the tab is hidden (training with the Metrics tab in front) the set is only kept and
        drawn when the tab is shown, so each epoch's predictions cost the window nothing."""
        self.sets[ps.split] = ps
        if ps.split == self.split:
            if self.isVisible():
                self._load_current()
            else:
                self._stale = True
        self._refresh_state()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        self._flush()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._size_body()

    def _size_body(self) -> None:
        """The puzzle list takes about a quarter of the width (LIST_WIDTH) until the person drags it."""
        if self._body_moved:
            return
        width = self.width()
        table = min(max(width // 4, LIST_WIDTH[0]), LIST_WIDTH[1])
        self.body.setSizes([table, max(width - table, 1)])

    def _flush(self) -> None:
        """Draw a set that arrived while hidden, before anything reads the table."""
        if self._stale:
            self._load_current()
            self._refresh_state()

    def clear(self) -> None:
        """Forget every prediction (a new run or another model was opened)."""
        self.sets.clear()
        self._load_current()
        self._refresh_state()

    def current_set(self) -> PredictionSet | None:
        return self.sets.get(self.split)

    def set_split(self, split: str) -> None:
        if split not in SPLIT_TEXT:
            raise ValueError(f"unknown split {split!r}")
        if split == self.split and self.split_box.currentData() == split:
            return
        self.split = split
        self.split_box.blockSignals(True)
        self.split_box.setCurrentIndex(self.split_box.findData(split))
        self.split_box.blockSignals(False)
        self._load_current()
        self._refresh_state()

    def set_pattern_filter(self, pattern: str) -> None:
        self._flush()
        index = self.pattern_box.findData(pattern)
        self.pattern_box.setCurrentIndex(max(index, 0))

    def set_result_filter(self, result: str) -> None:
        self._flush()
        self.result_box.setCurrentIndex(self.result_box.findData(result))

    def set_evaluation_available(self, available: bool) -> None:
        """Whether there is a model to evaluate (a checkpoint or a finished run)."""
        self.can_evaluate = available
        self._refresh_state()

    def show_progress(self, done: int, total: int) -> None:
        """`total` 0: the evaluation is starting and does not know its size yet."""
        self.progress.setFormat(PROGRESS_COUNTING if total > 0 else PROGRESS_STARTING)
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.progress.show()
        self.cancel_button.show()
        self.evaluate_button.setEnabled(False)

    def hide_progress(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self._refresh_state()

    # ======================================================================================
    # Selection
    # ======================================================================================
    def shown_rows(self) -> list[int]:
        """PredictionSet rows listed right now, in the table's order."""
        self._flush()
        return self.proxy.source_rows()

    def selected_row(self) -> int | None:
        self._flush()
        return self._current_row()

    def _current_row(self) -> int | None:
        """The selected PredictionSet row as the table holds it now (no flush: internal use)."""
        current = self.table.currentIndex()
        if not current.isValid():
            return None
        return self.proxy.mapToSource(current).row()

    def select_row(self, row: int) -> bool:
        """Select PredictionSet row `row` if the filters show it."""
        self._flush()
        proxy_index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not proxy_index.isValid():
            return False
        self.table.selectionModel().setCurrentIndex(
            proxy_index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(proxy_index)
        return True

    def select_first_wrong(self) -> bool:
        """Select the first wrong puzzle listed; False when every listed puzzle is right."""
        self._flush()
        ps = self.current_set()
        if ps is None:
            return False
        for row in self.shown_rows():
            if not ps.exact()[row]:
                return self.select_row(row)
        return False

    # ======================================================================================
    # Segments
    # ======================================================================================
    def set_segment(self, segment: int) -> None:
        self._flush()
        ps = self.current_set()
        steps = ps.steps if ps is not None else 1
        segment = min(max(int(segment), 0), steps - 1)
        self.segment = segment
        if self.slider.value() != segment:
            self.slider.setValue(segment)
            return
        self.strip.set_current(segment)
        self.segment_label.setText(f"{segment + 1} of {steps}")
        self.aggregates.set_segment(segment)
        self.summaries.set_segment(segment)
        self._draw_puzzle()

    def _toggle_play(self, on: bool) -> None:
        self.play_button.setText("⏸" if on else "▶")
        if on:
            if self.segment >= self.slider.maximum():
                self.slider.setValue(0)
            self._play.start()
        else:
            self._play.stop()

    def _next_frame(self) -> None:
        if self.segment >= self.slider.maximum():
            self.play_button.setChecked(False)
            return
        self.slider.setValue(self.segment + 1)

    @property
    def zoomed(self) -> bool:
        """The person zoomed: their cell size stays until Fit or another puzzle shape."""
        return self.grid_area.zoomed

    def set_cell_size(self, cell: float) -> None:
        """Zoom every grid together; the size stays until Fit (or another puzzle shape)."""
        self.grid_area.set_cell_size(cell)

    def fit_cells(self) -> None:
        """The largest cell size at which the four grids fit the space they have."""
        self.grid_area.fit()

    # ======================================================================================
    # Drawing
    # ======================================================================================
    def _load_current(self) -> None:
        """Put the current split's set into the table, keeping the selected puzzle."""
        self._stale = False
        ps = self.current_set()
        previous = self._selected_split_index()
        self.model.set_predictions(ps)
        self._fill_patterns(ps)
        steps = ps.steps if ps is not None else 1
        self.slider.blockSignals(True)
        self.slider.setMaximum(steps - 1)
        self.slider.setValue(steps - 1)   # the answer after all segments: what exact match scores
        self.slider.blockSignals(False)
        self.segment = steps - 1
        self.segment_label.setText(f"{steps} of {steps}")
        self.aggregates.set_predictions(ps)
        self.aggregates.set_segment(self.segment)
        self.summaries.set_predictions(ps, self.segment)
        self.arc.show_set(ps)
        display = ps.task.get("display") if ps is not None else None
        if display is not None and display != self._display:
            self._display = display   # Sudoku digits are the content: numbers on by default there
            self.numbers_box.setChecked(self._style(ps).shows_text_by_default())
        self._update_count()
        if ps is not None:
            row = None
            if previous is not None:
                hits = np.flatnonzero(np.asarray(ps.indices) == previous)
                row = int(hits[0]) if hits.size else None
            rows = self.shown_rows()
            if row is None or not self.select_row(row):
                if rows:
                    self.select_row(rows[0])
        self._show_current()

    def _selected_split_index(self) -> int | None:
        ps, row = self.model.predictions, self._current_row()
        if ps is None or row is None or row >= len(ps):
            return None
        return int(ps.indices[row])

    def _fill_patterns(self, ps: PredictionSet | None) -> None:
        chosen = self.pattern_box.currentData() or ""
        self.pattern_box.blockSignals(True)
        self.pattern_box.clear()
        self.pattern_box.addItem("All patterns", "")
        if ps is not None:
            for pattern in ps.puzzles.pattern_names:
                self.pattern_box.addItem(pattern, pattern)
        self.pattern_box.setCurrentIndex(max(self.pattern_box.findData(chosen), 0))
        self.pattern_box.blockSignals(False)
        self.proxy.set_pattern(self.pattern_box.currentData() or "")

    def _filters_changed(self) -> None:
        self.proxy.set_pattern(self.pattern_box.currentData() or "")
        self.proxy.set_result(self.result_box.currentData() or "all")
        self._update_count()
        if self._current_row() is None and self.shown_rows():
            self.select_row(self.shown_rows()[0])
        self._show_current()

    def _update_count(self) -> None:
        total = len(self.model.predictions) if self.model.predictions is not None else 0
        self.count_label.setText(f"{self.proxy.rowCount()} of {total} listed")

    def _style(self, ps: PredictionSet) -> GridStyle:
        key = id(ps.task)
        if self.style_cache is None or self.style_cache[0] != key:
            self.style_cache = (key, GridStyle.for_task(ps.task))
        return self.style_cache[1]

    def _show_current(self) -> None:
        row = self._current_row()
        ps = self.current_set()
        if ps is None or row is None:
            for view in self.views.values():
                view.set_content(None)
            self.strip.set_facts(None)
            self.summary_label.setText("")
            self._refresh_state()
            return
        pred = ps.predictions
        self.strip.set_facts(SegmentFacts(
            exact=pred.exact[row], halt_p=sigmoid(pred.q_halt[row]), continue_p=sigmoid(pred.q_continue[row]),
            halt_step=int(pred.halt_step[row]), correct_from=int(self.model.column("from")[row])), self.segment)
        self._draw_puzzle()
        self._refresh_state()
        self.puzzle_shown.emit(row)

    def _draw_puzzle(self) -> None:
        row = self._current_row()
        ps = self.current_set()
        if ps is None or row is None:
            return
        style = self._style(ps)
        inputs, labels = ps.puzzles.inputs[row], ps.puzzles.labels[row]
        geometry = grid_geometry(ps.task["grid_shape"], inputs, labels, frame=ps.task.get("display") == "colour")
        t = self.segment
        tokens = ps.predictions.predictions[row, t]
        confidence = ps.predictions.confidence[row, t].astype(np.float32)
        wrong = ps.wrong_cells(row, t)
        changed = ps.changed_cells(row, t)
        truth = np.where(labels == -100, 0, labels)
        broken, rules = self.summaries.puzzle_violations(ps, tokens)   # Sudoku only: repeated digits
        v = self.views
        v["input"].set_content(GridContent(inputs, geometry, style))
        v["prediction"].set_content(
            GridContent(tokens, geometry, style, labels=labels, confidence=confidence, changed=changed,
                        heatmap=self.heat_box.isChecked(), violations=broken),
            title=f"Prediction ({t + 1}/{ps.steps})")
        v["truth"].set_content(GridContent(truth, geometry, style, labels=labels))
        v["diff"].set_content(GridContent(tokens, geometry, style, labels=labels, confidence=confidence,
                                          wrong=wrong), title=f"Diff: {int(wrong.sum())} wrong")
        self.grid_area.shape_shown((geometry.rows, geometry.cols))
        exact = bool(ps.predictions.exact[row, t])
        acc = ps.predictions.token_correct[row, t] / max(int(ps.predictions.token_count[row]), 1)
        facts = self.strip.facts
        self.summary_label.setText(
            f"Puzzle {int(ps.indices[row])} ({ps.puzzles.patterns[row]}): after segment {t + 1}, "
            f"{100 * float(acc):.1f} % of cells right, {'exactly right' if exact else 'not exactly right'}, "
            f"{count(int(changed.sum()), 'cell')} changed since the segment before. {facts.summary if facts else ''}"
            f"{' ' + rules if rules else ''}")

    def _hovered(self, text: str) -> None:
        self.hover_label.setText(text)

    def _refresh_state(self) -> None:
        ps = self.current_set()
        has = ps is not None
        self.empty_label.setVisible(not has)
        if not has:   # a model is open but nothing is shown: say how to get its predictions, not to open one
            self.empty_label.setText(EMPTY_WITH_MODEL if self.can_evaluate else EMPTY_WITHOUT_MODEL)
        self.arc.setVisible(has)
        selected = has and self._current_row() is not None
        for w in (self.png_action, self.gif_action, self.play_button, self.slider):
            if w.isEnabled() != selected:
                w.setEnabled(selected)
        self.sheet_action.setEnabled(has and self.proxy.rowCount() > 0)
        self.save_button.setEnabled(selected or self.sheet_action.isEnabled())
        busy = self.progress.isVisible()
        self.evaluate_button.setEnabled(self.can_evaluate and not busy)
        self.summaries.segments.set_available(self.can_evaluate and not busy)
        text = ""
        if ps is not None:
            what = "whole split" if ps.complete else "a fixed sample followed during training"
            epoch = f"Epoch {ps.epoch} · " if ps.epoch else ""   # 0: the weights do not say (bare weights)
            text = f"{epoch}{count(len(ps), 'puzzle')}, {what}"
        if self.source_label.text() != text:   # a new text re-lays out the bar: only when it changes
            self.source_label.setText(text)

    def rendered_views(self) -> dict[str, GridContent | None]:
        """What each grid shows now (for tests and exports)."""
        self._flush()
        return {name: view.content for name, view in self.views.items()}


def first_changed_segment(ps: PredictionSet, row: int) -> int | None:
    """The first segment (0-based, ≥ 1) whose prediction differs from the one before, None if none."""
    pred = ps.predictions.predictions[row]
    for t in range(1, pred.shape[0]):
        if (pred[t] != pred[t - 1]).any():
            return t
    return None


def labelled(text: str, widget: QWidget) -> QWidget:
    """`widget` with its label in front, kept together on one line of a flow row."""
    host = QWidget()
    row = QHBoxLayout(host)
    row.setContentsMargins(0, 0, 0, 0)
    label = QLabel(text)
    label.setBuddy(widget)
    row.addWidget(label)
    row.addWidget(widget)
    return host
