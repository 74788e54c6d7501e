"""The Studio window: settings dock, Metrics / Predictions / Runs tabs, toolbar, menus, status bar.

The window holds no training logic. It turns the settings into a StartRequest for the
RunController, draws the events that come back, and hands file work (opening
checkpoints, exporting models) to a JobRunner so the GUI thread never waits on torch.
Every command that needs a path has a method taking the path; the menu actions only ask
`self.prompts` for it first, so tests and scripts never meet a modal dialog.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QTabWidget, QToolBar, QVBoxLayout, QWidget

from hrm_studio.config import RunConfig, section_field_names
from hrm_studio.errors import ConfigError, UserError
from hrm_studio.gui.shell.actions import create_actions
from hrm_studio.gui.shell.app_icon import app_icon
from hrm_studio.gui.widgets.background import JobError, JobRunner
from hrm_studio.gui.widgets.error_banner import ErrorBanner
from hrm_studio.gui.shell.file_prompts import FilePrompts
from hrm_studio.gui.metrics.history_export import save_history
from hrm_studio.gui.shell.model_export import export_model, normalise_target
from hrm_studio.gui.shell.notice_display import NoticeDisplay
from hrm_studio.gui.shell.opened_run import OpenedRun, open_checkpoint, open_run_folder
from hrm_studio.gui.metrics.plot_export import save_plot
from hrm_studio.gui.metrics.plots import MetricsDashboard
from hrm_studio.gui.predictions.prediction_jobs import PredictionJobs, PredictionSource
from hrm_studio.gui.predictions.predictions_tab import PredictionsTab
from hrm_studio.gui.shell.resume_offer import ResumeOffer
from hrm_studio.gui.shell.run_controller import IDLE, PAUSED, STOPPING, RunController
from hrm_studio.gui.runs.run_follow import RunFollowing
from hrm_studio.gui.runs.runs_tab import RunsTab
from hrm_studio.gui.settings.settings_panel import SettingsPanel
from hrm_studio.gui.shell.start_choice import RESUME, SCRATCH, WEIGHTS, StartChoice
from hrm_studio.gui.shell.status_bar import RunStatus
from hrm_studio.gui.sweeps.sweep_results import SweepResultsPanel
from hrm_studio.gui.sweeps.sweep_worker import SweepController
from hrm_studio.gui.widgets.theme import is_dark, plot_colours
from hrm_studio.gui.shell.training_worker import StartRequest
from hrm_studio.gui.shell.user_state import UserState
from hrm_studio.runs.discovery import run_state
from hrm_studio.runs.follow import FollowUpdate
from hrm_studio.events import CheckpointSaved, EpochEnd, Failed, Finished, PredictionsReady, Started
from hrm_studio.runstore.run_dir import RunDir, default_runs_root, free_run_dir

APP_NAME = "HRM Studio"
TABS = ("metrics", "predictions", "runs")
# `live` fields the Trainer cannot take mid-run yet: its epoch loop reads `epochs` once.
NOT_LIVE_YET = frozenset({"epochs"})
LOCKED_WHILE_TRAINING = "Locked while training: stop the run to change it."
LOCKED_FOR_RESUME = ("Locked: continuing a run keeps its model and data settings. Choose a new run to "
                     "change them.")


class MainWindow(QMainWindow):
    opened = Signal(object)     # an OpenedRun was applied to the window
    saved = Signal(object)      # list[Path] written by a save or an export
    error_shown = Signal(str)   # the banner shows a new error

    def __init__(self, user_state: UserState | None = None, runs_root: Path | None = None) -> None:
        super().__init__()
        self.user_state = user_state or UserState(None)
        self.runs_root = runs_root or default_runs_root()
        self.prompts = FilePrompts(self)
        self.confirm: Callable[[str, str], bool] = self.prompts.confirm
        self.controller = RunController(self)
        self.jobs = JobRunner(self)
        self.commands = create_actions(self)
        self._opened: OpenedRun | None = None
        self._run_name: str | None = None
        self._run_dir: Path | None = None
        self._run_config: RunConfig | None = None
        self._pending_exports: dict[str, tuple[Path, str]] = {}
        self.setObjectName("mainWindow")
        self.setWindowIcon(app_icon())

        # ----- central: error banner over the tabs ----------------------------------------------
        self.banner = ErrorBanner()
        self.resume_offer = ResumeOffer(self.user_state)
        self.dashboard = MetricsDashboard(plot_colours())
        self.predictions = PredictionsTab()
        self.prediction_jobs = PredictionJobs(self.predictions, self)
        self.prediction_jobs.failed.connect(lambda message: self.show_error(message))
        self.prediction_jobs.saved.connect(self._files_written)
        self.prediction_jobs.message.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.predictions.export_requested.connect(self._prompt_export_predictions)
        self.runs_tab = RunsTab(self.runs_root, self.user_state)
        self.following = RunFollowing(self)   # a run folder another process is still writing
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.dashboard, "Metrics")
        self.tabs.addTab(self.predictions, "Predictions")
        self.tabs.addTab(self.runs_tab, "Runs")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.resume_offer)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        # ----- settings dock ----------------------------------------------------------------------
        self.start_choice = StartChoice()
        self.settings = SettingsPanel()
        dock_body = QWidget()
        dock_layout = QVBoxLayout(dock_body)
        dock_layout.setContentsMargins(0, 0, 0, 0)
        dock_layout.addWidget(self.start_choice)
        dock_layout.addWidget(self.settings, 1)
        self.settings_dock = QDockWidget("Settings", self)
        self.settings_dock.setObjectName("settingsDock")
        self.settings_dock.setWidget(dock_body)
        self.settings_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                       | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                                       | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.settings_dock)

        # ----- sweep dock: the live results table of the sweep queue ------------------------------
        self.sweeps = SweepController(self)
        self.sweep_panel = SweepResultsPanel()
        self.sweep_dialog: Any = None
        self.sweep_dock = QDockWidget("Sweep", self)
        self.sweep_dock.setObjectName("sweepDock")
        self.sweep_dock.setWidget(self.sweep_panel)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.sweep_dock)
        self.sweep_dock.hide()

        self._build_menus_and_toolbar()
        self.run_status = RunStatus(self.statusBar())
        self._apply_style()

        # ----- wiring ----------------------------------------------------------------------------
        a = self.commands
        a.new_run.triggered.connect(self.new_run)
        a.start.triggered.connect(self.start)
        a.pause.triggered.connect(self.toggle_pause)
        a.stop.triggered.connect(self.stop)
        a.new_sweep.triggered.connect(self.new_sweep)
        a.open_checkpoint.triggered.connect(self._prompt_open_checkpoint)
        a.open_run_folder.triggered.connect(self._prompt_open_run_folder)
        a.save_checkpoint.triggered.connect(self._prompt_save_checkpoint)
        a.export_plots.triggered.connect(self._prompt_export_plots)
        a.export_history.triggered.connect(self._prompt_export_history)
        a.export_model.triggered.connect(self._prompt_export_model)
        a.quit.triggered.connect(self.close)
        a.about.triggered.connect(self.show_about)
        self.controller.event.connect(self._on_event)
        self.notices = NoticeDisplay(self.banner, self.statusBar(), self)
        self.controller.event.connect(self.notices.on_event)
        self.resume_offer.resume_requested.connect(self.resume_run)
        self.controller.state_changed.connect(lambda _: self._refresh())
        self.controller.ended.connect(self._on_run_ended)
        self.jobs.busy_changed.connect(lambda _: self._refresh())
        self.settings.changed.connect(self._refresh)
        self.settings.live_changed.connect(self._live_changed)
        self.start_choice.changed.connect(self._start_choice_changed)
        self.runs_tab.open_requested.connect(self.open_run_folder)
        self.runs_tab.confirm = lambda title, text: self.confirm(title, text)
        self.runs_tab.smoothing = lambda: self.dashboard.smoothing_slider.value() / 100
        self.runs_tab.error.connect(self.show_error)
        self.runs_tab.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.runs_tab.compare_view.saved.connect(self._files_written)
        self.runs_tab.renamed.connect(self._run_renamed)
        self.runs_tab.deleted.connect(self._run_deleted)
        self.following.updated.connect(self._followed)
        self.sweeps.event.connect(self.sweep_panel.on_event)
        self.sweeps.active_changed.connect(lambda _: self._sweep_state_changed())
        self.sweeps.ended.connect(self._sweep_ended)
        self.sweep_panel.cancel_requested.connect(self.cancel_sweep)
        self.sweep_panel.open_run.connect(self.open_run_folder)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._theme_changed)

        self._restore()
        self.resume_offer.scan(self.runs_root)
        self._refresh()

    # ======================================================================================
    # Layout
    # ======================================================================================
    def _build_menus_and_toolbar(self) -> None:
        a = self.commands
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(a.new_run)
        file_menu.addAction(a.open_checkpoint)
        file_menu.addAction(a.open_run_folder)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(a.save_checkpoint)
        file_menu.addAction(a.export_plots)
        file_menu.addAction(a.export_history)
        file_menu.addAction(a.export_model)
        file_menu.addSeparator()
        file_menu.addAction(a.quit)
        run_menu = self.menuBar().addMenu("&Run")
        for action in (a.start, a.pause, a.stop):
            run_menu.addAction(action)
        run_menu.addSeparator()
        run_menu.addAction(a.new_sweep)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.settings_dock.toggleViewAction())
        view_menu.addAction(self.sweep_dock.toggleViewAction())
        view_menu.addSeparator()
        for index, name in enumerate(TABS):
            action = QAction(f"{name.capitalize()} tab", self)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _=False, n=name: self.show_tab(n))
            view_menu.addAction(action)
        help_menu = self.menuBar().addMenu("&Help")
        a.about.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(a.about)

        toolbar = QToolBar("Main toolbar", self)
        toolbar.setObjectName("mainToolbar")
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        toolbar.setMovable(False)
        for action in (a.new_run, a.open_checkpoint, None, a.start, a.pause, a.stop, None, a.save_checkpoint,
                       a.export_plots, a.export_model):
            if action is None:
                toolbar.addSeparator()
            else:
                toolbar.addAction(action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self.toolbar = toolbar

    def _apply_style(self) -> None:
        red = "#ff6b6b" if is_dark() else "#c62828"
        self.setStyleSheet(f"QLabel#fieldError {{ color: {red}; }} QLabel[invalid=\"true\"] {{ color: {red}; }}"
                           f"QLabel#hint {{ color: palette(placeholder-text); }}")

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
        self._apply_style()
        self.dashboard.apply_colours(plot_colours())

    # ======================================================================================
    # State shown by actions, title and locks
    # ======================================================================================
    @property
    def current_run(self) -> OpenedRun | None:
        """The open checkpoint / finished run: what Start resumes and what exports use."""
        return self._opened

    @property
    def run_name(self) -> str | None:
        return self._run_name

    def start_blocker(self) -> str | None:
        """Why Start cannot run now, in one sentence; None when it can."""
        if self.controller.active:
            return "A run is already training."
        if self.sweeps.active:
            return "A sweep is running: cancel it in the Sweep panel, or wait until its runs are done."
        if self.jobs.busy:
            return "Wait until the file being opened or exported is done."
        problems = self.settings.problems()
        if problems:
            name, reason = next(iter(problems.items()))
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            return f"Fix the settings marked in red first: {reason}{more}"
        opened = self._opened
        if self.start_choice.mode() == RESUME and self.following.active:
            return ("This run is still being trained by another process: wait until it finishes (the plots "
                    "follow it), or choose a new run.")
        if self.start_choice.mode() == RESUME and opened is not None:
            epochs = self.settings.config().train.epochs
            if epochs < opened.epoch or (epochs == opened.epoch and not opened.interrupted):
                return (f"This run already has {opened.epoch} epochs: raise Epochs above {opened.epoch} to "
                        f"continue it, or start a new run.")
        return None

    def _refresh(self) -> None:
        a, state = self.commands, self.controller.state
        active = self.controller.active
        blocker = self.start_blocker()
        a.start.setEnabled(blocker is None)
        a.start.setToolTip(f"Start (F5)\n{blocker or 'Start training with these settings.'}")
        a.pause.setEnabled(active and state != STOPPING)
        paused = state == PAUSED
        a.pause.setText("&Resume" if paused else "&Pause")
        a.pause.setIcon(self.style().standardIcon(self.style().StandardPixmap.SP_MediaPlay if paused
                                                  else self.style().StandardPixmap.SP_MediaPause))
        a.stop.setEnabled(active and state != STOPPING)
        a.new_run.setEnabled(not active)
        a.new_sweep.setEnabled(not active and not self.sweeps.active)
        if self.sweep_dialog is not None:
            self.sweep_dialog.set_blocker(self.sweep_blocker())
        a.open_checkpoint.setEnabled(not active and not self.jobs.busy)
        a.open_run_folder.setEnabled(not active and not self.jobs.busy)
        self.resume_offer.set_available(not active and not self.jobs.busy,
                                        "Stop the current run first." if active else "")
        has_model = active or (self._opened is not None and self._opened.checkpoint is not None)
        a.save_checkpoint.setEnabled(has_model)
        a.export_model.setEnabled(has_model)
        has_rows = bool(self.dashboard.rows())
        a.export_plots.setEnabled(has_rows)
        a.export_history.setEnabled(has_rows)
        self._update_locks()
        self._update_title()
        if not active and not has_rows and not self.settings.problems():
            self.dashboard.set_planned_epochs(self.settings.config().train.epochs)

    def _update_title(self) -> None:
        name = self._run_name or "New run"
        state = self.controller.state
        suffix = {PAUSED: " (paused)", STOPPING: " (stopping)", IDLE: ""}.get(state, " (training)")
        if state == IDLE and self.following.active:
            suffix = " (training elsewhere)"
        self.setWindowTitle(f"{name}{suffix} — {APP_NAME}")

    def _update_locks(self) -> None:
        if self.controller.active:
            locked = {e.name for e in self.settings.editors()
                      if not e.meta.get("live") or e.name in NOT_LIVE_YET}
            self.settings.set_locked(locked, LOCKED_WHILE_TRAINING)
        elif self.start_choice.mode() == RESUME:
            locked = set(section_field_names("model")) | set(section_field_names("data"))
            self.settings.set_locked(locked, LOCKED_FOR_RESUME)
        else:
            self.settings.set_locked(set(), "")

    def _start_choice_changed(self) -> None:
        opened = self._opened
        if self.start_choice.mode() == RESUME and opened is not None:
            # Resuming needs the run's own model and data settings: put them back.
            config = self.settings.config()
            for section in ("model", "data"):
                setattr(config, section, getattr(opened.config.copy(), section))
            self.settings.set_config(config)
        self._refresh()

    def _live_changed(self, name: str, value: Any) -> None:
        if self.controller.active and name not in NOT_LIVE_YET:
            self.controller.set_live(name, value)
            self.statusBar().showMessage(f"{name} = {value} applies from the next epoch.", 5000)

    # ======================================================================================
    # Run commands
    # ======================================================================================
    def start(self) -> bool:
        blocker = self.start_blocker()
        if blocker:
            self.statusBar().showMessage(blocker, 8000)
            return False
        config = self.settings.config()
        mode = self.start_choice.mode()
        opened = self._opened
        self.following.stop()
        if mode == RESUME and opened is not None and opened.continue_from is not None:
            run_dir = opened.run_dir or free_run_dir(self.runs_root, config.data.task)
            request = StartRequest(config, run_dir, resume_from=opened.continue_from)
            self.resume_offer.forget(run_dir)
            self.dashboard.set_history(opened.history, opened.patterns)
        else:
            run_dir = free_run_dir(self.runs_root, config.data.task)
            weights = opened.checkpoint if mode == WEIGHTS and opened is not None else None
            request = StartRequest(config, run_dir, init_weights=weights)
            self.dashboard.clear()
        self.banner.clear()
        self._run_config = config
        self._run_dir = run_dir
        self._run_name = run_dir.name
        self.run_status.reset(config.train.epochs, config.train.early_stopping_metric)
        self.dashboard.set_planned_epochs(config.train.epochs)
        self.user_state.last_config = config.to_dict()
        self.prediction_jobs.training_started()
        self.controller.start(request)
        self.statusBar().showMessage("Starting: loading PyTorch and generating the puzzles…", 5000)
        return True

    # ----- sweeps ----------------------------------------------------------------------------
    def sweep_blocker(self) -> str | None:
        """Why a sweep cannot start now, in one sentence; None when it can."""
        if self.controller.active:
            return "A run is training: stop it before starting a sweep."
        if self.sweeps.active:
            return "A sweep is already running: cancel it first, or wait until it is done."
        return None

    def new_sweep(self) -> Any:
        """Show the New sweep dialog (non-modal), starting from the current settings; returns it."""
        from hrm_studio.gui.sweeps.sweep_dialog import SweepDialog

        if self.sweep_dialog is None:
            dialog = SweepDialog(self.settings.config(), self.runs_root, self)
            dialog.start_requested.connect(self.start_sweep)
            dialog.finished.connect(lambda _: setattr(self, "sweep_dialog", None))
            dialog.finished.connect(dialog.deleteLater)
            self.sweep_dialog = dialog
        self.sweep_dialog.set_blocker(self.sweep_blocker())
        self.sweep_dialog.show()
        self.sweep_dialog.raise_()
        return self.sweep_dialog

    def start_sweep(self, spec: Any, sweep_dir: Path) -> bool:
        """Queue the sweep's runs on the sweep thread; results fill the Sweep panel."""
        blocker = self.sweep_blocker()
        if blocker:
            self.show_error(blocker)
            return False
        self.banner.clear()
        self.prediction_jobs.training_started()   # no evaluation beside the sweep; its garbage collected first
        self.sweeps.start(spec, Path(sweep_dir))
        self.sweep_dock.show()
        self.sweep_dock.raise_()
        self.statusBar().showMessage(f"Sweep of {spec.count()} runs started in {sweep_dir}.", 8000)
        return True

    def cancel_sweep(self) -> None:
        if self.sweeps.active:
            self.sweeps.stop()
            self.statusBar().showMessage("Cancelling the sweep: the run in progress stops after its current step "
                                         "and keeps what it has; finished runs stay.", 8000)

    def _sweep_state_changed(self) -> None:
        self.sweep_panel.set_running(self.sweeps.active, stopping=self.sweeps.stopping)
        self._refresh()

    def _sweep_ended(self, last: Any) -> None:
        if isinstance(last, str):
            self.sweep_panel.show_failure(last)
            self.show_error(last.splitlines()[0])
        self.runs_tab.refresh()
        self._refresh()

    def toggle_pause(self) -> None:
        if self.controller.state == PAUSED:
            self.controller.resume()
            self.statusBar().showMessage("Training resumed.", 3000)
        elif self.controller.active:
            self.controller.pause()
            self.statusBar().showMessage("Paused after the current step. Press Resume (F6) to go on; "
                                         "Save checkpoint works while paused.")

    def stop(self) -> None:
        if self.controller.active:
            self.controller.stop()
            self.statusBar().showMessage("Stopping after the current step; the final checkpoint is being "
                                         "written…")

    def new_run(self) -> None:
        if self.controller.active:
            return
        self.following.stop()
        self._opened = None
        self._run_name = self._run_dir = self._run_config = None
        self.start_choice.offer(None)
        self.prediction_jobs.set_source(None)
        self.dashboard.clear()
        self.banner.clear()
        self.run_status.reset()
        self._refresh()
        self.statusBar().showMessage("New run: adjust the settings and press Start.", 5000)

    # ----- events from the training thread -------------------------------------------------
    def _on_event(self, event: Any) -> None:
        self.run_status.on_event(event)
        if isinstance(event, Started):
            self._run_dir = Path(event.run_dir)
            self._run_name = self._run_dir.name
            self.dashboard.set_patterns(event.task.get("pattern_names") or [])
            self.dashboard.keep_epochs_up_to(event.start_epoch)
            self.user_state.add_recent(self._run_dir, "run")
            self.statusBar().showMessage(f"Training {event.task.get('task', '')}: {event.num_parameters:,} "
                                         f"parameters, {event.train_size} training and {event.test_size} "
                                         f"held-out puzzles.", 8000)
            self._refresh()
        elif isinstance(event, EpochEnd):
            self.dashboard.add_row(event.metrics)
            if len(self.dashboard.rows()) == 1:
                self._refresh()
        elif isinstance(event, PredictionsReady):
            self.predictions.set_predictions(event.predictions)
        elif isinstance(event, CheckpointSaved):
            self._checkpoint_saved(event)
        elif isinstance(event, Finished):
            words = {"completed": "Finished", "solved": "Solved the held-out puzzles",
                     "early_stopped": "Stopped early (no more improvement)", "stopped": "Stopped"}
            self.statusBar().showMessage(f"{words.get(event.reason, event.reason)} after {event.epochs_done} "
                                         f"epochs.")
        elif isinstance(event, Failed):
            message = event.message.rstrip()
            if not message.endswith((".", "!", "?")):
                message += "."
            kept = f" The run folder keeps what it had: {event.run_dir}." if event.run_dir else ""
            self.show_error(f"{message}{kept} Change the settings if needed and press Start to try again.",
                            event.traceback)

    def _checkpoint_saved(self, event: CheckpointSaved) -> None:
        export = self._pending_exports.pop(event.path, None)
        if export is not None:
            out, fmt = export
            self._run_export(Path(event.path), out, fmt, cleanup=Path(event.path).parent)
        elif event.kind == "manual":
            self.user_state.add_recent(event.path, "checkpoint")
            self.statusBar().showMessage(f"Checkpoint saved at epoch {event.epoch}: {event.path}", 8000)
            self.saved.emit([Path(event.path)])

    def _on_run_ended(self, last: Any) -> None:
        if isinstance(last, Finished) and self._run_dir is not None and self._run_config is not None:
            final = self._run_dir / "checkpoints" / "final.pt"
            resume = RunDir(self._run_dir).resume_checkpoint()   # last.pt: the last whole epoch
            self._opened = OpenedRun(
                name=self._run_dir.name, config=self._run_config, history=self.dashboard.rows(),
                patterns=self.dashboard.patterns, source="studio", checkpoint=final if final.exists() else None,
                resumable=resume is not None, run_dir=self._run_dir, epoch=last.epochs_done, resume_from=resume)
            self.start_choice.offer(self._opened, default=RESUME if last.reason == "stopped" else SCRATCH)
        elif isinstance(last, Failed) and self._run_dir is not None and self._run_config is not None:
            # A failed run (NaN loss, a crash) keeps last.pt: offer to continue from it once the
            # person has changed what the banner suggests (e.g. a lower learning rate).
            resume = RunDir(self._run_dir).resume_checkpoint()
            if resume is not None:
                self._opened = OpenedRun(
                    name=self._run_dir.name, config=self._run_config, history=self.dashboard.rows(),
                    patterns=self.dashboard.patterns, source="studio", checkpoint=resume, resumable=True,
                    run_dir=self._run_dir, epoch=len(self.dashboard.rows()), resume_from=resume)
                self.start_choice.offer(self._opened, default=RESUME)
        source = None
        if self._run_dir is not None and self._run_config is not None:
            final = self._run_dir / "checkpoints" / "final.pt"
            weights = final if final.exists() else RunDir(self._run_dir).resume_checkpoint()
            source = PredictionSource(weights, self._run_config, self._run_dir)
        # After a failure the banner says what happened; evaluating now would only bury it.
        self.prediction_jobs.training_ended(source, evaluate=isinstance(last, Finished))
        for tmp in list(self._pending_exports):
            self._pending_exports.pop(tmp)
            shutil.rmtree(Path(tmp).parent, ignore_errors=True)
            self.show_error("The model export was not made because the run ended first; export it again "
                            "from the finished run.")
        self.runs_tab.refresh()
        self._refresh()

    # ======================================================================================
    # Files: open, save, export (each takes a path; the prompts only ask for it)
    # ======================================================================================
    def open_checkpoint(self, path: str | Path) -> None:
        path = Path(path)
        current = self.settings.config()
        self._open(lambda: open_checkpoint(path, current), path, "checkpoint")

    def open_run_folder(self, path: str | Path, then: Callable[[OpenedRun], Any] | None = None) -> None:
        path = Path(path)
        current = self.settings.config()
        self._open(lambda: open_run_folder(path, current), path, "run", then)

    def resume_run(self, path: str | Path) -> None:
        """Open a run folder and continue it at once from its last whole epoch (the resume offer)."""
        def go_on(opened: OpenedRun) -> None:
            if opened.continue_from is None:
                self.show_error(f"{opened.name} has no checkpoint to continue from; open it to see its "
                                f"history, or start a new run.")
                return
            self.start_choice.set_mode(RESUME)
            self.start()
        self.open_run_folder(path, then=go_on)

    def open_path(self, path: str | Path) -> None:
        """A run folder or a checkpoint, whichever `path` is."""
        path = Path(path)
        if path.is_dir() and (path / "config.json").exists():
            self.open_run_folder(path)
        else:
            self.open_checkpoint(path)

    def _open(self, work: Callable[[], OpenedRun], path: Path, kind: str,
              then: Callable[[OpenedRun], Any] | None = None) -> None:
        if self.controller.active:
            self.show_error("Stop the run before opening another one.")
            return
        self.statusBar().showMessage(f"Opening {path}…")
        self.jobs.submit(work, lambda opened: self._apply_opened(opened, path, kind, then), self._job_failed)

    def _apply_opened(self, opened: OpenedRun, path: Path, kind: str,
                      then: Callable[[OpenedRun], Any] | None = None) -> None:
        self.following.stop()
        self._opened = opened
        self._run_name = opened.name
        self._run_dir = opened.run_dir
        self._run_config = opened.config
        self.settings.set_config(opened.config)
        self.dashboard.set_planned_epochs(opened.config.train.epochs)
        self.dashboard.set_history(opened.history, opened.patterns)
        train = opened.config.train
        self.run_status.show_history(opened.history, train.epochs, train.early_stopping_metric)
        self.start_choice.offer(opened)
        self.user_state.add_recent(path, kind)
        self.banner.clear()
        self.show_tab("metrics")
        self.statusBar().showMessage(f"Opened {opened.name} ({opened.description}, {len(opened.history)} epochs "
                                     f"of history).", 8000)
        checkpoint = opened.checkpoint
        if opened.run_dir is not None and run_state(opened.run_dir) == "running":
            # A headless run still writing this folder: follow its metrics.jsonl, and evaluate its
            # latest whole epoch (last.pt, newer than a final.pt left by an earlier session).
            self.following.start(opened.run_dir)
            checkpoint = RunDir(opened.run_dir).checkpoint("last") if \
                RunDir(opened.run_dir).checkpoint("last").exists() else checkpoint
            self.statusBar().showMessage(f"Opened {opened.name}: it is still training in another process, so its "
                                         f"curves grow as its epochs land.", 8000)
        self._refresh()
        self.prediction_jobs.set_source(PredictionSource(checkpoint, opened.config, opened.run_dir))
        self.opened.emit(opened)
        if then is not None:
            then(opened)

    # ----- a run another process writes, and runs renamed or deleted in the Runs tab ----------
    def _followed(self, update: FollowUpdate) -> None:
        patterns = self._opened.patterns if self._opened is not None else None
        if update.reset:
            self.dashboard.set_history(update.rows, patterns)
        else:
            for row in update.rows:
                self.dashboard.add_row(row)
        if self._run_config is not None:
            train = self._run_config.train
            self.run_status.show_history(self.dashboard.rows(), train.epochs, train.early_stopping_metric)
        if not update.running and self._run_dir is not None:
            # It ended: reopen it quietly (final checkpoint, resume choices), on the tab in view.
            tab = self.tabs.currentIndex()
            words = {"finished": "finished", "stopped": "was stopped", "failed": "failed",
                     "interrupted": "ended without finishing (its process is gone)"}
            self.statusBar().showMessage(f"{self._run_dir.name} {words.get(update.state, update.state)} after "
                                         f"{len(self.dashboard.rows())} epochs.", 10000)
            self.open_run_folder(self._run_dir, then=lambda _: self.tabs.setCurrentIndex(tab))
        self._refresh()

    def _run_renamed(self, old: Path, new: Path) -> None:
        if self._run_dir is not None and self._run_dir.resolve() == old.resolve() and not self.controller.active:
            tab = self.tabs.currentIndex()
            self.open_run_folder(new, then=lambda _: self.tabs.setCurrentIndex(tab))

    def _run_deleted(self, path: Path) -> None:
        if self._run_dir is not None and self._run_dir.resolve() == path.resolve() and not self.controller.active:
            self.new_run()

    def save_checkpoint(self, path: str | Path) -> None:
        """Mid-run: the trainer saves between two steps. Otherwise the open checkpoint is written."""
        path = normalise_target(path, "pt")
        if self.controller.save_checkpoint(path):
            self.statusBar().showMessage(f"Saving a checkpoint to {path} after the current step…")
            return
        opened = self._opened
        if opened is None or opened.checkpoint is None:
            self.show_error("There is no model to save yet: train one or open a checkpoint first.")
            return
        source = opened.checkpoint
        if opened.resumable:
            def work() -> list[Path]:
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, path)
                return [path]
        else:
            config = opened.config

            def work() -> list[Path]:
                return export_model(source, "pt", path, config)
        self.jobs.submit(work, self._files_written, self._job_failed)

    def export_model(self, path: str | Path, fmt: str) -> None:
        """fmt: 'pt', 'safetensors' or 'hrm'. Mid-run, the current weights are saved first."""
        path = Path(path)
        if self.controller.active:
            tmp = Path(tempfile.mkdtemp(prefix="hrm-studio-export-")) / "current.pt"
            self._pending_exports[str(tmp)] = (path, fmt)
            self.controller.save_checkpoint(tmp)
            self.statusBar().showMessage("Exporting the model after the current step…")
            return
        opened = self._opened
        if opened is None or opened.checkpoint is None:
            self.show_error("There is no model to export yet: train one or open a checkpoint first.")
            return
        self._run_export(opened.checkpoint, path, fmt)

    def _run_export(self, checkpoint: Path, out: Path, fmt: str, cleanup: Path | None = None) -> None:
        fallback = self._run_config or self.settings.config()

        def work() -> list[Path]:
            try:
                return export_model(checkpoint, fmt, out, fallback)
            finally:
                if cleanup is not None:
                    shutil.rmtree(cleanup, ignore_errors=True)
        self.statusBar().showMessage(f"Exporting the model to {out}…")
        self.jobs.submit(work, self._files_written, self._job_failed)

    def export_plots(self, path: str | Path) -> Path | None:
        self.dashboard.flush()
        try:
            written = save_plot(self.dashboard.view, path, self.dashboard.colours.background)
        except UserError as exc:
            self.show_error(str(exc))
            return None
        self._files_written([written])
        return written

    def export_history(self, path: str | Path) -> Path | None:
        try:
            written = save_history(self.dashboard.rows(), path)
        except UserError as exc:
            self.show_error(str(exc))
            return None
        self._files_written([written])
        return written

    def _files_written(self, paths: list[Path]) -> None:
        shown = ", ".join(str(p) for p in paths)
        self.statusBar().showMessage(f"Saved {shown}", 8000)
        self.saved.emit([Path(p) for p in paths])

    def _job_failed(self, error: JobError) -> None:
        self.show_error(error.message, error.details)
        self._refresh()

    def show_error(self, message: str, details: str = "") -> None:
        """Non-modal: a banner above the tabs and the status bar; the window stays usable."""
        self.banner.show_error(message, details)
        self.statusBar().showMessage(message, 15000)
        self.error_shown.emit(message)

    # ----- default names and the prompts ----------------------------------------------------
    def _base_name(self) -> str:
        return self._run_name or "hrm-run"

    def _suggest(self, suffix: str) -> Path:
        folder = self._run_dir if self._run_dir is not None else Path.home()
        return folder / f"{self._base_name()}{suffix}"

    def _prompt_open_checkpoint(self) -> None:
        path = self.prompts.open_checkpoint(self.runs_root if self.runs_root.exists() else Path.home())
        if path is not None:
            self.open_checkpoint(path)

    def _prompt_open_run_folder(self) -> None:
        path = self.prompts.open_run_folder(self.runs_root if self.runs_root.exists() else Path.home())
        if path is not None:
            self.open_run_folder(path)

    def _prompt_save_checkpoint(self) -> None:
        path = self.prompts.save_checkpoint(self._suggest("-checkpoint.pt"))
        if path is not None:
            self.save_checkpoint(path)

    def _prompt_export_plots(self) -> None:
        path = self.prompts.export_plots(self._suggest("-plots.png"))
        if path is not None:
            self.export_plots(path)

    def _prompt_export_history(self) -> None:
        path = self.prompts.export_history(self._suggest("-history.csv"))
        if path is not None:
            self.export_history(path)

    def _prompt_export_predictions(self, kind: str) -> None:
        """Save PNG… / Save GIF… / Contact sheet… on the Predictions tab."""
        suffix = {"png": "-puzzle.png", "gif": "-steps.gif", "sheet": "-contact-sheet.png"}[kind]
        path = self.prompts.save_image(self._suggest(suffix), "GIF animation (*.gif)" if kind == "gif"
                                       else "PNG image (*.png)")
        if path is not None:
            self.prediction_jobs.export(kind, path)

    def _prompt_export_model(self) -> None:
        chosen = self.prompts.export_model(self._suggest("-model.safetensors"))
        if chosen is not None:
            self.export_model(*chosen)

    def _fill_recent_menu(self) -> None:
        menu: QMenu = self.recent_menu
        menu.clear()
        items = self.user_state.recent()
        if not items:
            empty = menu.addAction("Nothing opened yet")
            empty.setEnabled(False)
            return
        for item in items:
            label = Path(item["path"]).name + (" (run folder)" if item["kind"] == "run" else "")
            action = menu.addAction(label)
            action.setToolTip(item["path"])
            action.triggered.connect(lambda _=False, p=item["path"]: self.open_path(p))

    # ======================================================================================
    # Remember and close
    # ======================================================================================
    def _restore(self) -> None:
        state = self.user_state
        geometry = state.blob("geometry")
        if geometry is None or not self.restoreGeometry(QByteArray(geometry)):
            self.resize(1360, 860)
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
        if self.controller.active:
            if not self.confirm("Stop training?", "A run is still training. Stop it and close HRM Studio? "
                                "The run keeps its final checkpoint and history, so you can continue it later."):
                event.ignore()
                return
            self.statusBar().showMessage("Stopping the run and writing its final checkpoint…")
            self.controller.shutdown()
        if self.sweeps.active:
            if not self.confirm("Stop the sweep?", "A sweep is still running. Stop it and close HRM Studio? The "
                                "finished runs stay, the run in progress keeps what it has, and sweep.json "
                                "lists the rest as skipped."):
                event.ignore()
                return
            self.sweeps.shutdown()
        self.following.stop()
        self.runs_tab.shutdown()
        self.jobs.shutdown()
        self.prediction_jobs.shutdown()
        self.remember()
        event.accept()
