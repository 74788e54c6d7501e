"""Benchmarks of the Studio window: event-loop lag while training, training speed in the
window versus headless, and time from launch to a painted window.

The GUI thread shares the GIL with the training thread, so both a slow redraw (the window
stutters) and a busy window (training slows) show up here. Each part runs in a fresh
process; without a display the Qt platform is `offscreen` (a benchmark, not the user's
launch path).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from benchmarks.core import Figure, figure

PROBE_MS = 5
EPOCHS = 4
CONFIG_WORDS = f"copy-increment defaults, {EPOCHS} epochs, num_threads=1, stop_at_exact=0"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def _config() -> Any:
    from hrm_studio.presets import preset_config

    config = preset_config("copy-increment")
    config.set("epochs", EPOCHS)
    config.set("num_threads", 1)
    config.set("stop_at_exact", 0.0)
    return config


def _speed(history: list[dict[str, Any]]) -> float:
    """Median training samples/s, skipping the first (warm-up) epoch."""
    rows = history[1:] or history
    return statistics.median(r["samples_per_second"] for r in rows)


def _window_run(runs_root: Path, probe_ms: int | None) -> tuple[list[dict[str, Any]], list[float]]:
    """Train `_config()` in a real window; with `probe_ms`, also time a QTimer on the GUI thread.
    Returns the history and the probe's lateness per interval (ms)."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer

    from hrm_studio.gui.shell.qt_app import dispose
    from hrm_studio.gui.shell.main_window import MainWindow
    from hrm_studio.gui.shell.user_state import UserState
    from hrm_studio.events import Started

    window = MainWindow(UserState(None), runs_root=runs_root)
    window.confirm = lambda *_: True
    window.settings.set_config(_config())
    window.show()
    clock = QElapsedTimer()
    clock.start()
    ticks: list[int] = []
    training = {"on": False}
    probe = QTimer()
    if probe_ms:
        probe.setTimerType(Qt.TimerType.PreciseTimer)
        probe.timeout.connect(lambda: training["on"] and ticks.append(clock.nsecsElapsed()))
        probe.start(probe_ms)
    window.controller.event.connect(lambda e: isinstance(e, Started) and training.update(on=True))
    loop = QEventLoop()
    window.controller.ended.connect(lambda *_: loop.quit())
    window.start()
    loop.exec()
    probe.stop()
    rows = window.dashboard.rows()
    dispose(window)
    late = [(b - a) / 1e6 - (probe_ms or 0) for a, b in zip(ticks, ticks[1:])]
    return rows, late


def _training_child() -> None:
    """Headless, window, headless again (speed), then a window with the lag probe; prints JSON."""
    from hrm_studio.gui.shell.qt_app import create_application
    from hrm_studio.training.trainer import Trainer

    app = create_application()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        headless = [_speed(Trainer(_config(), root / "headless-1").fit().history)]
        gui = [_speed(_window_run(root / "window-1", None)[0])]
        headless.append(_speed(Trainer(_config(), root / "headless-2").fit().history))
        gui.append(_speed(_window_run(root / "window-2", None)[0]))
        _, late = _window_run(root / "window-probe", PROBE_MS)
    late.sort()
    print(json.dumps({"headless": statistics.mean(headless), "gui": statistics.mean(gui),
                      "lag_p99": late[min(len(late) - 1, int(0.99 * len(late)))] if late else None,
                      "lag_max": late[-1] if late else None, "samples": len(late)}))
    del app


LAUNCH = """
import time
from PySide6.QtCore import QEvent, QObject, QTimer
from hrm_studio.gui.shell.qt_app import create_application, dispose
from hrm_studio.gui.shell.main_window import MainWindow
from hrm_studio.gui.shell.user_state import UserState
app = create_application()
window = MainWindow(UserState(None))
class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not hasattr(self, 'at'):
            self.at = time.time()
            print(repr(self.at), flush=True)
            QTimer.singleShot(0, app.quit)
        return False
spy = FirstPaint()
app.installEventFilter(spy)
window.show()
app.exec()
dispose(window)
"""


def _launch_seconds() -> float:
    started = time.time()
    done = subprocess.run([sys.executable, "-c", LAUNCH], capture_output=True, text=True, env=_env(), timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"window launch failed: {done.stderr.strip()[-500:]}")
    return float(done.stdout.strip().splitlines()[0]) - started


def gui_figures() -> Iterator[Figure]:
    launches = [_launch_seconds() for _ in range(3)]
    launch = statistics.median(launches)
    yield figure("window: launch to first paint", launch, "s", "≤ 1.5 s", launch <= 1.5,
                 f"fresh `python -c` process, median of 3 ({', '.join(f'{s:.2f}' for s in launches)} s)")
    code = "from benchmarks.gui import _training_child; _training_child()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"GUI training benchmark failed: {done.stderr.strip()[-800:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    probe = f"{CONFIG_WORDS}; QTimer every {PROBE_MS} ms, {result['samples']} intervals"
    yield figure("window while training: event-loop lag p99", result["lag_p99"], "ms", "≤ 16 ms",
                 result["lag_p99"] is not None and result["lag_p99"] <= 16, probe)
    yield figure("window while training: event-loop lag max", result["lag_max"], "ms", "≤ 50 ms",
                 result["lag_max"] is not None and result["lag_max"] <= 50, probe)
    ratio = result["gui"] / result["headless"]
    yield figure("training samples/s in the window ÷ headless", ratio, "ratio", "≥ 0.95", ratio >= 0.95,
                 f"{CONFIG_WORDS}; window {result['gui']:.0f}, headless {result['headless']:.0f} samples/s "
                 f"(median over epochs 2–{EPOCHS}; runs alternated, two of each)")


if __name__ == "__main__":
    for f in gui_figures():
        print(f)
