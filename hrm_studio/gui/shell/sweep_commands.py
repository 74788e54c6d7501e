"""New sweep…, and a sweep's life in the window: its queue runs on the SweepController's
thread, its results fill the Sweep dock, and no run of the window trains beside it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from hrm_studio.gui.shell.window_part import WindowPart
from hrm_studio.gui.widgets.words import count

if TYPE_CHECKING:
    from hrm_studio.gui.shell.main_window import MainWindow


class SweepCommands(WindowPart):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.dialog: Any = None   # the New sweep dialog while it is open

    def blocker(self) -> str | None:
        """Why a sweep cannot start now, in one sentence; None when it can."""
        return self.window.session.sweep_blocker(self.window.activity())

    def refresh(self) -> None:
        if self.dialog is not None:
            self.dialog.set_blocker(self.blocker())

    def new_sweep(self) -> Any:
        """Show the New sweep dialog (non-modal), starting from the current settings; returns it."""
        from hrm_studio.gui.sweeps.sweep_dialog import SweepDialog

        w = self.window
        if self.dialog is None:
            dialog = SweepDialog(w.settings.config(), w.runs_root, w)
            dialog.start_requested.connect(self.start_sweep)
            dialog.finished.connect(lambda _: setattr(self, "dialog", None))
            dialog.finished.connect(dialog.deleteLater)
            self.dialog = dialog
        self.dialog.set_blocker(self.blocker())
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def start_sweep(self, spec: Any, sweep_dir: Path) -> bool:
        """Queue the sweep's runs on the sweep thread; results fill the Sweep panel."""
        w = self.window
        blocker = self.blocker()
        if blocker:
            w.show_error(blocker)
            return False
        w.banner.clear()
        w.prediction_jobs.training_started()   # no evaluation beside the sweep; its garbage collected first
        w.sweeps.start(spec, Path(sweep_dir))
        w.sweep_dock.show()
        w.sweep_dock.raise_()
        w.statusBar().showMessage(f"Sweep of {count(spec.count(), 'run')} started in {sweep_dir}.", 8000)
        return True

    def cancel_sweep(self) -> None:
        w = self.window
        if w.sweeps.active:
            w.sweeps.stop()
            w.statusBar().showMessage("Cancelling the sweep: the run in progress stops after its current step "
                                      "and keeps what it has; finished runs stay.", 8000)

    def state_changed(self) -> None:
        w = self.window
        w.sweep_panel.set_running(w.sweeps.active, stopping=w.sweeps.stopping)
        w.refresh()

    def ended(self, last: Any) -> None:
        w = self.window
        if isinstance(last, str):
            w.sweep_panel.show_failure(last)
            w.show_error(last.splitlines()[0])
        w.runs_tab.refresh()
        w.refresh()
