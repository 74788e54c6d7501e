"""The Reasoning and Puzzle editor tabs, built and wired into the window (issue 20).

Why its own module: the window file stays small, and both tabs need the same few facts from
it — which model is open (the Predictions tab's source, evaluated with the settings on
screen as every evaluation is), whether a run or sweep is training (then the model is not
asked: the trainer has the CPU), which puzzle the Predictions tab shows, and where to ask
for file names. Both tabs share one `ModelJobs`, so the model is loaded once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QFileDialog

from hrm_studio.gui.editor.editor_controller import EditorController
from hrm_studio.gui.editor.editor_tab import EditorTab
from hrm_studio.gui.inspector.inspector_controller import InspectorController
from hrm_studio.gui.inspector.inspector_tab import InspectorTab
from hrm_studio.gui.inspector.model_jobs import ModelJobs
from hrm_studio.gui.predictions.prediction_jobs import PredictionSource, with_screen_settings

if TYPE_CHECKING:
    from hrm_studio.gui.shell.main_window import MainWindow

TRAINING = "A run or sweep is training: the inspector and the editor ask the model once it has ended."
PICTURE_FILTERS = {"strip": "PNG image (*.png)", "gif": "GIF animation (*.gif)"}


def current_source(window: MainWindow) -> PredictionSource | None:
    """The open model with the settings on screen (when they are usable), as the Predictions tab evaluates it."""
    source = window.prediction_jobs.source
    if source is None or source.checkpoint is None:
        return source
    screen = window.settings_for_evaluation()
    return source if isinstance(screen, str) else with_screen_settings(source, screen)


def attach_analysis_tabs(window: MainWindow) -> None:
    """Build both tabs after the Runs tab and connect them (call once, before the menus are built)."""
    jobs = ModelJobs(window)
    jobs.source = lambda: current_source(window)
    window.model_jobs = jobs
    window.inspector = InspectorTab()
    window.inspector_control = InspectorController(window.inspector, jobs, window)
    window.editor = EditorTab()
    window.editor_control = EditorController(window.editor, jobs, lambda: window.inspector_control.puzzle, window)
    window.tabs.addTab(window.inspector, "Reasoning")
    window.tabs.addTab(window.editor, "Puzzle editor")
    window.tabs.currentChanged.connect(lambda _: _tab_shown(window))
    window.predictions.puzzle_shown.connect(lambda row: _prediction_shown(window, row))
    window.controller.state_changed.connect(lambda _: _model_changed(window))
    window.sweeps.active_changed.connect(lambda _: _model_changed(window))
    window.opened.connect(lambda _: _model_changed(window))
    for control in (window.inspector_control, window.editor_control):
        control.saved.connect(window.files_written)
        control.failed.connect(lambda text: window.statusBar().showMessage(text, 8000))
    window.inspector.export_requested.connect(lambda kind: prompt_inspector_export(window, kind))
    window.editor.save_requested.connect(lambda: prompt_editor_save(window))


def _tab_shown(window: MainWindow) -> None:
    current = window.tabs.currentWidget()
    if current is window.inspector:
        window.inspector_control.refresh()
    elif current is window.editor:
        window.editor_control.refresh()


def _model_changed(window: MainWindow) -> None:
    training = window.controller.active or window.sweeps.active
    window.model_jobs.blocked = TRAINING if training else None
    if training:
        window.model_jobs.cancel()
    for control in (window.inspector_control, window.editor_control):
        if control.started:
            control.refresh()


def _prediction_shown(window: MainWindow, row: int) -> None:
    ps = window.predictions.current_set()
    if ps is not None and 0 <= row < len(ps):
        window.inspector_control.follow_prediction(ps.split, int(ps.indices[row]))


def prompt_inspector_export(window: MainWindow, kind: str) -> None:
    """Ask where to save the timeline or a plot, then save it."""
    suggested = Path.home() / f"{window.session.run_name or 'hrm-run'}-{kind}"
    if kind in PICTURE_FILTERS:
        path = window.prompts.save_image(suggested, PICTURE_FILTERS[kind])
    else:
        path = window.prompts.export_plots(suggested)
    if path is not None:
        window.inspector_control.export(kind, path)


def prompt_editor_save(window: MainWindow) -> None:
    """Ask for a new folder name, then write the edited puzzles there."""
    suggested = Path.home() / f"{window.session.run_name or 'hrm'}-edited-puzzles"
    path, _ = QFileDialog.getSaveFileName(window, "Save puzzles as a data set (a new folder)", str(suggested),
                                          "Data set folder (*)")
    if path:
        window.editor_control.save(path)


def shutdown_analysis_tabs(window: MainWindow) -> None:
    window.model_jobs.shutdown()
    window.inspector_control.shutdown()
    window.editor_control.shutdown()


def settle_analysis_tab(window: MainWindow, which: str, timeout_s: float) -> str | None:
    """For the self-test: show the Reasoning ("inspector") or Puzzle editor tab and wait for its first
    answer from the model; what went wrong, or None."""
    inspector = which == "inspector"
    control = window.inspector_control if inspector else window.editor_control
    done = control.trace_shown if isinstance(control, InspectorController) else control.answered
    ready = (lambda: window.inspector.trace is not None) if inspector else (lambda: window.editor.answer is not None)
    loop = QEventLoop()
    done.connect(lambda _: loop.quit())
    control.failed.connect(lambda _: loop.quit())
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    window.show_tab(which)
    control.refresh()
    if not ready():
        loop.exec()
    tab = window.inspector if inspector else window.editor
    if not ready():
        return f"the {window.tabs.tabText(window.tabs.indexOf(tab))} tab showed no answer " \
               f"({tab.status_label.text() or 'timed out'})."
    if inspector:
        window.inspector.set_step(window.inspector.slider.maximum() // 2)
        window.inspector.grids.views["answer"].cell_clicked.emit(0)
    return None
