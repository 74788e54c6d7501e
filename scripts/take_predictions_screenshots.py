"""Take docs/screenshots/predictions-<task>.png: the Predictions tab after a short run.

Run it under a display (`make screenshots` uses xvfb-run). For copy-increment, 4×4 and 9×9 Sudoku
and a maze it trains a few epochs in a temporary run folder — short on purpose, so some
held-out puzzles are still wrong — waits for the held-out split to be evaluated, selects
a wrong puzzle part-way through its reasoning segments and saves the window.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from hrm_studio.config import RunConfig
from hrm_studio.gui.shell.qt_app import create_application, dispose
from hrm_studio.gui.shell.scripting import save_and_close, scripted_window, train_to_end
from hrm_studio.gui.shell.self_test import settle_predictions
from hrm_studio.presets import preset_config

WIDTH, HEIGHT = 1600, 1000
TIMEOUT_MS = 600_000
SCENES: dict[str, RunConfig] = {
    "copy-increment": RunConfig.from_dict(
        {"data": {"train_size": 300, "test_size": 60}, "model": {"halt_max_steps": 4},
         "train": {"epochs": 3, "stop_at_exact": 0.0, "num_threads": 1}}, base=preset_config("quick-demo")),
    "sudoku-4x4": RunConfig.from_dict(
        {"data": {"train_size": 600, "test_size": 60}, "model": {"halt_max_steps": 4},
         "train": {"epochs": 10, "stop_at_exact": 0.0, "num_threads": 1}}, base=preset_config("sudoku-4x4")),
    "sudoku-9x9": RunConfig.from_dict(  # the preset's first epoch: ~3/4 of held-out puzzles solved
        {"data": {"test_size": 60}, "train": {"epochs": 1, "stop_at_exact": 0.0}}, base=preset_config("sudoku-9x9")),
    "maze": RunConfig.from_dict(
        {"data": {"task": "maze", "train_size": 300, "test_size": 40}, "model": {"halt_max_steps": 4},
         "train": {"epochs": 3, "stop_at_exact": 0.0, "num_threads": 1}}, base=preset_config("quick-demo")),
}


def shoot(task: str, config: RunConfig, out: Path) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        window = scripted_window(Path(tmp), size=(WIDTH, HEIGHT), config=config, tab="predictions")
        _, problem = train_to_end(window, TIMEOUT_MS)
        if problem is None:
            window.settings_dock.hide()   # the viewer gets the whole width, as a person inspecting would
            problem = settle_predictions(window, config.data.test_size)
        if problem:
            print(f"{task}: {problem}", file=sys.stderr)
            dispose(window)
            return False
        save_and_close(window, out)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", default="docs/screenshots")
    parser.add_argument("tasks", nargs="*", default=list(SCENES), help=f"any of {', '.join(SCENES)}")
    args = parser.parse_args(argv)
    create_application()
    ok = all(shoot(task, SCENES[task], Path(args.out_dir) / f"predictions-{task}.png") for task in args.tasks)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
