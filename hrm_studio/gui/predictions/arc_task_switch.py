"""ArcTaskSwitch: the Predictions tab's body, with an "ARC tasks" page beside the puzzle browser.

An ARC build's test split is thousands of augmented puzzles; a person wants its tasks. When the
shown set is an ARC build's test split, the switch works out the task view on a worker thread
(`evaluation.arc.task_view`: votes over every augmentation, so seconds for a full build) and
shows it first, with the per-puzzle browser a tab away ("Augmented puzzles"). For any other
data set the tab bar is hidden and the browser is all there is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QTabWidget, QWidget

from hrm_studio.data.arc.detect import has_arc_shape, is_arc_build
from hrm_studio.evaluation.arc.task_view import ArcTaskViews, build_task_views
from hrm_studio.gui.predictions.arc_task_view import ArcTaskView
from hrm_studio.gui.widgets.background import JobError, JobRunner

TASKS_PAGE, PUZZLES_PAGE = 0, 1
WORKING = "Working out the ARC tasks: voting over every augmentation of every test input…"


def task_views_of(ps: Any, dataset_dir: str | Path | None) -> ArcTaskViews | None:
    """The task view of a test PredictionSet, None when its data set is not an ARC build (worker thread)."""
    if not is_arc_build(ps.task, dataset_dir):
        return None
    names = ps.task.get("identifier_names") or []
    return build_task_views(ps.puzzles, ps.predictions, names, dataset_dir or None)


class ArcTaskSwitch(QTabWidget):
    """"ARC tasks" | "Augmented puzzles" (the given browser); the tabs show only for an ARC test split."""

    def __init__(self, puzzles: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDocumentMode(True)
        self.view = ArcTaskView()
        self.note = QLabel(WORKING)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setWordWrap(True)
        self.task_page = QStackedWidget()
        self.task_page.addWidget(self.note)
        self.task_page.addWidget(self.view)
        self.addTab(self.task_page, "ARC tasks")
        self.addTab(puzzles, "Augmented puzzles")
        self.setTabToolTip(TASKS_PAGE, "The data set's ARC tasks: demonstrations, the candidates after voting "
                                       "over the augmentations, and each augmentation's answer.")
        self.setTabToolTip(PUZZLES_PAGE, "Every augmented test puzzle on its own, segment by segment.")
        self.jobs = JobRunner(self)
        self.dataset_dir: str | None = None
        self._shown: Any = None     # the PredictionSet the task view is of (or being made of)
        self._generation = 0
        self._set_arc(False)

    @property
    def is_arc(self) -> bool:
        """The "ARC tasks" page is offered (the shown set is an ARC build's test split)."""
        return not self.tabBar().isHidden()

    def set_dataset_dir(self, dataset_dir: str | Path | None) -> None:
        """The run's data set folder: an ARC build's holds the tasks' demonstrations."""
        dataset_dir = str(dataset_dir) if dataset_dir else None
        if dataset_dir != self.dataset_dir:
            self.dataset_dir = dataset_dir
            shown, self._shown = self._shown, None
            if shown is not None:   # made without (or with another) folder: make it again
                self.show_set(shown)

    def show_set(self, ps: Any) -> None:
        """The set the tab now shows; an ARC build's test split gets its task view (made in the background)."""
        if ps is None or ps.split != "test" or not has_arc_shape(ps.task):
            self._generation += 1
            self._shown = ps
            self._set_arc(False)
            return
        if ps is self._shown:
            return
        self._shown = ps
        self._generation += 1
        generation, dataset_dir = self._generation, self.dataset_dir
        if self.view.views is None:
            self.note.setText(WORKING)
            self.task_page.setCurrentWidget(self.note)
        self.jobs.submit(lambda: task_views_of(ps, dataset_dir), lambda views: self._built(generation, views),
                         lambda error: self._failed(generation, error))

    def _built(self, generation: int, views: ArcTaskViews | None) -> None:
        if generation != self._generation:
            return   # a newer set arrived meanwhile
        if views is None:
            self._set_arc(False)
            return
        first = self.tabBar().isHidden()
        self.view.set_views(views)
        self.task_page.setCurrentWidget(self.view)
        self._set_arc(True)
        if first:
            self.setCurrentIndex(TASKS_PAGE)

    def _failed(self, generation: int, error: JobError) -> None:
        if generation != self._generation:
            return
        self.view.set_views(None)
        self.note.setText(f"The ARC tasks cannot be shown: {error.message} The augmented puzzles are listed "
                          f"under the other tab.")
        self.task_page.setCurrentWidget(self.note)
        self._set_arc(True)

    def _set_arc(self, on: bool) -> None:
        self.tabBar().setHidden(not on)
        if not on:
            self.view.set_views(None)
            self.setCurrentIndex(PUZZLES_PAGE)

    def shutdown(self) -> None:
        """Wait for a task view still being made (the window is closing)."""
        self._generation += 1
        self.jobs.shutdown()
