"""The Reasoning tab: one puzzle's answer after every high-level update, its state dynamics, where a
cell looks, and the split's per-step curve.

Left: Input | Answer after the chosen step | Ground truth, the step timeline (right or wrong,
cells changed, sigmoid(q_halt) per segment, the settled step) and the step slider. Right, in
pages: the dynamics plots (residuals on a log scale, the z_H PCA trajectory), the attention
heatmap of the clicked cell, and the split's step curve. The tab only draws: questions to the
model go through `InspectorController`, which owns the model jobs.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QMenu, QPushButton, QSlider, QSpinBox, QSplitter,
                               QTabWidget, QToolButton, QVBoxLayout, QWidget)

from hrm_studio.analysis import AttentionMap, ReasoningTrace, StepCurve
from hrm_studio.data.grid import IGNORE
from hrm_studio.gui.inspector.attention_view import AttentionGridView, PrefixStrip
from hrm_studio.gui.inspector.dynamics_plots import DynamicsPlots, StepCurvePlot
from hrm_studio.gui.inspector.grid_row import CellGridView, GridRow
from hrm_studio.gui.inspector.step_timeline import StepTimeline, settled_text
from hrm_studio.gui.predictions.grid_view import GridContent
from hrm_studio.gui.predictions.predictions_tab import labelled
from hrm_studio.gui.widgets.flow_layout import flow_row
from hrm_studio.render.grid_geometry import GridGeometry, grid_geometry
from hrm_studio.render.grid_style import GridStyle

SPLIT_TEXT = {"test": "Held-out", "train": "Training"}
MAX_EXTRA_SEGMENTS = 16
EMPTY = ("No model to inspect yet. Train a run, or open a checkpoint or run folder: the answer after every "
         "reasoning step of any puzzle appears here.")
EXPORTS = {"strip": "Timeline as PNG strip…", "gif": "Timeline as GIF…", "dynamics": "Dynamics plots (PNG/SVG)…",
           "curve": "Step curve (PNG/SVG)…"}


class InspectorTab(QWidget):
    """See the module docstring; `puzzle_chosen`, `recompute_requested` and the rest go to the controller."""

    puzzle_chosen = Signal(str, int)        # split, index in the split
    recompute_requested = Signal()
    step_changed = Signal(int)
    cell_chosen = Signal(int)               # sequence position clicked
    attention_changed = Signal()            # level / layer / head changed
    curve_requested = Signal()
    export_requested = Signal(str)          # a key of EXPORTS

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trace: ReasoningTrace | None = None
        self.inputs: np.ndarray | None = None
        self.labels: np.ndarray | None = None
        self.task: dict | None = None
        self.trained_segments = 1
        self.cell: int | None = None
        self.sizes: dict[str, int] = {}
        self.summary_title = ""
        self._style: GridStyle | None = None
        self._geometry: GridGeometry | None = None
        self._build()

    # ======================================================================================
    # Layout
    # ======================================================================================
    def _build(self) -> None:
        top = self._build_top()
        left = self._build_left()
        right = self._build_right()
        self.body = QSplitter(Qt.Orientation.Horizontal)
        self.body.addWidget(left)
        self.body.addWidget(right)
        self.body.setStretchFactor(0, 3)
        self.body.setStretchFactor(1, 2)
        self.body.setChildrenCollapsible(False)
        self._connect()
        self.empty_label = QLabel(EMPTY)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(top)
        layout.addWidget(self.empty_label, 1)
        layout.addWidget(self.body, 1)
        self.set_available(False)

    def _build_top(self) -> QWidget:
        self.split_box = QComboBox()
        for key, text in SPLIT_TEXT.items():
            self.split_box.addItem(text, key)
        self.index_box = QSpinBox()
        self.index_box.setToolTip("Which puzzle of the split (its row). Selecting a puzzle in the Predictions "
                                  "tab shows it here too.")
        self.extra_box = QSpinBox()
        self.extra_box.setRange(0, MAX_EXTRA_SEGMENTS)
        self.extra_box.setToolTip("Segments to run beyond the model's halt_max_steps: does more thinking fix or "
                                  "break the answer?")
        self.pca_box = QComboBox()
        self.pca_box.addItem("mean over cells", "mean")
        self.pca_box.addItem("clicked cell", "cell")
        self.pca_box.setToolTip("What the z_H trajectory summarises: the mean state over the puzzle's cells, or "
                                "the state of the cell clicked last.")
        self.recompute_button = QPushButton("Recompute")
        self.recompute_button.setToolTip("Run the model on this puzzle again with these options.")
        self.status_label = QLabel()
        self.status_label.setObjectName("hint")
        self.export_button = QToolButton()
        self.export_button.setText("Save")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        self.export_actions = {key: menu.addAction(text) for key, text in EXPORTS.items()}
        for key, action in self.export_actions.items():
            action.triggered.connect(lambda _=False, k=key: self.export_requested.emit(k))
        self.export_button.setMenu(menu)
        return flow_row(labelled("Puzzle:", self.split_box), self.index_box,
                        labelled("Extra segments:", self.extra_box), labelled("PCA of:", self.pca_box),
                        self.recompute_button, self.status_label, right=(self.export_button,))

    def _build_left(self) -> QWidget:
        self.grids = GridRow({"input": CellGridView("Input"), "answer": CellGridView("Answer"),
                              "truth": CellGridView("Ground truth")})
        self.timeline = StepTimeline()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setPageStep(1)
        self.slider.setToolTip("Which high-level update to show: the answer decoded after it.")
        self.step_label = QLabel()
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        steps = QHBoxLayout()
        steps.addWidget(QLabel("Step:"))
        steps.addWidget(self.slider, 1)
        steps.addWidget(self.step_label)
        left = QWidget()
        layout = QVBoxLayout(left)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.grids, 1)
        layout.addWidget(self.timeline)
        layout.addLayout(steps)
        layout.addWidget(self.summary_label)
        layout.addStretch(0)
        return left

    def _build_right(self) -> QWidget:
        self.pages = QTabWidget()
        self.dynamics = DynamicsPlots()
        self.pages.addTab(self.dynamics, "Dynamics")
        self.pages.addTab(self._build_attention_page(), "Attention")
        self.curve = StepCurvePlot()
        self.curve_button = QPushButton("Compute for the split")
        self.curve_button.setToolTip("Run every puzzle of the chosen split through all steps (in the background).")
        self.curve_label = QLabel()
        self.curve_label.setWordWrap(True)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.curve, 1)
        layout.addWidget(flow_row(self.curve_button, self.curve_label))
        self.pages.addTab(page, "Step curve")
        self.pages.setMinimumWidth(280)
        return self.pages

    def _build_attention_page(self) -> QWidget:
        self.level_box = QComboBox()
        self.layer_box = QSpinBox()
        self.head_box = QSpinBox()
        self.attention_view = AttentionGridView()
        self.prefix_strip = PrefixStrip()
        self.attention_note = QLabel("Click a cell of the Input or Answer grid; the weights follow the step slider.")
        self.attention_note.setWordWrap(True)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(flow_row(labelled("Level:", self.level_box), labelled("Layer:", self.layer_box),
                                  labelled("Head:", self.head_box)))
        self.attention_row = GridRow({"attention": self.attention_view})
        layout.addWidget(self.attention_row, 1)
        layout.addWidget(self.prefix_strip)
        layout.addWidget(self.attention_note)
        return page

    def _connect(self) -> None:
        self.split_box.currentIndexChanged.connect(lambda _: self._emit_puzzle())
        self.index_box.valueChanged.connect(lambda _: self._emit_puzzle())
        self.recompute_button.clicked.connect(self.recompute_requested)
        self.slider.valueChanged.connect(self.set_step)
        self.timeline.step_clicked.connect(self.slider.setValue)
        for view in (self.grids.views["input"], self.grids.views["answer"], self.attention_view):
            view.cell_clicked.connect(self._cell_clicked)
        self.level_box.currentIndexChanged.connect(lambda _: self._level_limits())
        for box in (self.level_box, self.layer_box, self.head_box):
            signal = box.currentIndexChanged if isinstance(box, QComboBox) else box.valueChanged
            signal.connect(lambda _: self.attention_changed.emit())
        self.curve_button.clicked.connect(self.curve_requested)

    # ======================================================================================
    # What the controller sets
    # ======================================================================================
    def set_available(self, available: bool, why: str = EMPTY) -> None:
        self.empty_label.setText(why)
        self.empty_label.setVisible(not available)
        self.body.setVisible(available)
        for w in (self.recompute_button, self.export_button, self.index_box, self.split_box, self.extra_box):
            w.setEnabled(available)

    def set_model(self, task: dict, sizes: dict[str, int], trained_segments: int,
                  levels: dict[str, tuple[int, int]]) -> None:
        """The model's task, split sizes, halt_max_steps and attention shape (level → (layers, heads))."""
        self.task = task
        self._style = GridStyle.for_task(task)
        self.trained_segments = trained_segments
        self.sizes = sizes
        self.level_box.blockSignals(True)
        self.level_box.clear()
        for level, (layers, heads) in levels.items():
            self.level_box.addItem(f"{level} ({'high' if level == 'H' else 'low'})", (level, layers, heads))
        self.level_box.blockSignals(False)
        self._level_limits()
        self._index_limit()

    def _level_limits(self) -> None:
        data = self.level_box.currentData()
        if data is not None:
            self.layer_box.setRange(0, data[1] - 1)
            self.head_box.setRange(0, data[2] - 1)

    def _index_limit(self) -> None:
        size = self.sizes.get(self.split, 0)
        self.index_box.setRange(0, max(size - 1, 0))
        self.index_box.setSuffix(f" of {size}")

    @property
    def split(self) -> str:
        return str(self.split_box.currentData())

    def choose_puzzle(self, split: str, index: int) -> None:
        """Show puzzle `index` of `split` (from the Predictions tab); emits puzzle_chosen once."""
        self.split_box.blockSignals(True)
        self.index_box.blockSignals(True)
        self.split_box.setCurrentIndex(max(self.split_box.findData(split), 0))
        self._index_limit()
        self.index_box.setValue(index)
        self.split_box.blockSignals(False)
        self.index_box.blockSignals(False)
        self._emit_puzzle()

    def _emit_puzzle(self) -> None:
        self._index_limit()
        self.puzzle_chosen.emit(self.split, self.index_box.value())

    def attention_choice(self) -> tuple[str, int, int]:
        data = self.level_box.currentData()
        return (data[0] if data else "H", self.layer_box.value(), self.head_box.value())

    def pca_cell(self) -> int | None:
        return self.cell if self.pca_box.currentData() == "cell" else None

    def show_trace(self, trace: ReasoningTrace, inputs: np.ndarray, labels: np.ndarray | None, title: str) -> None:
        self.trace, self.inputs, self.labels = trace, np.asarray(inputs), labels
        assert self.task is not None
        shown = labels if labels is not None else np.full(len(inputs), IGNORE)
        self._geometry = grid_geometry(self.task["grid_shape"], inputs, shown,
                                       frame=self.task.get("display") == "colour")
        style = self._style or GridStyle.for_task(self.task)
        self.grids.set_content("input", GridContent(self.inputs, self._geometry, style), "Input")
        truth = None if labels is None else GridContent(np.where(labels == IGNORE, self.inputs, labels),
                                                        self._geometry, style, labels=labels)
        self.grids.set_content("truth", truth, "Ground truth")
        self.grids.views["truth"].placeholder = "No ground truth"
        self.timeline.set_trace(trace, self.trained_segments)
        self.dynamics.set_trace(trace, self.trained_segments)
        self.slider.blockSignals(True)
        self.slider.setRange(0, trace.steps - 1)
        self.slider.setValue(trace.steps_per_segment * min(self.trained_segments, trace.segments) - 1)
        self.slider.blockSignals(False)
        self.summary_title = title
        self.set_step(self.slider.value())

    def set_step(self, step: int) -> None:
        trace = self.trace
        if trace is None or self._geometry is None or self.task is None or self.inputs is None:
            return
        step = min(max(step, 0), trace.steps - 1)
        if self.slider.value() != step:
            self.slider.setValue(step)   # comes back here
            return
        labels = self.labels
        wrong = None if labels is None else (labels != IGNORE) & (trace.answers[step] != labels)
        style = self._style or GridStyle.for_task(self.task)
        seg = trace.segment_of(step)
        right = "" if trace.correct is None else (" ✓" if trace.correct[step] else " ✗")
        self.grids.set_content("answer", GridContent(trace.answers[step], self._geometry, style, labels=labels,
                                                     wrong=wrong, changed=trace.changed[step]),
                               f"Answer after step {step + 1}{right}")
        self.timeline.set_step(step)
        inner = step - seg * trace.steps_per_segment
        extra = " (extra)" if seg >= self.trained_segments else ""
        self.step_label.setText(f"{step + 1}/{trace.steps} · segment {seg + 1}{extra}, update {inner + 1}")
        changed = int(trace.changed[step].sum())
        self.summary_label.setText(f"{self.summary_title}: {changed} cell{'s' if changed != 1 else ''} changed at "
                                   f"this step (outlined). {settled_text(trace)}")
        self.step_changed.emit(step)

    def set_cell(self, cell: int | None) -> None:
        self.cell = cell

    def _cell_clicked(self, pos: int) -> None:
        self.cell = pos
        self.cell_chosen.emit(pos)

    def show_attention(self, attention: AttentionMap | None) -> None:
        if self._geometry is None or self.task is None or self.inputs is None:
            return
        content = GridContent(self.inputs, self._geometry, self._style or GridStyle.for_task(self.task))
        title = "Attention"
        if attention is not None:
            r, c = divmod(attention.cell, self._geometry.grid_cols)
            title = (f"Cell ({r + 1 - self._geometry.row_start}, {c + 1 - self._geometry.col_start}) at step "
                     f"{attention.step + 1}, {attention.level} layer {attention.layer} head {attention.head}")
        self.attention_view.set_map(content, attention, title)
        self.attention_row.fit()
        top = self.attention_view.top_weight()
        self.prefix_strip.set_weights(attention.prefix_weights if attention is not None else np.zeros(0), top)

    def show_curve(self, curve: StepCurve | None, text: str) -> None:
        self.curve.set_curve(curve, self.trained_segments)
        self.curve_label.setText(text)

    def set_status(self, text: str) -> None:
        self.status_label.setText(text)
