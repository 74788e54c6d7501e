"""Take docs/screenshots/runs-compare.png: the Runs tab comparing three short runs.

Run it under a display (`make screenshots` uses xvfb-run; QT_QPA_PLATFORM=offscreen works
too). It trains three quick-demo variants in a temporary runs folder with the same core
the CLI uses — a baseline, a lower learning rate and a wider model — then opens the
window, selects the three runs in the library, presses Compare and saves the window.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from hrm_studio.config import RunConfig
from hrm_studio.gui.shell.qt_app import create_application, dispose
from hrm_studio.gui.shell.scripting import (
    save_and_close,
    scripted_window,
    wait_for_signal,
)
from hrm_studio.presets import preset_config

WIDTH, HEIGHT = 1600, 1000
BASE = {"data": {"train_size": 300, "test_size": 60}, "model": {"halt_max_steps": 4},
        "train": {"stop_at_exact": 0.0, "num_threads": 1, "viewer_interval": 0}}
VARIANTS: dict[str, dict[str, object]] = {
    "baseline-lr1e-3": {},
    "slower-lr3e-4": {"lr": 3e-4},
    "wider-h128": {"hidden_size": 128, "num_heads": 4},
}


def train_variants(root: Path, epochs: int) -> list[Path]:
    from hrm_studio.training.trainer import Trainer

    folders = []
    for name, changes in VARIANTS.items():
        config = RunConfig.from_dict(BASE, base=preset_config("quick-demo"))
        config.set("epochs", epochs)
        for key, value in changes.items():
            config.set(key, value)
        folder = root / name
        if not (folder / "status.json").exists():
            Trainer(config, folder, lambda event: None).fit()
            print(f"trained {name}", flush=True)
        folders.append(folder)
    return folders


def shoot(out: Path, epochs: int, keep: Path | None = None, runs: list[Path] | None = None) -> bool:
    """Compare `runs` when given (finished run folders with one parent), else three fresh variants."""
    with tempfile.TemporaryDirectory() as tmp:
        root = runs[0].parent if runs else keep or Path(tmp) / "runs"
        folders = runs or train_variants(root, epochs)
        window = scripted_window(root, size=(WIDTH, HEIGHT))
        window.settings_dock.hide()      # the comparison is the subject: give it the whole width
        window.show_tab("runs")
        tab = window.runs_tab
        tab.refresh()
        tab.select(folders)
        QTimer.singleShot(0, lambda: tab.compare(folders))
        if not wait_for_signal(tab.compare_shown, 60_000) or not tab.comparing:
            print("the comparison did not open", file=sys.stderr)
            dispose(window)
            return False
        tab.compare_view.dashboard.set_smoothing(0.3)
        for _ in range(5):
            QApplication.instance().processEvents()
        save_and_close(window, out)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/screenshots/runs-compare.png")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--keep", type=Path, help="train the runs into this folder (reused when they are there)")
    parser.add_argument("--runs", type=Path, nargs="+", metavar="RUN_DIR",
                        help="compare these finished runs (same parent folder) instead of training three")
    args = parser.parse_args(argv)
    create_application()
    return 0 if shoot(Path(args.out), args.epochs, args.keep, args.runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
