"""Driving the real window from a script — the self-test and the screenshot scripts — without
sleep-and-hope: every wait runs Qt's event loop until a condition holds, a signal fires or a
deadline passes, so the window keeps painting and training events keep arriving meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEventLoop, QTimer

if TYPE_CHECKING:
    from hrm_studio.config import RunConfig
    from hrm_studio.gui.shell.main_window import MainWindow


def pause(ms: int) -> None:
    """Let resizes, refits and repaints land before a picture is taken."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(check: Callable[[], object], timeout_ms: int, poll_ms: int = 50) -> bool:
    """Run the event loop until `check()` is true (polled) or `timeout_ms` passes; its last answer."""
    if check():
        return True
    loop, timer = QEventLoop(), QTimer()
    timer.setInterval(poll_ms)
    timer.timeout.connect(lambda: loop.quit() if check() else None)
    timer.start()
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    timer.stop()
    return bool(check())


def wait_for_signal(signal: Any, timeout_ms: int) -> bool:
    """Run the event loop until `signal` fires or `timeout_ms` passes; whether it fired."""
    fired: list[bool] = []
    loop = QEventLoop()

    def on_fire(*_: object) -> None:
        fired.append(True)
        loop.quit()

    signal.connect(on_fire)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(on_fire)
    return bool(fired)


def scripted_window(runs_root: Path, *, size: tuple[int, int] | None = None, config: RunConfig | None = None,
                    tab: str | None = None) -> MainWindow:
    """The real window on a throw-away runs folder, with no remembered layout and no question that
    would wait for a person (every confirmation answers yes)."""
    from hrm_studio.gui.shell.main_window import MainWindow
    from hrm_studio.gui.shell.user_state import UserState

    window = MainWindow(UserState(None), runs_root=runs_root)
    window.confirm = lambda *_: True
    if size is not None:
        window.resize(*size)
    if config is not None:
        window.settings.set_config(config)
    window.show()
    if tab is not None:
        window.show_tab(tab)
    return window


def train_to_end(window: MainWindow, timeout_ms: int) -> tuple[object | None, str | None]:
    """Press Start with the panel's settings and wait for the run to end: (its last event, None) —
    Finished, or Failed after a crash, for the caller to judge — or (None, why it never ended)."""
    loop = QEventLoop()
    ended: list[object] = []
    window.controller.ended.connect(lambda last: (ended.append(last), loop.quit()))
    QTimer.singleShot(timeout_ms, loop.quit)
    if not window.start():
        return None, f"cannot start: {window.start_blocker()}"
    loop.exec()
    return (ended[0], None) if ended else (None, f"the run did not end within {timeout_ms / 1000:.0f} s.")


def save_and_close(window: MainWindow, out: Path) -> Path:
    """Save the window as `out` once its pending layout has settled (see save_window), and close it
    (its threads stopped)."""
    from hrm_studio.gui.shell.qt_app import dispose
    from hrm_studio.gui.shell.screenshot import save_window

    try:
        saved = save_window(window, out)
    finally:
        dispose(window)
    print(f"saved {saved}", flush=True)
    return saved
