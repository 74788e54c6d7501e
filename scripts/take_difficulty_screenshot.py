"""Take docs/screenshots/predictions-difficulty.png: the Predictions tab's Difficulty view on 4×4 Sudoku.

Run it under a display (xvfb-run, as `make screenshots` does). It writes a 4×4 Sudoku data set whose
puzzles have 3 to 9 blanks (so accuracy by givens has several groups), trains a short run on it
headless — short on purpose, so the harder puzzles are still wrong — opens the run folder in the
window, shows the Difficulty view and a wrong prediction whose repeated digits are outlined, and
saves the window. `--segments-out` also saves the Segments view after evaluating with twice the
trained segments.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QApplication

from hrm_studio.cli import main as cli_main
from hrm_studio.config import RunConfig
from hrm_studio.data import PuzzleSet
from hrm_studio.data.hrm_format import write_dataset
from hrm_studio.data.task_data import TaskData
from hrm_studio.data.task_options import TaskOptions
from hrm_studio.data.tasks import make_task
from hrm_studio.evaluation.difficulty import split_violations
from hrm_studio.gui.shell.main_window import MainWindow
from hrm_studio.gui.shell.qt_app import create_application, dispose
from hrm_studio.gui.shell.screenshot import save_window
from hrm_studio.gui.shell.scripting import scripted_window, wait_until
from hrm_studio.presets import preset_config

WIDTH, HEIGHT = 1600, 1000
BLANKS = range(3, 10)
TRAIN, TEST = 150, 12   # per number of blanks
SETTINGS = {"model": {"hidden_size": 64, "halt_max_steps": 2},
            "train": {"epochs": 8, "stop_at_exact": 0.0, "num_threads": 2, "tensorboard": False}}


def mixed_sudokus(out: Path) -> Path:
    """A data set folder of 4×4 Sudokus with every number of blanks in BLANKS."""
    parts = [make_task(TaskOptions("sudoku-4x4", TRAIN, TEST, blanks=b, seed=b)) for b in BLANKS]

    def joined(split: str) -> PuzzleSet:
        sets = [getattr(p, split) for p in parts]
        return PuzzleSet(*(np.concatenate([getattr(s, f) for s in sets]) for f in
                           ("inputs", "labels", "puzzle_identifiers", "patterns")))

    return write_dataset(out, TaskData(train=joined("train"), test=joined("test"), info=parts[0].info))


def train(work: Path, run: Path) -> int:
    folder = mixed_sudokus(work / "sudoku-4x4-mixed")
    config = RunConfig.from_dict({**SETTINGS, "data": {"dataset_dir": str(folder)}}, base=preset_config("sudoku-4x4"))
    settings = work / "settings.json"
    settings.write_text(config.to_json(), encoding="utf-8")
    return cli_main(["train", "--config", str(settings), "--quiet", "--overwrite", "--out", str(run)])


def show_difficulty(window: MainWindow) -> str:
    """The Difficulty view and a prediction that breaks a rule; '' or what went wrong."""
    tab = window.predictions
    if not wait_until(lambda: tab.current_set() is not None and not window.prediction_jobs.busy, 600_000):
        return "the Predictions tab never showed the held-out puzzles."
    window.show_tab("predictions")   # after the run folder has opened (it shows the Metrics tab first)
    window.settings_dock.hide()      # the viewer gets the whole width, as a person inspecting would
    tab.summaries.setCurrentWidget(tab.summaries.difficulty)
    ps = tab.current_set()
    broken = split_violations(ps)
    rows = np.flatnonzero(broken.broken) if broken is not None else []
    if len(rows):
        tab.select_row(int(rows[len(rows) // 2]))
    tab.set_segment(ps.steps - 1)   # the answer after every segment: what the rule breaks are counted on
    tab.right_split.setSizes([560, 380])
    QApplication.instance().processEvents()
    return ""


def show_segments(window: MainWindow) -> str:
    tab = window.predictions
    segments = tab.summaries.segments
    trained = tab.current_set().steps
    segments.spin.setValue(2 * trained)
    segments.run_button.click()
    if not wait_until(lambda: tab.current_set().steps == 2 * trained and not window.prediction_jobs.busy, 600_000):
        return "the evaluation with more segments never arrived."
    tab.summaries.setCurrentWidget(segments)
    QApplication.instance().processEvents()
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/screenshots/predictions-difficulty.png")
    parser.add_argument("--segments-out", help="also save the Segments view here")
    parser.add_argument("--work-dir", help="keep the data set and the run here; a run already there is reused")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work_dir) if args.work_dir else Path(tmp)
        run = work / "run"
        if not (run / "checkpoints" / "final.pt").is_file() and train(work, run) != 0:
            return 1
        create_application()
        window = scripted_window(Path(tmp) / "runs", size=(WIDTH, HEIGHT))
        window.open_run_folder(run)
        problem = show_difficulty(window)
        if not problem:
            save_window(window, Path(args.out))
            print(f"saved {args.out}", flush=True)
            if args.segments_out:
                problem = show_segments(window)
                if not problem:
                    save_window(window, Path(args.segments_out))
                    print(f"saved {args.segments_out}", flush=True)
        dispose(window)
        if problem:
            print(problem, file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
