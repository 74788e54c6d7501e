"""The Puzzle editor tab: paint a puzzle and watch the model answer it as you go.

Left to right: your puzzle (painted with the palette below it, or typed into), the model's
answer after the chosen step (cells that differ from the solver's answer marked wrong,
cells that changed at that step outlined), and what the task's solver says. Under them the
same step timeline as the Reasoning tab (right or wrong per step, sigmoid(q_halt) per
segment). The tab only draws and reports edits; `EditorController` asks the model.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox,
                               QToolButton, QVBoxLayout, QWidget)

from hrm_studio.data.grid import IGNORE
from hrm_studio.gui.editor.paint_grid import PaintGridView
from hrm_studio.gui.inspector.grid_row import CellGridView, GridRow
from hrm_studio.gui.inspector.inspector_tab import MAX_EXTRA_SEGMENTS
from hrm_studio.gui.inspector.questions import EditorAnswer
from hrm_studio.gui.inspector.step_timeline import StepTimeline, settled_text
from hrm_studio.gui.predictions.grid_view import GridContent
from hrm_studio.gui.predictions.predictions_tab import labelled
from hrm_studio.gui.widgets.flow_layout import flow_row
from hrm_studio.render.grid_geometry import GridGeometry, grid_geometry
from hrm_studio.render.grid_style import GridStyle

EMPTY = ("No model to ask yet. Train a run, or open a checkpoint or run folder, then start from one of its "
         "puzzles or a blank grid and paint: the model answers as you edit.")


class EditorTab(QWidget):
    """See the module docstring. Signals go to the controller."""

    start_requested = Signal(str)       # "current" (the puzzle the Reasoning tab shows) or "blank"
    identifier_chosen = Signal(int)
    keep_requested = Signal()
    save_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.task: dict | None = None
        self.style_: GridStyle | None = None
        self.geometry: GridGeometry | None = None
        self.inputs: np.ndarray | None = None
        self.answer: EditorAnswer | None = None
        self.tokens: list[int] = []
        self.trained_segments = 1
        self._build()

    def _build(self) -> None:
        self.current_button = QPushButton("Start from the inspected puzzle")
        self.current_button.setToolTip("Copy the puzzle the Reasoning tab shows (or the first held-out one).")
        self.blank_button = QPushButton("Blank")
        self.blank_button.setToolTip("A grid of the task's size with every cell blank (colour 0, or all walls).")
        self.extra_box = QSpinBox()
        self.extra_box.setRange(0, MAX_EXTRA_SEGMENTS)
        self.extra_box.setToolTip("Segments to run beyond the model's halt_max_steps.")
        self.identifier_box = QComboBox()
        self.identifier_box.setToolTip("The puzzle identifier the model reads (for copy-increment it names the rule).")
        self.keep_button = QPushButton("Keep puzzle")
        self.keep_button.setToolTip("Add this puzzle to the set that Save as data set… writes.")
        self.save_button = QPushButton("Save as data set…")
        self.save_button.setToolTip("Write the kept puzzles (or this one) as a small official-layout data set, "
                                    "labelled with the solver's answers.")
        self.status_label = QLabel()
        self.status_label.setObjectName("hint")
        top = flow_row(self.current_button, self.blank_button, labelled("Identifier:", self.identifier_box),
                       labelled("Extra segments:", self.extra_box),
                       self.status_label, right=(self.keep_button, self.save_button))
        self.palette_row = QWidget()
        self.palette_layout = QHBoxLayout(self.palette_row)
        self.palette_layout.setContentsMargins(0, 0, 0, 0)
        self.brush_group = QButtonGroup(self)
        self.grids = GridRow({"input": PaintGridView("Your puzzle"), "answer": CellGridView("Model says"),
                              "solver": CellGridView("Solver says")})
        self.paint_view: PaintGridView = self.grids.views["input"]   # type: ignore[assignment]
        self.timeline = StepTimeline()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setPageStep(1)
        self.step_label = QLabel()
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.empty_label = QLabel(EMPTY)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._lay_out(top)
        self._connect()
        self.set_available(False)

    def _lay_out(self, top: QWidget) -> None:
        steps = QHBoxLayout()
        steps.addWidget(QLabel("Step:"))
        steps.addWidget(self.slider, 1)
        steps.addWidget(self.step_label)
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(flow_row(QLabel("Paint with:"), self.palette_row))
        body.addWidget(self.grids, 1)
        body.addWidget(self.timeline)
        body.addLayout(steps)
        body.addWidget(self.summary_label)
        body.addStretch(0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(top)
        layout.addWidget(self.empty_label, 1)
        layout.addWidget(self.body, 1)

    def _connect(self) -> None:
        self.current_button.clicked.connect(lambda: self.start_requested.emit("current"))
        self.blank_button.clicked.connect(lambda: self.start_requested.emit("blank"))
        self.identifier_box.activated.connect(
            lambda _: self.identifier_chosen.emit(int(self.identifier_box.currentData())))
        self.keep_button.clicked.connect(self.keep_requested)
        self.save_button.clicked.connect(self.save_requested)
        self.slider.valueChanged.connect(self.set_step)
        self.timeline.step_clicked.connect(self.slider.setValue)

    # ----- set by the controller -------------------------------------------------------------------------
    def set_available(self, available: bool, why: str = EMPTY) -> None:
        self.empty_label.setText(why)
        self.empty_label.setVisible(not available)
        self.body.setVisible(available)
        for w in (self.current_button, self.blank_button, self.identifier_box, self.keep_button, self.save_button):
            w.setEnabled(available)

    def set_task(self, task: dict, tokens: list[int], trained_segments: int) -> None:
        """The model's task: its palette, identifiers and halt_max_steps."""
        self.task, self.tokens, self.trained_segments = task, tokens, trained_segments
        self.style_ = GridStyle.for_task(task)
        for button in self.brush_group.buttons():
            self.brush_group.removeButton(button)
            button.deleteLater()
        labels = list(task.get("vocab_labels") or [])
        for n, token in enumerate(tokens):
            button = QToolButton()
            button.setCheckable(True)
            pixmap = QPixmap(14, 14)
            pixmap.fill(QColor(self.style_.fill(token)))
            button.setIcon(QIcon(pixmap))
            button.setText(self.style_.label(token))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            key = labels[token] if token < len(labels) and len(labels[token]) == 1 else str(n + 1)
            button.setToolTip(f"Paint {self.style_.label(token)!r} (token {token}); key {key!r}")
            self.brush_group.addButton(button, token)
            self.palette_layout.addWidget(button)
        if tokens:
            self.brush_group.button(tokens[-1] if len(tokens) > 1 else tokens[0]).setChecked(True)
        self.identifier_box.clear()
        for i, name in enumerate(task.get("identifier_names") or []):
            if i > 0:
                self.identifier_box.addItem(name, i)

    def brush(self) -> int | None:
        token = self.brush_group.checkedId()
        return None if token < 0 else token

    def set_identifier(self, identifier: int) -> None:
        index = self.identifier_box.findData(identifier)
        if index >= 0:
            self.identifier_box.setCurrentIndex(index)

    def show_inputs(self, inputs: np.ndarray, editable: np.ndarray) -> None:
        assert self.task is not None and self.style_ is not None
        self.inputs = np.asarray(inputs)
        self.geometry = grid_geometry(self.task["grid_shape"], inputs, np.full(len(inputs), IGNORE),
                                      frame=self.task.get("display") == "colour")
        self.paint_view.set_editable(editable)
        self.grids.set_content("input", GridContent(self.inputs, self.geometry, self.style_), "Your puzzle")

    def show_answer(self, answer: EditorAnswer) -> None:
        assert self.geometry is not None and self.style_ is not None
        self.answer = answer
        labels = answer.solver_labels
        truth = None if labels is None else GridContent(np.where(labels == IGNORE, answer.inputs, labels),
                                                        self.geometry, self.style_, labels=labels)
        self.grids.set_content("solver", truth, "Solver says")
        self.grids.views["solver"].placeholder = "No solver answer"
        trace = answer.trace
        self.timeline.set_trace(trace, self.trained_segments)
        self.slider.blockSignals(True)
        self.slider.setRange(0, trace.steps - 1)
        self.slider.setValue(trace.steps - 1)
        self.slider.blockSignals(False)
        self.set_step(trace.steps - 1)

    def set_step(self, step: int) -> None:
        answer = self.answer
        if answer is None or self.geometry is None or self.style_ is None:
            return
        trace, labels = answer.trace, answer.solver_labels
        step = min(max(step, 0), trace.steps - 1)
        wrong = None if labels is None else (labels != IGNORE) & (trace.answers[step] != labels)
        right = "" if trace.correct is None else (" ✓" if trace.correct[step] else " ✗")
        self.grids.set_content("answer", GridContent(trace.answers[step], self.geometry, self.style_, labels=labels,
                                                     wrong=wrong, changed=trace.changed[step]),
                               f"Model says (step {step + 1}){right}")
        self.timeline.set_step(step)
        self.step_label.setText(f"{step + 1}/{trace.steps} · segment {trace.segment_of(step) + 1}")
        halt = float(trace.q_halt_prob[min(self.trained_segments, trace.segments) - 1])
        self.summary_label.setText(f"{answer.solver_note} {settled_text(trace)} sigmoid(q_halt) after the last "
                                   f"trained segment: {halt:.2f}.")

    def set_status(self, text: str) -> None:
        self.status_label.setText(text)
