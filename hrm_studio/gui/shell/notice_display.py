"""Show the Trainer's `Notice` events: something went wrong but the run goes on.

A notice (the run folder vanished and was written again; a checkpoint asked for could not
be saved) must reach the person without stopping them: the status bar says it, and the
window's banner shows it in its info colour until dismissed or replaced. Nothing modal.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QStatusBar

from hrm_studio.gui.widgets.error_banner import ErrorBanner
from hrm_studio.events import Notice

STATUS_MS = 15_000


def notice_text(notice: Notice) -> str:
    """The trainer's sentence, ending in a full stop, with what it means for the run."""
    message = notice.message.rstrip()
    if not message.endswith((".", "!", "?")):
        message += "."
    return f"{message} Training goes on."


class NoticeDisplay(QObject):
    """Listens to a RunController's `event` signal; shows each Notice, ignores the rest."""

    shown = Signal(object)   # the Notice, once it is on screen

    def __init__(self, banner: ErrorBanner, status_bar: QStatusBar, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.banner = banner
        self.status_bar = status_bar
        self.notices: list[Notice] = []   # every notice of this window's session, oldest first

    @Slot(object)
    def on_event(self, event: Any) -> None:
        if isinstance(event, Notice):
            self.show(event)

    def show(self, notice: Notice) -> None:
        text = notice_text(notice)
        self.notices.append(notice)
        self.banner.show_info(text)
        self.status_bar.showMessage(text, STATUS_MS)
        self.shown.emit(notice)
