"""The ARC task view: a task list with a passed / failed filter, and the chosen task laid out.

For the chosen task: its demonstration pairs; for each test input the input, the right answer
and the candidates after voting ranked as the protocol ranks them (votes, mean confidence, the
right one framed green); and an augmentation browser — each augmented test example's input and
prediction in its own frame, and the prediction mapped back, with the candidate it voted for.
Everything shown is plain data made on a worker thread (`evaluation.arc.task_view`).
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QScrollArea, QSlider, QSplitter,
    QVBoxLayout, QWidget)

from hrm_studio.evaluation.arc.task_view import PASS_K, ArcTaskViews, TaskView, TestInputView
from hrm_studio.gui.predictions.arc_grid_tile import ArcGridTile, arc_style
from hrm_studio.gui.widgets.flow_layout import FlowLayout
from hrm_studio.gui.widgets.words import count

FILTERS = {"all": "All tasks", "passed": "Passed", "failed": "Failed"}
MAX_CANDIDATES = 8   # shown as tiles; the rest are counted
DEMO_TILE = 80


def section(text: str) -> QLabel:
    label = QLabel(f"<b>{text}</b>")
    label.setContentsMargins(0, 6, 0, 0)
    return label


def tile_row() -> tuple[QWidget, FlowLayout]:
    host = QWidget()
    layout = FlowLayout(host, spacing=10)
    return host, layout


class ArcTaskView(QWidget):
    """Task list (filterable) | the chosen task's demonstrations, candidates and augmentations."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views: ArcTaskViews | None = None
        self.style = arc_style()
        self._build()

    # ----- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        self.filter_box = QComboBox()
        for key, text in FILTERS.items():
            self.filter_box.addItem(text, key)
        self.filter_box.setToolTip(f"List every task, only those the model passes (the right answer among its "
                                   f"top {PASS_K} candidates for every test input) or only those it fails.")
        self.count_label = QLabel()
        self.count_label.setWordWrap(True)
        self.task_list = QListWidget()
        self.task_list.setToolTip("Click a task to see its demonstrations and the model's answers.")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.filter_box)
        left_layout.addWidget(self.count_label)
        left_layout.addWidget(self.task_list, 1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self._build_details())
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.scroll)
        split.setStretchFactor(1, 1)
        split.setCollapsible(1, False)
        split.setSizes([200, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.filter_box.currentIndexChanged.connect(lambda _: self._fill_list())
        self.task_list.currentItemChanged.connect(lambda *_: self._show_task())
        self.test_box.currentIndexChanged.connect(lambda _: self._show_test())
        self.aug_slider.valueChanged.connect(lambda _: self._show_augmentation())

    def _build_details(self) -> QWidget:
        details = QWidget()
        layout = QVBoxLayout(details)
        self.title_label = QLabel()
        self.title_label.setWordWrap(True)
        self.demo_host, self.demo_row = tile_row()
        self.demo_note = QLabel()
        self.test_box = QComboBox()
        self.test_box.setToolTip("A task can have more than one test input; each is voted on and scored apart.")
        self.test_host, self.test_row = tile_row()
        self.candidates_label = QLabel()
        self.candidates_label.setWordWrap(True)
        self.aug_slider = QSlider(Qt.Orientation.Horizontal)
        self.aug_slider.setPageStep(1)
        self.aug_slider.setToolTip("Browse the augmented copies of this test input the model answered.")
        self.aug_label = QLabel()   # three short lines, broken by hand: a wrapped label here lost its last line
        self.aug_tiles = [ArcGridTile(self.style, t) for t in ("Augmented input", "Its prediction", "Mapped back")]
        aug_row = QHBoxLayout()   # the three grids, and beside them which augmentation and the slider
        for tile in self.aug_tiles:
            aug_row.addWidget(tile)
        aug_side = QVBoxLayout()
        aug_side.addStretch(1)
        aug_side.addWidget(self.aug_label)
        aug_side.addWidget(self.aug_slider)
        aug_side.addStretch(1)
        aug_row.addLayout(aug_side, 1)
        test_head = QHBoxLayout()
        test_head.addWidget(section("Test input and the candidates after voting"))
        test_head.addWidget(self.test_box)
        test_head.addStretch(1)
        for item in (self.title_label, section("Demonstrations"), self.demo_note, self.demo_host):
            layout.addWidget(item)
        layout.addLayout(test_head)
        layout.addWidget(self.test_host)
        layout.addWidget(self.candidates_label)
        layout.addWidget(section("Every augmentation's answer"))
        layout.addLayout(aug_row)
        layout.addStretch(1)
        return details

    # ----- data in --------------------------------------------------------------------------------
    def set_views(self, views: ArcTaskViews | None) -> None:
        """New task data; the chosen task stays chosen when it is still there."""
        self.views = views
        self._fill_list()

    def set_filter(self, key: str) -> None:
        self.filter_box.setCurrentIndex(self.filter_box.findData(key))

    def listed_tasks(self) -> list[str]:
        return [self.task_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.task_list.count())]

    def select_task(self, task_id: str) -> bool:
        for i in range(self.task_list.count()):
            if self.task_list.item(i).data(Qt.ItemDataRole.UserRole) == task_id:
                self.task_list.setCurrentRow(i)
                return True
        return False

    def current_task(self) -> TaskView | None:
        item = self.task_list.currentItem()
        if self.views is None or item is None:
            return None
        return self.views.task(item.data(Qt.ItemDataRole.UserRole))

    def current_test(self) -> TestInputView | None:
        task = self.current_task()
        if task is None or not task.tests:
            return None
        return task.tests[max(self.test_box.currentIndex(), 0)]

    # ----- drawing --------------------------------------------------------------------------------
    def _fill_list(self) -> None:
        chosen = self.current_task()
        key = self.filter_box.currentData() or "all"
        self.task_list.blockSignals(True)
        self.task_list.clear()
        views = self.views
        tasks = [] if views is None else [t for t in views.tasks if key == "all" or t.passed == (key == "passed")]
        for task in tasks:
            item = QListWidgetItem(f"{'✓' if task.passed else '✗'}  {task.task_id}")
            item.setData(Qt.ItemDataRole.UserRole, task.task_id)
            item.setToolTip(_task_sentence(task))
            self.task_list.addItem(item)
        self.task_list.blockSignals(False)
        if views is not None:
            self.count_label.setText(
                f"{len(tasks)} of {count(len(views.tasks), 'task')} listed · {views.passed} passed, "
                f"{views.failed} failed at pass@{PASS_K} · pass@{PASS_K} {views.score.pass_at(PASS_K):.2f}")
        else:
            self.count_label.setText("")
        if not (chosen is not None and self.select_task(chosen.task_id)) and tasks:
            self.task_list.setCurrentRow(0)
        self._show_task()

    def _show_task(self) -> None:
        task = self.current_task()
        self.title_label.setText(
            "Choose a task on the left." if task is None else f"<b>Task {task.task_id}</b> · {_task_sentence(task)}")
        _clear_row(self.demo_row)
        has_demos = self.views is not None and self.views.has_demonstrations
        self.demo_note.setVisible(not has_demos)
        self.demo_note.setText("Not shown: the data set folder holds no arc_tasks.json (HRM Studio's build writes "
                               "one, the official builder does not). The test inputs and answers are read from "
                               "its test split.")
        for number, pair in enumerate(task.demonstrations if task else (), start=1):
            self.demo_row.add_widget(self._pair_widget(number, pair.input, pair.output))
        self.test_box.blockSignals(True)
        self.test_box.clear()
        for test in task.tests if task else ():
            self.test_box.addItem(f"Test input {test.index + 1} of {len(task.tests)}")
        self.test_box.setVisible(task is not None and len(task.tests) > 1)
        self.test_box.blockSignals(False)
        self._show_test()

    def _pair_widget(self, number: int, grid_in, grid_out) -> QWidget:
        host = QWidget()
        row = QHBoxLayout(host)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        for grid, word in ((grid_in, "input"), (grid_out, "output")):
            tile = ArcGridTile(self.style, side=DEMO_TILE)
            tile.set_grid(grid, f"{number}. {word}", f"{grid.shape[0]}×{grid.shape[1]}")
            row.addWidget(tile)
            if word == "input":
                row.addWidget(QLabel("→"))
        return host

    def _show_test(self) -> None:
        test = self.current_test()
        _clear_row(self.test_row)
        if test is None:
            self.candidates_label.setText("")
            self._set_augmentations(None)
            return
        shape = lambda g: f"{g.shape[0]}×{g.shape[1]}"  # noqa: E731
        for title, grid in (("Test input", test.input), ("Right answer", test.answer)):
            tile = ArcGridTile(self.style)
            tile.set_grid(grid, title, shape(grid))
            self.test_row.add_widget(tile)
        for rank, cand in enumerate(test.candidates[:MAX_CANDIDATES], start=1):
            tile = ArcGridTile(self.style)
            tile.set_grid(cand.grid, f"#{rank}{' ✓ right' if cand.correct else ''}",
                          f"{count(cand.votes, 'vote')} · conf {confidence(cand.mean_confidence)}", right=cand.correct,
                          tooltip=f"Candidate {rank}: {shape(cand.grid)}, {count(cand.votes, 'vote')}, mean "
                                  f"confidence (sigmoid of q_halt) {cand.mean_confidence:.3g}"
                                  f"{', the right answer' if cand.correct else ''}.")
            self.test_row.add_widget(tile)
        self.candidates_label.setText(_candidates_sentence(test))
        self._set_augmentations(test)

    def _set_augmentations(self, test: TestInputView | None) -> None:
        n = len(test.augmentations) if test is not None else 0
        self.aug_slider.blockSignals(True)
        self.aug_slider.setMaximum(max(n - 1, 0))
        self.aug_slider.setValue(0)
        self.aug_slider.setEnabled(n > 1)
        self.aug_slider.blockSignals(False)
        self._show_augmentation()

    def _show_augmentation(self) -> None:
        test = self.current_test()
        if test is None or not test.augmentations:
            self.aug_label.setText("No augmentation of this test input was predicted.")
            for tile in self.aug_tiles:
                tile.set_grid(None)
            return
        index = self.aug_slider.value()
        aug = test.augmentations[index]
        self.aug_label.setText(
            f"Augmentation {index + 1} of {len(test.augmentations)}: <code>{aug.puzzle_name}</code><br>"
            f"{aug.description[0].upper()}{aug.description[1:]}.<br>Confidence {html.escape(confidence(aug.confidence))}; "
            f"mapped back it votes for candidate #{aug.candidate_rank}{' (the right answer)' if aug.correct else ''}.")
        self.aug_tiles[0].set_grid(aug.input, caption=_shape(aug.input))
        self.aug_tiles[1].set_grid(aug.prediction, caption=_shape(aug.prediction), right=aug.correct)
        self.aug_tiles[2].set_grid(aug.mapped_back, caption=f"→ candidate #{aug.candidate_rank}", right=aug.correct)


def confidence(p: float) -> str:
    """Two decimals; a tiny one (an untrained q_halt) as "<0.01" rather than a misleading 0.00."""
    return f"{p:.2f}" if p >= 0.005 else "<0.01"


def _shape(grid) -> str:
    return f"{grid.shape[0]}×{grid.shape[1]}" if grid.size else "empty"


def _clear_row(layout: FlowLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:   # off screen now, not at the next turn of the event loop
            widget.hide()
            widget.setParent(None)
            widget.deleteLater()


def _task_sentence(task: TaskView) -> str:
    ranks = [t.rank for t in task.tests]
    words = ["not among the candidates" if r is None else f"ranked #{r}" for r in ranks]
    if len(words) > 1:
        words = [f"{w} for test input {i}" for i, w in enumerate(words, start=1)]
    verdict = "passed" if task.passed else "failed"
    return (f"{verdict} at pass@{PASS_K} · {count(len(task.tests), 'test input')} · the right answer "
            f"{', '.join(words)}")


def _candidates_sentence(test: TestInputView) -> str:
    total = sum(c.votes for c in test.candidates)
    more = len(test.candidates) - MAX_CANDIDATES
    rest = f" ({count(more, 'more candidate')} not shown)" if more > 0 else ""
    return (f"{count(total, 'augmented prediction')} voted for {count(len(test.candidates), 'distinct answer')}"
            f"{rest}, ranked by votes, then by mean confidence (sigmoid of q_halt), as pass@k counts them.")
