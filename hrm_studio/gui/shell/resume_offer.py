"""The offer, on start, to continue a run that was interrupted: a bar, never a dialog.

A laptop that lost power or a Studio that was killed leaves a run whose status says
"running" but whose process is gone (`runs.find_unfinished`). Its last-epoch checkpoint
holds its last whole epoch, so nothing is lost if the person says "Resume". The offer is a bar above the
tabs, not a modal question: the window is usable at once, tests never meet a dialog, and
ignoring it is as good as "not now". "Dismiss" is remembered per run and epoch in the
user state, so the same run is not offered at every launch (it stays in the Runs tab);
if that run is later continued and interrupted again, it is offered again.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from hrm_studio.gui.shell.user_state import UserState
from hrm_studio.runs.discovery import RunInfo, find_unfinished

STYLE = ("#resumeOffer { background: rgba(38, 139, 210, 32); border: 1px solid rgba(38, 139, 210, 150); "
         "border-radius: 4px; }")


def offer_text(run: RunInfo, others: int) -> str:
    where = f"epoch {run.epochs_done} of {run.epochs}" if run.epochs else f"epoch {run.epochs_done}"
    text = (f"<b>Unfinished run:</b> {escape(run.name)} stopped at {where} when HRM Studio or the computer "
            f"stopped. Its checkpoint of that epoch is safe: Resume continues it from there, in the same folder.")
    if others:
        text += f" {others} more unfinished run{'s are' if others > 1 else ' is'} in the Runs tab."
    return text


class ResumeOffer(QFrame):
    """`scan(root)` looks for unfinished runs and shows the newest one not dismissed."""

    resume_requested = Signal(Path)   # the run folder to continue
    dismissed = Signal(list)          # the RunInfos no longer offered

    def __init__(self, user_state: UserState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resumeOffer")
        self.setStyleSheet(STYLE)
        self.user_state = user_state
        self._runs: list[RunInfo] = []
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setDefault(False)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setToolTip("Don't offer these runs again. They stay in the Runs tab, where you can "
                                       "open one and press Start to continue it.")
        self.resume_button.clicked.connect(self.resume)
        self.dismiss_button.clicked.connect(self.dismiss)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 6, 8, 6)
        row.addWidget(self.message, 1)
        row.addWidget(self.resume_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    @property
    def runs(self) -> list[RunInfo]:
        """The unfinished runs on offer, newest first (the first is the one shown)."""
        return list(self._runs)

    @property
    def run(self) -> RunInfo | None:
        return self._runs[0] if self._runs else None

    def scan(self, root: Path) -> list[RunInfo]:
        """Reads only status, config and metrics lines (no torch), so it is quick enough to do
        while the window is built."""
        found = [run for run in find_unfinished(root)
                 if self.user_state.dismissed_epoch(run.path) != run.epochs_done]
        self.show_runs(found)
        return found

    def show_runs(self, runs: list[RunInfo]) -> None:
        self._runs = list(runs)
        run = self.run
        if run is None:
            self.hide()
            return
        self.message.setText(offer_text(run, len(runs) - 1))
        self.resume_button.setToolTip(f"Open {run.path} and continue training it from its last saved epoch.")
        self.show()

    def set_available(self, available: bool, why: str = "") -> None:
        """Resume is greyed out while another run trains or a file is being opened."""
        self.resume_button.setEnabled(available)
        if why:
            self.resume_button.setToolTip(why)
        elif self.run is not None:
            self.resume_button.setToolTip(f"Open {self.run.path} and continue training it from its last "
                                          f"saved epoch.")

    def resume(self) -> None:
        run = self.run
        if run is None:
            return
        self._runs = []   # one run at a time: the others stay in the Runs tab
        self.hide()
        self.resume_requested.emit(run.path)

    def dismiss(self) -> None:
        runs, self._runs = self._runs, []
        for run in runs:
            self.user_state.dismiss_run(run.path, run.epochs_done)
        self.user_state.save()
        self.hide()
        self.dismissed.emit(runs)

    def forget(self, path: Path) -> None:
        """A run was opened or resumed some other way: stop offering it."""
        path = Path(path).resolve()
        kept = [run for run in self._runs if run.path.resolve() != path]
        if len(kept) != len(self._runs):
            self.show_runs(kept)
