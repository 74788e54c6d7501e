"""Opening a checkpoint or run folder into the window (from a menu, the recent list, the Runs
tab, the resume offer, the command line or a drop), following a run another process still trains,
and keeping up with runs renamed or deleted in the Runs tab.

Reading a checkpoint imports torch, so it runs on the window's JobRunner; the result is
applied here on the GUI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from hrm_studio.gui.shell.opened_run import OpenedRun, open_checkpoint, open_run_folder
from hrm_studio.gui.shell.run_lifecycle import prediction_source
from hrm_studio.gui.shell.session import StartMode, ended_elsewhere_words
from hrm_studio.runstore.follow import FollowUpdate
from hrm_studio.runstore.run_dir import RunDir
from hrm_studio.gui.shell.window_part import WindowPart
from hrm_studio.gui.widgets.background import JobError
from hrm_studio.gui.widgets.words import count
from hrm_studio.presets import preset_label

Then = Callable[[OpenedRun], Any] | None
After = Callable[[], Any] | None


class RunOpening(WindowPart):
    """Open, follow and reopen runs for the window."""

    # ----- open ----------------------------------------------------------------------------------
    def open_checkpoint(self, path: str | Path, after: After = None) -> None:
        path = Path(path)
        current = self.window.settings.config()
        self._open(lambda: open_checkpoint(path, current), path, "checkpoint", after=after)

    def open_run_folder(self, path: str | Path, then: Then = None, after: After = None) -> None:
        path = Path(path)
        current = self.window.settings.config()
        self._open(lambda: open_run_folder(path, current), path, "run", then, after)

    def open_path(self, path: str | Path, after: After = None) -> None:
        """A run folder or a checkpoint, whichever `path` is."""
        path = Path(path)
        if RunDir.holds_run(path):
            self.open_run_folder(path, after=after)
        else:
            self.open_checkpoint(path, after=after)

    def open_paths(self, paths: Sequence[str | Path]) -> None:
        """Open each path in turn, as `open_path` does (paths on the command line, files dropped on the
        window): each lands in the recent list and the Runs tab, and the window shows the last one."""
        paths = list(paths)
        if paths:
            self.open_path(paths[0], after=lambda: self.open_paths(paths[1:]))

    def resume_run(self, path: str | Path) -> None:
        """Open a run folder and continue it at once from its last complete epoch (the resume offer)."""
        w = self.window

        def go_on(opened: OpenedRun) -> None:
            if opened.continue_from is None:
                w.show_error(f"{opened.name} has no checkpoint to continue from; open it to see its "
                             f"history, or start a new run.")
                return
            w.start_choice.set_mode(StartMode.RESUME)
            w.start()
        self.open_run_folder(path, then=go_on)

    def _open(self, work: Callable[[], OpenedRun], path: Path, kind: str, then: Then = None,
              after: After = None) -> None:
        """`then(opened)` once it is shown; `after()` once the attempt is over, whether it opened or not."""
        w = self.window
        if w.controller.active:
            w.show_error("Stop the run before opening another one.")
            return
        self._message(f"Opening {path}…")

        def done(opened: OpenedRun) -> None:
            self.apply(opened, path, kind, then)
            if after is not None:
                after()

        def failed(error: JobError) -> None:
            w.job_failed(error)
            if after is not None:
                after()
        w.jobs.submit(work, done, failed)

    def apply(self, opened: OpenedRun, path: Path, kind: str, then: Then = None) -> None:
        """Show what was opened: settings, curves, Start choice, and its predictions."""
        w = self.window
        w.following.stop()
        opening = w.session.open(opened)
        w.settings.set_config(opened.config)
        w.dashboard.set_planned_epochs(opened.config.train.epochs)
        w.dashboard.set_history(opened.history, opened.patterns)
        train = opened.config.train
        w.run_status.show_history(opened.history, train.epochs, train.early_stopping_metric)
        w.start_choice.offer(opened)
        w.user_state.add_recent(path, kind)
        w.banner.clear()
        w.show_tab("metrics")
        self._message(f"Opened {opened.name} ({opened.description}, {count(len(opened.history), 'epoch')} of history).",
                      8000)
        if opening.follow and opened.run_dir is not None:
            # A headless run still writing this folder: its curves grow as its epochs land.
            w.following.start(opened.run_dir)
            self._message(f"Opened {opened.name}: it is still training in another process, so its curves grow "
                          f"as its epochs land.", 8000)
        w.refresh()
        w.prediction_jobs.set_source(prediction_source(opening.source))
        w.opened.emit(opened)
        if then is not None:
            then(opened)

    def apply_preset(self, name: str) -> None:
        """Apply the preset the opened weights match (the Start choice's offer) and evaluate with it."""
        w = self.window
        if not name or w.controller.active:
            return
        w.settings.apply_preset(name)
        w.start_choice.offer_preset(None)
        w.banner.clear()
        self._message(f"Applied the {preset_label(name)} preset: the settings now fit the opened weights.", 8000)
        w.prediction_jobs.settings_changed()

    # ----- a run another process writes; runs renamed or deleted in the Runs tab ---------------
    def followed(self, update: FollowUpdate) -> None:
        w, session = self.window, self.window.session
        patterns = session.opened.patterns if session.opened is not None else None
        if update.reset:
            w.dashboard.set_history(update.rows, patterns)
        else:
            for row in update.rows:
                w.dashboard.add_row(row)
        if session.run_config is not None:
            train = session.run_config.train
            w.run_status.show_history(w.dashboard.rows(), train.epochs, train.early_stopping_metric)
        if not update.running and session.run_dir is not None:
            # It ended: reopen it quietly (final checkpoint, resume choices), on the tab in view.
            self._message(f"{session.run_dir.name} {ended_elsewhere_words(update.state)} after "
                          f"{count(len(w.dashboard.rows()), 'epoch')}.", 10000)
            self._reopen(session.run_dir)
        w.refresh()

    def _reopen(self, path: Path) -> None:
        tabs = self.window.tabs
        tab = tabs.currentIndex()
        self.open_run_folder(path, then=lambda _: tabs.setCurrentIndex(tab))

    def run_renamed(self, old: Path, new: Path) -> None:
        if self.window.session.shows(old) and not self.window.controller.active:
            self._reopen(new)

    def run_deleted(self, path: Path) -> None:
        if self.window.session.shows(path) and not self.window.controller.active:
            self.window.new_run()
