"""Start the Studio window: `main()` for the CLI.

`main()` is what `hrm-studio` (no subcommand) and `hrm-studio gui` call. It never sets a
Qt platform: a headless machine needs QT_QPA_PLATFORM=offscreen or xvfb-run from the
caller, exactly as for any other Qt program.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QTimer

from hrm_studio.gui.shell.qt_app import create_application, dispose


def _close_on_ctrl_c(window: "object") -> QTimer:
    """Ctrl-C in the terminal closes the window (asking first if a run is going)."""
    signal.signal(signal.SIGINT, lambda *_: window.close())  # type: ignore[attr-defined]
    ticker = QTimer()
    ticker.start(250)           # lets the Python interpreter run its signal handlers
    ticker.timeout.connect(lambda: None)
    return ticker


def main(paths: Sequence[str] = (), *, self_test: bool = False, screenshot: str | None = None,
         show: str | None = None) -> int:
    """Open the window (and `paths[0]`, a run folder or checkpoint); return the exit code."""
    app = create_application()
    if self_test:
        from hrm_studio.gui.shell.self_test import run_self_test

        return run_self_test(app, Path(screenshot) if screenshot else None, show)

    from hrm_studio.gui.shell.main_window import MainWindow
    from hrm_studio.gui.shell.user_state import UserState

    window = MainWindow(UserState.for_user())
    if show:
        window.show_tab(show)
    window.show()
    for path in paths[:1]:
        window.open_path(path)
    if screenshot:
        from hrm_studio.gui.shell.screenshot import save_when_idle

        save_when_idle(window, Path(screenshot), then_quit=True)
    ticker = _close_on_ctrl_c(window)
    code = app.exec()
    ticker.stop()
    dispose(window)
    return code
