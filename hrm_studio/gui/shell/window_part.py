"""The base of the pieces MainWindow delegates to (run life cycle, opening runs, file commands, sweeps)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hrm_studio.gui.shell.main_window import MainWindow


class WindowPart:
    """One area of the window's behaviour: it reaches the widgets through `window`."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window

    def _message(self, text: str, timeout_ms: int = 0) -> None:
        """A line in the status bar (0: until the next one)."""
        self.window.statusBar().showMessage(text, timeout_ms)
