"""Take docs/screenshots/sizes/<W>x<H>-<tab>.png: every tab of the window at laptop sizes.

Run it under a display (`make screenshots` uses xvfb-run). It trains the quick-demo preset for a
few epochs in a temporary run folder so every tab has something to show (curves, the held-out
puzzles, the run in the library), then resizes the window to each size and saves each tab. It
exits 1 when the window cannot be made that small (its minimum size is larger), so the pictures
double as a check that the window fits a 1024×640 screen.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication

from hrm_studio.gui.shell.main_window import MainWindow
from hrm_studio.gui.shell.qt_app import create_application, dispose
from hrm_studio.gui.shell.screenshot import save_window
from hrm_studio.gui.shell.scripting import pause, scripted_window, train_to_end
from hrm_studio.gui.shell.self_test import settle_predictions
from hrm_studio.gui.shell.window_layout import TABS
from hrm_studio.presets import preset_config

SIZES = ((1280, 720), (1024, 640))


def train_demo(window: MainWindow, epochs: int) -> bool:
    config = preset_config("quick-demo")
    for name, value in (("epochs", epochs), ("num_threads", 1), ("stop_at_exact", 0.0)):
        config.set(name, value)
    window.settings.apply_preset("quick-demo")
    window.settings.set_config(config)
    _, problem = train_to_end(window, 300_000)
    if problem is None:
        window.show_tab("predictions")
        problem = settle_predictions(window, config.data.test_size)
    if problem:
        print(problem, file=sys.stderr)
        return False
    return True


def shoot(window: MainWindow, out_dir: Path) -> bool:
    fits = True
    for width, height in SIZES:
        window.resize(width, height)
        for tab in TABS:
            window.show_tab(tab)
            pause(300)
            if window.size().toTuple() != (width, height):
                print(f"the window cannot be {width}×{height} on the {tab} tab: it stays "
                      f"{window.width()}×{window.height()}", file=sys.stderr)
                fits = False
            out = save_window(window, out_dir / f"{width}x{height}-{tab}.png")
            print(f"saved {out}", flush=True)
    return fits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", default="docs/screenshots/sizes")
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args(argv)
    create_application()
    with tempfile.TemporaryDirectory() as tmp:
        window = scripted_window(Path(tmp), size=SIZES[0])
        ok = train_demo(window, args.epochs)
        if ok:
            window.runs_tab.refresh()
            pause(1000)
            QApplication.instance().processEvents()
            ok = shoot(window, Path(args.out_dir))
        dispose(window)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
