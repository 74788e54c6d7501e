"""`hrm-studio --self-test`: open the real window, train a tiny run through the worker
thread, and pass only if every epoch reached every plot.

It checks the whole chain a user relies on (window → settings → worker thread → Trainer
→ events → plots) in a few seconds, in a temporary run folder, without touching the
user's remembered window layout or recent files.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from hrm_studio.config import RunConfig
from hrm_studio.gui.shell.scripting import scripted_window, train_to_end, wait_until
from hrm_studio.presets import preset_config

TIMEOUT_S = 180
# quick-demo shrunk to a few seconds: three epochs of a tiny model.
SELF_TEST_SETTINGS = {
    "data": {"train_size": 64, "test_size": 16, "grid_size": 3},
    "model": {"hidden_size": 32, "num_heads": 2, "puzzle_emb_ndim": 32, "halt_max_steps": 2},
    "train": {"epochs": 3, "batch_size": 16, "stop_at_exact": 0.0, "num_threads": 1},
}


def self_test_config() -> RunConfig:
    return RunConfig.from_dict(SELF_TEST_SETTINGS, base=preset_config("quick-demo"))


def missing_points(window: Any, epochs: int) -> list[str]:
    """Every curve that does not hold one point per epoch, as 'key: n points'."""
    window.dashboard.flush()
    wrong = []
    for key in window.dashboard.curve_keys():
        x_data = window.dashboard.curve(key).xData
        count = 0 if x_data is None else len(x_data)
        if count != epochs:
            wrong.append(f"{key}: {count} points")
    return wrong


def settle_predictions(window: Any, expected: int, timeout_s: float = TIMEOUT_S) -> str | None:
    """Wait until the Predictions tab shows the whole held-out split, then select a wrong
    puzzle (when there is one) part-way through its segments. Returns what went wrong, or None."""
    tab = window.predictions

    def shown() -> bool:
        current = tab.current_set()
        return current is not None and current.complete and not window.prediction_jobs.busy

    wait_until(shown, int(timeout_s * 1000))
    current = tab.current_set()
    if current is None or not current.complete:
        return "the Predictions tab never showed the evaluated held-out puzzles."
    if tab.proxy.rowCount() != expected:
        return f"the Predictions tab lists {tab.proxy.rowCount()} puzzles, not the {expected} held-out ones."
    window.show_tab("predictions")
    if not tab.select_first_wrong():
        tab.select_row(tab.shown_rows()[0])
    tab.slider.setValue(current.steps - 1)   # the answer exact match scores: its wrong cells marked
    return None


def run_self_test(app: QApplication, screenshot: Path | None = None, show: str | None = None,
                  timeout_s: float = TIMEOUT_S) -> int:
    from hrm_studio.gui.shell.qt_app import dispose
    from hrm_studio.gui.shell.screenshot import save_window

    config = self_test_config()
    epochs = config.train.epochs
    with tempfile.TemporaryDirectory(prefix="hrm-studio-self-test-") as tmp:
        window = scripted_window(Path(tmp), config=config, tab=show or "metrics")
        started = time.perf_counter()
        last, problem = train_to_end(window, int(timeout_s * 1000))
        seconds = time.perf_counter() - started
        if problem:
            print(f"self-test failed: {problem}", flush=True)
            dispose(window)
            return 1
        rows = window.dashboard.rows()
        wrong = missing_points(window, epochs)
        viewer_problem = None
        if show == "predictions":
            viewer_problem = settle_predictions(window, config.data.test_size, timeout_s)
        elif show in ("inspector", "editor"):
            from hrm_studio.gui.shell.analysis_tabs import settle_analysis_tab

            viewer_problem = settle_analysis_tab(window, show, timeout_s)
        app.processEvents()
        if screenshot is not None:
            save_window(window, screenshot)
            print(f"saved {screenshot}", flush=True)
        banner = window.banner.text
        curves = len(window.dashboard.curve_keys())
        dispose(window)
    if viewer_problem:
        print(f"self-test failed: {viewer_problem}", flush=True)
        return 1
    if banner or type(last).__name__ != "Finished":
        print(f"self-test failed: {banner or last}", flush=True)
        return 1
    if len(rows) != epochs or wrong:
        print(f"self-test failed: {len(rows)} of {epochs} epochs reached the plots; "
              f"curves short of points: {', '.join(wrong) or 'none'}.", flush=True)
        return 1
    print(f"self-test passed: {epochs} epochs trained through the worker thread in {seconds:.1f} s, and "
          f"every one reached all {curves} curves.", flush=True)
    return 0
