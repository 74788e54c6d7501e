"""The Studio window: settings dock, Metrics / Predictions / Runs tabs, toolbar, menus, status bar.

The window holds no training logic and few decisions. Its `Session` (Qt-free) knows the
open run and decides what Start does, why it cannot, and what to offer after a run; the
window builds its parts (`window_layout`), wires their signals, and hands the work to small
collaborators: `RunLifecycle` (start, pause, stop, the training events), `RunOpening`
(open, follow, reopen), `FileCommands` (save and export) and `SweepCommands`. File work
that touches torch runs on a JobRunner so the GUI thread never waits on it. Every command
that needs a path has a method taking the path; the menu actions only ask `self.prompts`
for it first, so tests and scripts never meet a modal dialog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QMainWindow, QWidget

from hrm_studio.config import RunConfig, section_field_names
from hrm_studio.errors import ConfigError
from hrm_studio.gui.shell.actions import create_actions
from hrm_studio.gui.shell.analysis_tabs import attach_analysis_tabs, shutdown_analysis_tabs
from hrm_studio.gui.shell.app_icon import app_icon
from hrm_studio.gui.shell.file_commands import FileCommands
from hrm_studio.gui.shell.file_drop import FileDrop
from hrm_studio.gui.shell.file_prompts import FilePrompts
from hrm_studio.gui.shell.notice_display import NoticeDisplay
from hrm_studio.gui.shell.opened_run import OpenedRun
from hrm_studio.gui.shell.run_controller import IDLE, PAUSED, STOPPING, RunController
from hrm_studio.gui.shell.run_lifecycle import RunLifecycle
from hrm_studio.gui.shell.run_opening import RunOpening, Then
from hrm_studio.gui.shell.session import Activity, Session, planned_patterns
from hrm_studio.gui.shell.status_bar import RunStatus
from hrm_studio.gui.shell.sweep_commands import SweepCommands
from hrm_studio.gui.shell.user_state import UserState
from hrm_studio.gui.shell.window_layout import TABS, build_docks, build_menus, build_toolbar, style_sheet
from hrm_studio.gui.sweeps.sweep_worker import SweepController
from hrm_studio.gui.widgets.background import JobError, JobRunner
from hrm_studio.gui.widgets.theme import plot_colours
from hrm_studio.runstore.run_dir import default_runs_root

APP_NAME = "HRM Studio"


class MainWindow(QMainWindow):
    opened = Signal(object)     # an OpenedRun was applied to the window
    saved = Signal(object)      # list[Path] written by a save or an export
    error_shown = Signal(str)   # the banner shows a new error

    def __init__(self, user_state: UserState | None = None, runs_root: Path | None = None) -> None:
        super().__init__()
        self.user_state = user_state or UserState(None)
        self.runs_root = runs_root or default_runs_root()
        self.session = Session(self.runs_root)
        self.prompts = FilePrompts(self)
        self.confirm: Callable[[str, str], bool] = self.prompts.confirm
        self.controller = RunController(self)
        self.jobs = JobRunner(self)
        self.sweeps = SweepController(self)
        self.commands = create_actions(self)
        self.lifecycle, self.opening = RunLifecycle(self), RunOpening(self)
        self.files, self.sweep_commands = FileCommands(self), SweepCommands(self)
        self.drops = FileDrop(self)
        self.setObjectName("mainWindow")
        self.setWindowIcon(app_icon())
        build_docks(self)   # and the tabs between them (reading order)
        attach_analysis_tabs(self)   # Reasoning and Puzzle editor
        build_menus(self)
        build_toolbar(self)
        self.run_status = RunStatus(self.statusBar())
        self.notices = NoticeDisplay(self.banner, self.statusBar(), self)
        self.setStyleSheet(style_sheet())
        self._connect_commands()
        self._connect_parts()
        self._restore()
        self.resume_offer.scan(self.runs_root)
        self.refresh()

    # ======================================================================================
    # Wiring
    # ======================================================================================
    def _connect_commands(self) -> None:
        a, files = self.commands, self.files
        a.new_run.triggered.connect(self.new_run)
        a.start.triggered.connect(self.start)
        a.pause.triggered.connect(self.toggle_pause)
        a.stop.triggered.connect(self.stop)
        a.new_sweep.triggered.connect(self.new_sweep)
        a.open_checkpoint.triggered.connect(files.prompt_open_checkpoint)
        a.open_run_folder.triggered.connect(files.prompt_open_run_folder)
        a.save_checkpoint.triggered.connect(files.prompt_save_checkpoint)
        a.export_plots.triggered.connect(files.prompt_export_plots)
        a.export_history.triggered.connect(files.prompt_export_history)
        a.export_model.triggered.connect(files.prompt_export_model)
        a.quit.triggered.connect(self.close)
        a.about.triggered.connect(self.show_about)

    def _connect_parts(self) -> None:
        message = self.statusBar().showMessage
        self.controller.event.connect(self.lifecycle.on_event)
        self.controller.event.connect(self.notices.on_event)
        self.controller.state_changed.connect(lambda _: self.refresh())
        self.controller.ended.connect(self.lifecycle.on_run_ended)
        self.jobs.busy_changed.connect(lambda _: self.refresh())
        self.prediction_jobs.failed.connect(lambda text: self.show_error(text))
        self.prediction_jobs.saved.connect(self.files_written)
        self.prediction_jobs.message.connect(lambda text: message(text, 6000))
        self.predictions.export_requested.connect(self.files.prompt_export_predictions)
        self.resume_offer.resume_requested.connect(self.resume_run)
        self.settings.changed.connect(self.refresh)
        self.settings.live_changed.connect(self._live_changed)
        self.start_choice.changed.connect(self._start_choice_changed)
        self.start_choice.preset_requested.connect(self.opening.apply_preset)
        self.prediction_jobs.screen_settings = self.settings_for_evaluation
        self.runs_tab.open_requested.connect(self.open_run_folder)
        self.runs_tab.confirm = lambda title, text: self.confirm(title, text)
        self.runs_tab.smoothing = lambda: self.dashboard.smoothing_slider.value() / 100
        self.runs_tab.error.connect(self.show_error)
        self.runs_tab.message.connect(lambda text: message(text, 8000))
        self.runs_tab.compare_saved.connect(self.files_written)
        self.runs_tab.renamed.connect(self.opening.run_renamed)
        self.runs_tab.deleted.connect(self.opening.run_deleted)
        self.following.updated.connect(self.opening.followed)
        self.sweeps.event.connect(self.sweep_panel.on_event)
        self.sweeps.active_changed.connect(lambda _: self.sweep_commands.state_changed())
        self.sweeps.ended.connect(self.sweep_commands.ended)
        self.sweep_panel.cancel_requested.connect(self.cancel_sweep)
        self.sweep_panel.open_run.connect(self.open_run_folder)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._theme_changed)

    # ======================================================================================
    # State shown by actions, title and locks
    # ======================================================================================
    @property
    def current_run(self) -> OpenedRun | None:
        """The open checkpoint / ended run: what Start continues and what exports use."""
        return self.session.opened

    @property
    def run_name(self) -> str | None:
        return self.session.run_name

    @property
    def _run_dir(self) -> Path | None:   # older tests read these two
        return self.session.run_dir

    @property
    def _run_config(self) -> RunConfig | None:
        return self.session.run_config

    def activity(self) -> Activity:
        return Activity(training=self.controller.active, sweeping=self.sweeps.active, files_busy=self.jobs.busy,
                        following=self.following.active)

    def start_blocker(self) -> str | None:
        """Why Start cannot run now, in one sentence; None when it can."""
        return self.session.start_blocker(self.settings.config(), self.settings.problems(), self.activity())

    def settings_for_evaluation(self) -> RunConfig | str:
        """The settings on screen, which every evaluation uses, or why they cannot be used yet."""
        problems = self.settings.problems()
        if problems:
            return f"fix the settings marked in red first ({next(iter(problems.values()))})."
        return self.settings.config()

    def sweep_blocker(self) -> str | None:
        return self.sweep_commands.blocker()

    def refresh(self) -> None:
        """Bring actions, locks and title up to date with the run and the settings."""
        a, active, busy = self.commands, self.controller.active, self.jobs.busy
        blocker = self.start_blocker()
        a.start.setEnabled(blocker is None)
        a.start.setToolTip(f"Start (F5)\n{blocker or 'Start training with these settings.'}")
        self._update_pause_and_stop()
        a.new_run.setEnabled(not active)
        a.new_sweep.setEnabled(not active and not self.sweeps.active)
        self.sweep_commands.refresh()
        a.open_checkpoint.setEnabled(not active and not busy)
        a.open_run_folder.setEnabled(not active and not busy)
        self.resume_offer.set_available(not active and not busy, "Stop the current run first." if active else "")
        has_model = active or self.session.has_model
        a.save_checkpoint.setEnabled(has_model)
        a.export_model.setEnabled(has_model)
        has_rows = bool(self.dashboard.rows())
        a.export_plots.setEnabled(has_rows)
        a.export_history.setEnabled(has_rows)
        self._update_locks()
        self._update_title()
        if not active and not has_rows and not self.settings.problems():   # empty plots describe the next run
            config = self.settings.config()
            self.dashboard.set_planned_epochs(config.train.epochs)
            self.dashboard.set_patterns(planned_patterns(config))

    def _update_pause_and_stop(self) -> None:
        a, state = self.commands, self.controller.state
        running = self.controller.active and state != STOPPING
        paused = state == PAUSED
        a.pause.setEnabled(running)
        a.pause.setText("&Resume" if paused else "&Pause")
        pixmap = self.style().StandardPixmap
        a.pause.setIcon(self.style().standardIcon(pixmap.SP_MediaPlay if paused else pixmap.SP_MediaPause))
        a.stop.setEnabled(running)

    def _update_title(self) -> None:
        state = self.controller.state
        suffix = {PAUSED: " (paused)", STOPPING: " (stopping)", IDLE: ""}.get(state, " (training)")
        if state == IDLE and self.following.active:
            suffix = " (training elsewhere)"
        self.setWindowTitle(f"{self.session.run_name or 'New run'}{suffix} — {APP_NAME}")
        self.runs_tab.model.set_paused(self.session.run_dir if state == PAUSED else None)

    def _update_locks(self) -> None:
        live = {e.name: bool(e.meta.get("live")) for e in self.settings.editors()}
        sections = {name: section_field_names(name) for name in ("model", "data")}
        self.settings.set_locked(*self.session.locked_settings(self.controller.active, live, sections))

    def _start_choice_changed(self) -> None:
        self.session.choose(self.start_choice.mode())
        config = self.session.settings_for_mode(self.settings.config())
        if config is not None:   # continuing: the run's own model and data settings come back
            self.settings.set_config(config)
        self.refresh()

    def _live_changed(self, name: str, value: Any) -> None:
        if self.session.takes_live(name, self.activity()):
            self.controller.set_live(name, value)
            self.statusBar().showMessage(f"{name} = {value} applies from the next epoch.", 5000)

    # ======================================================================================
    # Commands (each delegates to the collaborator that does the work)
    # ======================================================================================
    def start(self) -> bool:
        return self.lifecycle.start()

    def toggle_pause(self) -> None:
        self.lifecycle.toggle_pause()

    def stop(self) -> None:
        self.lifecycle.stop()

    def new_run(self) -> None:
        self.lifecycle.new_run()

    def new_sweep(self) -> Any:
        return self.sweep_commands.new_sweep()

    def start_sweep(self, spec: Any, sweep_dir: Path) -> bool:
        return self.sweep_commands.start_sweep(spec, sweep_dir)

    def cancel_sweep(self) -> None:
        self.sweep_commands.cancel_sweep()

    def open_checkpoint(self, path: str | Path) -> None:
        self.opening.open_checkpoint(path)

    def open_run_folder(self, path: str | Path, then: Then = None) -> None:
        self.opening.open_run_folder(path, then)

    def open_path(self, path: str | Path) -> None:
        """A run folder or a checkpoint, whichever `path` is."""
        self.opening.open_path(path)

    def resume_run(self, path: str | Path) -> None:
        """Open a run folder and continue it at once from its last complete epoch (the resume offer)."""
        self.opening.resume_run(path)

    def save_checkpoint(self, path: str | Path) -> None:
        self.files.save_checkpoint(path)

    def export_model(self, path: str | Path, fmt: str) -> None:
        self.files.export_model(path, fmt)

    def export_plots(self, path: str | Path) -> Path | None:
        return self.files.export_plots(path)

    def export_history(self, path: str | Path) -> Path | None:
        return self.files.export_history(path)

    def show_about(self) -> QWidget:
        """Open Help → About without blocking (window-modal); returns the dialog."""
        from hrm_studio.gui.shell.about_dialog import AboutDialog, collect_about_info

        dialog = AboutDialog(collect_about_info(self.runs_root), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def show_tab(self, name: str) -> None:
        self.tabs.setCurrentIndex(TABS.index(name))

    def _theme_changed(self, *_: Any) -> None:
        self.setStyleSheet(style_sheet())
        self.dashboard.apply_colours(plot_colours())

    # ----- what happened, shown ------------------------------------------------------------
    def show_error(self, message: str, details: str = "") -> None:
        """Non-modal: a banner above the tabs and the status bar; the window stays usable."""
        self.banner.show_error(message, details)
        self.statusBar().showMessage(message, 15000)
        self.error_shown.emit(message)

    def files_written(self, paths: list[Path]) -> None:
        shown = ", ".join(str(p) for p in paths)
        self.statusBar().showMessage(f"Saved {shown}", 8000)
        self.saved.emit([Path(p) for p in paths])

    def job_failed(self, error: JobError) -> None:
        self.show_error(error.message, error.details)
        self.refresh()

    # ======================================================================================
    # Remember and close
    # ======================================================================================
    def _restore(self) -> None:
        state = self.user_state
        geometry = state.blob("geometry")
        if geometry is None or not self.restoreGeometry(QByteArray(geometry)):
            screen = self.screen().availableGeometry()   # a 1366×768 laptop gets a window that fits it
            self.resize(min(1360, screen.width()), min(860, screen.height()))
        layout = state.blob("window_state")
        if layout is not None:
            self.restoreState(QByteArray(layout))
        if state.last_config:
            try:
                self.settings.set_config(RunConfig.from_dict(state.last_config))
            except ConfigError:
                pass  # settings from an older version: start from the defaults
        self.runs_tab.set_extra(Path(i["path"]) for i in state.recent() if i["kind"] == "run")
        self.runs_tab.refresh()

    def remember(self) -> None:
        state = self.user_state
        state.set_blob("geometry", bytes(self.saveGeometry().data()))
        state.set_blob("window_state", bytes(self.saveState().data()))
        state.last_config = self.settings.config().to_dict()
        state.save()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        if not self._may_close():
            event.ignore()
            return
        self.following.stop()
        self.runs_tab.shutdown()
        self.jobs.shutdown()
        self.prediction_jobs.shutdown()
        shutdown_analysis_tabs(self)
        self.remember()
        event.accept()

    def _may_close(self) -> bool:
        """Ask before stopping a run or a sweep; stop them when the answer is yes."""
        if self.controller.active:
            if not self.confirm("Stop training?", "A run is still training. Stop it and close HRM Studio? "
                                "The run keeps its final checkpoint and history, so you can continue it later."):
                return False
            self.statusBar().showMessage("Stopping the run and writing its final checkpoint…")
            self.controller.shutdown()
        if self.sweeps.active:
            if not self.confirm("Stop the sweep?", "A sweep is still running. Stop it and close HRM Studio? The "
                                "finished runs stay, the run in progress keeps what it has, and sweep.json "
                                "lists the rest as skipped."):
                return False
            self.sweeps.shutdown()
        return True
