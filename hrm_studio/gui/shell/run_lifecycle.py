"""A run's life in the window: Start, Pause / Resume, Stop, New run, the events the training
thread sends, and what the window offers once the run has ended.

The decisions (what Start trains, what to offer after the run) are the Session's; this
module applies them to the widgets: plots, status bar, Start choice, Predictions tab.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

from hrm_studio.events import CheckpointSaved, EpochEnd, Failed, Finished, PredictionsReady, Started
from hrm_studio.runstore.keys import CheckpointKind
from hrm_studio.gui.predictions.prediction_jobs import PredictionSource
from hrm_studio.gui.shell.run_controller import PAUSED
from hrm_studio.gui.shell.session import ModelSource, StartMode
from hrm_studio.gui.shell.training_worker import StartRequest
from hrm_studio.gui.shell.window_part import WindowPart
from hrm_studio.gui.widgets.words import count

FINISHED_WORDS = {"completed": "Finished", "solved": "Solved the held-out puzzles",
                  "early_stopped": "Stopped early (no more improvement)", "stopped": "Stopped"}


def prediction_source(source: ModelSource | None) -> PredictionSource | None:
    return None if source is None else PredictionSource(source.checkpoint, source.config, source.run_dir)


def failure_text(event: Failed) -> str:
    """The banner's sentence for a run that failed: what happened, what is kept, what to do."""
    message = event.message.rstrip()
    if not message.endswith((".", "!", "?")):
        message += "."
    kept = f" The run folder keeps what it had: {event.run_dir}." if event.run_dir else ""
    return f"{message}{kept} Change the settings if needed and press Start to try again."


class RunLifecycle(WindowPart):
    """Start, control and end the window's own run."""

    # ----- commands ----------------------------------------------------------------------------
    def start(self) -> bool:
        w = self.window
        blocker = w.start_blocker()
        if blocker:
            self._message(blocker, 8000)
            return False
        try:
            plan = w.session.claim_folder(w.session.plan_start(w.settings.config()))
        except OSError as exc:
            w.show_error(f"Could not create a folder for the run in {w.runs_root}: {exc.strerror or exc}. Check "
                         f"that the disk has space and the folder can be written.")
            return False
        w.following.stop()
        if plan.mode is StartMode.RESUME:
            w.resume_offer.forget(plan.run_dir)
            w.dashboard.set_history(plan.history, plan.patterns)
        else:
            w.dashboard.clear()
        w.banner.clear()
        w.session.begin(plan)
        w.start_choice.show_running(plan.describe())
        config = plan.config
        w.run_status.reset(config.train.epochs, config.train.early_stopping_metric)
        w.dashboard.set_planned_epochs(config.train.epochs)
        w.user_state.last_config = config.to_dict()
        w.prediction_jobs.training_started(config.data.dataset_dir)
        w.controller.start(StartRequest(config, plan.run_dir, resume_from=plan.resume_from,
                                        init_weights=plan.init_weights))
        self._message("Starting: loading PyTorch and generating the puzzles…", 5000)
        return True

    def toggle_pause(self) -> None:
        controller = self.window.controller
        if controller.state == PAUSED:
            controller.resume()
            self._message("Training resumed.", 3000)
        elif controller.active:
            controller.pause()
            self._message("Paused after the current step. Press Resume (F6) to go on; Save checkpoint works "
                          "while paused.")

    def stop(self) -> None:
        if self.window.controller.active:
            self.window.controller.stop()
            self._message("Stopping after the current step; the final checkpoint is being written…")

    def new_run(self) -> None:
        w = self.window
        if w.controller.active:
            return
        w.following.stop()
        w.session.new_run()
        w.start_choice.offer(None)
        w.prediction_jobs.set_source(None)
        w.dashboard.clear()
        w.banner.clear()
        w.run_status.reset()
        w.refresh()
        self._message("New run: adjust the settings and press Start.", 5000)

    # ----- events from the training thread -----------------------------------------------------
    def on_event(self, event: Any) -> None:
        w = self.window
        w.run_status.on_event(event)
        if isinstance(event, Started):
            self._started(event)
        elif isinstance(event, EpochEnd):
            w.dashboard.add_row(event.metrics)
            if len(w.dashboard.rows()) == 1:
                w.refresh()
        elif isinstance(event, PredictionsReady):
            w.predictions.set_predictions(event.predictions)
        elif isinstance(event, CheckpointSaved):
            self._checkpoint_saved(event)
        elif isinstance(event, Finished):
            words = FINISHED_WORDS.get(event.reason, event.reason)
            self._message(f"{words} after {count(event.epochs_done, 'epoch')}.")
        elif isinstance(event, Failed):
            w.show_error(failure_text(event), event.traceback)

    def _started(self, event: Started) -> None:
        w = self.window
        w.session.on_started(event.run_dir)
        w.dashboard.set_patterns(event.task.get("pattern_names") or [])
        w.dashboard.keep_epochs_up_to(event.start_epoch)
        w.user_state.add_recent(Path(event.run_dir), "run")
        sizes = f"{event.num_parameters:,} parameters, " if event.num_parameters else ""
        where = f" on {event.device}" if event.device else ""
        self._message(f"Training {event.task.get('task', '')}{where}: {sizes}{event.train_size} training and "
                      f"{event.test_size} held-out puzzles.", 8000)
        w.refresh()

    def _checkpoint_saved(self, event: CheckpointSaved) -> None:
        w = self.window
        export = w.session.take_export(event.path)
        if export is not None:
            out, fmt = export
            w.files.run_export(Path(event.path), out, fmt, cleanup=Path(event.path).parent)
        elif event.kind == CheckpointKind.MANUAL:   # Save checkpoint… mid-run, not one of the run's own
            w.user_state.add_recent(event.path, "checkpoint")
            self._message(f"Checkpoint saved at epoch {event.epoch}: {event.path}", 8000)
            w.saved.emit([Path(event.path)])

    def on_run_ended(self, last: Any) -> None:
        w = self.window
        ended = w.session.on_run_ended(last, w.dashboard.rows(), w.dashboard.patterns)
        # The choices come back: for the run just ended, else as they were before Start.
        w.start_choice.offer(ended.offer or w.session.opened, default=ended.mode or w.session.mode)
        # After a failure the banner says what happened; evaluating now would only bury it.
        w.prediction_jobs.training_ended(prediction_source(ended.source), evaluate=ended.evaluate)
        if w.session.run_dir is not None:
            with contextlib.suppress(OSError):   # only an empty folder goes: one claimed by a start that failed
                w.session.run_dir.rmdir()        # before writing anything
        for folder in ended.dropped_exports:
            shutil.rmtree(folder, ignore_errors=True)
            w.show_error("The model export was not made because the run ended first; export it again "
                         "from the finished run.")
        w.runs_tab.refresh()
        w.refresh()
