"""Take docs/screenshots/main-window.png: the real window in the middle of a training run.

Run it under a display (`make screenshots` uses xvfb-run). It trains the quick-demo
preset in a temporary run folder, waits until a few epochs are on the plots, hovers one
plot so the read-out shows values, saves the window, then stops the run and exits.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer

from hrm_studio.events import EpochEnd
from hrm_studio.gui.shell.qt_app import create_application, dispose
from hrm_studio.gui.shell.screenshot import save_window
from hrm_studio.gui.shell.scripting import scripted_window
from hrm_studio.presets import preset_config

WIDTH, HEIGHT = 1280, 720   # a laptop screen: what most people first see the window on


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/screenshots/main-window.png")
    parser.add_argument("--after-epochs", type=int, default=5)
    args = parser.parse_args(argv)
    app = create_application()
    config = preset_config("quick-demo")
    config.set("epochs", 12)
    config.set("num_threads", 1)
    config.set("stop_at_exact", 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        window = scripted_window(Path(tmp), size=(WIDTH, HEIGHT))
        window.settings.apply_preset("quick-demo")
        window.settings.set_config(config)
        loop = QEventLoop()
        seen = {"epochs": 0}

        def on_event(event: object) -> None:
            if isinstance(event, EpochEnd):
                seen["epochs"] += 1
                if seen["epochs"] == args.after_epochs:
                    QTimer.singleShot(300, loop.quit)   # let the redraw of this epoch land

        window.controller.event.connect(on_event)
        QTimer.singleShot(180_000, loop.quit)
        if not window.start():
            print(f"cannot start: {window.start_blocker()}", file=sys.stderr)
            return 1
        loop.exec()
        board = window.dashboard
        board.flush()
        board.readout.setText(board.readout_at("exact_match", max(args.after_epochs - 1, 1)))
        app.processEvents()
        out = save_window(window, Path(args.out))
        print(f"saved {out} after {seen['epochs']} epochs", flush=True)
        wait = QEventLoop()
        window.controller.ended.connect(lambda *_: wait.quit())
        window.stop()
        if window.controller.active:
            wait.exec()
        dispose(window)
    return 0 if seen["epochs"] >= args.after_epochs else 1


if __name__ == "__main__":
    raise SystemExit(main())
