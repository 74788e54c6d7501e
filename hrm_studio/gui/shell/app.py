"""Start the Studio window: `main()` for the CLI.

`main()` is what `hrm-studio` (no subcommand) and `hrm-studio gui` call. It never sets a
Qt platform: a headless machine needs QT_QPA_PLATFORM=offscreen or xvfb-run from the
caller, exactly as for any other Qt program. Where Qt would abort instead (Linux, xcb
libraries missing or no X display), `platform_check` says why first and main() returns 2.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from PySide6.QtCore import QTimer

from hrm_studio.gui.shell.qt_app import create_application, dispose, platform_problem

if TYPE_CHECKING:
    from hrm_studio.gui.shell.main_window import MainWindow
    from hrm_studio.gui.shell.opened_run import OpenedRun

PLATFORM_FAILED = 2   # the exit code when Qt could not open a window


def _close_on_ctrl_c(window: "object") -> QTimer:
    """Ctrl-C in the terminal closes the window (asking first if a run is going)."""
    signal.signal(signal.SIGINT, lambda *_: window.close())  # type: ignore[attr-defined]
    ticker = QTimer()
    ticker.start(250)           # lets the Python interpreter run its signal handlers
    ticker.timeout.connect(lambda: None)
    return ticker


def _say_when_opened(window: "MainWindow", count: int) -> None:
    """One line on stdout per path from the command line once it is open: what a terminal, a
    launcher's log or a test can see."""
    left = [count]

    def said(opened: "OpenedRun") -> None:
        print(f"opened {opened.run_dir or opened.checkpoint or opened.name}", flush=True)
        left[0] -= 1
        if left[0] == 0:
            window.opened.disconnect(said)
    window.opened.connect(said)


def main(paths: Sequence[str] = (), *, self_test: bool = False, screenshot: str | None = None,
         show: str | None = None) -> int:
    """Open the window (and `paths`: run folders or checkpoints); return the exit code."""
    problem = platform_problem()
    if problem is not None:   # Qt would abort with a misleading message: say what to install instead
        print(problem.message(), file=sys.stderr)
        return PLATFORM_FAILED
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
    if paths:   # each in turn, as a drop does; the window shows the last, the Runs tab lists them all
        _say_when_opened(window, len(paths))
        if show:   # opening a run shows its Metrics: the tab asked for comes after
            window.opened.connect(lambda *_: window.show_tab(show))
        window.opening.open_paths(paths)
    if screenshot:
        from hrm_studio.gui.shell.screenshot import save_when_idle

        save_when_idle(window, Path(screenshot), then_quit=True)
    ticker = _close_on_ctrl_c(window)
    code = app.exec()
    ticker.stop()
    dispose(window)
    return code
