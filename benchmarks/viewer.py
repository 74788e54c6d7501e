"""Benchmark of the prediction viewer: moving from one puzzle to the next with 2,000 loaded.

Issue 5's target: ≤ 30 ms from the key press to the four grids, the step strip and the
summary line redrawn. The PredictionSet is synthetic (the seed's 30×30 canvas, 16 ACT
segments, 2,000 puzzles of two patterns): drawing cost depends on the shapes, not on
how well a model did. Runs in a fresh process on the `offscreen` platform when there is
no display.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from typing import Iterator

from benchmarks.core import Figure, figure
from benchmarks.gui import _env

PUZZLES, SEGMENTS, CANVAS, GRID = 2000, 16, 30, 5
MOVES = 200


def synthetic_set():  # noqa: ANN201 - a PredictionSet; imported lazily
    import numpy as np

    from hrm_studio.data import PuzzleSet
    from hrm_studio.data.grid import COLOUR_VOCAB_LABELS, encode_grids
    from hrm_studio.runstore.prediction_set import build_prediction_set
    from hrm_studio.runstore.prediction_record import Predictions

    rng = np.random.default_rng(0)
    grids = rng.integers(2, 12, size=(PUZZLES, GRID, GRID))
    inputs = encode_grids(grids, "canvas", CANVAS)                     # colour tokens 2..11
    labels = encode_grids((grids - 2 + 1) % 10 + 2, "canvas", CANVAS)   # "increment with wrap"
    labels = np.where(inputs == 0, -100, labels).astype(np.int32)
    seq = inputs.shape[1]
    pred = np.repeat(np.where(labels < 0, 0, labels)[:, None, :], SEGMENTS, axis=1).astype(np.int16)
    flip = rng.random(pred.shape) < 0.02
    pred[flip] = rng.integers(2, 12, size=int(flip.sum()))
    correct = ((pred == labels[:, None, :]) & (labels[:, None, :] != -100)).sum(-1).astype(np.int32)
    count = (labels != -100).sum(-1).astype(np.int32)
    predictions = Predictions(
        predictions=pred, confidence=rng.random((PUZZLES, SEGMENTS, seq)).astype(np.float16),
        token_correct=correct, token_count=count, exact=correct == count[:, None],
        q_halt=rng.normal(size=(PUZZLES, SEGMENTS)).astype(np.float32),
        q_continue=rng.normal(size=(PUZZLES, SEGMENTS)).astype(np.float32),
        halt_step=rng.integers(1, SEGMENTS + 1, PUZZLES).astype(np.int16),
        lm_loss=np.zeros(PUZZLES, np.float32), q_halt_loss=np.zeros(PUZZLES, np.float32),
        loss=np.zeros(PUZZLES, np.float32))
    patterns = np.array(["copy", "increment"] * (PUZZLES // 2))
    puzzles = PuzzleSet(inputs=inputs, labels=labels, puzzle_identifiers=np.ones(PUZZLES, np.int32),
                        patterns=patterns)
    task = {"task": "copy-increment", "vocab_size": 12, "seq_len": seq, "num_puzzle_identifiers": 3,
            "identifier_names": ["<blank>", "copy", "increment"], "pattern_names": ["copy", "increment"],
            "grid_shape": [CANVAS, CANVAS], "vocab_labels": list(COLOUR_VOCAB_LABELS), "display": "colour",
            "ceiling": None}
    return build_prediction_set("test", 1, np.arange(PUZZLES), puzzles, predictions, task, True)


def _viewer_child() -> None:
    """In a fresh process: load the set, then press Down MOVES times, repainting each time."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from hrm_studio.gui.predictions.predictions_tab import PredictionsTab

    ps = synthetic_set()
    tab = PredictionsTab()
    tab.resize(1400, 900)
    tab.show()
    started = time.perf_counter()
    tab.set_predictions(ps)
    app.processEvents()
    load = time.perf_counter() - started
    tab.numbers_box.setChecked(True)
    tab.table.setFocus()
    app.processEvents()
    times = []
    for _ in range(MOVES):
        t0 = time.perf_counter()
        QTest.keyClick(tab.table, Qt.Key.Key_Down)
        for view in tab.views.values():
            view.repaint()          # synchronous paint: the cost a person waits for
        tab.strip.repaint()
        app.processEvents()
        times.append((time.perf_counter() - t0) * 1000)
    moved = tab.selected_row()
    print(json.dumps({"load_s": load, "median": statistics.median(times),
                      "p95": sorted(times)[int(0.95 * len(times)) - 1], "max": max(times), "row": moved}))


def viewer_figures() -> Iterator[Figure]:
    code = "from benchmarks.viewer import _viewer_child; _viewer_child()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"viewer benchmark failed: {done.stderr.strip()[-800:]}")
    r = json.loads(done.stdout.strip().splitlines()[-1])
    if r["row"] != MOVES:
        raise RuntimeError(f"viewer benchmark: expected to end on puzzle {MOVES}, ended on {r['row']}")
    cfg = (f"{PUZZLES} puzzles on the {CANVAS}×{CANVAS} canvas, {SEGMENTS} segments, token numbers on; "
           f"Down arrow {MOVES} times, four grids + strip repainted each time")
    yield figure("viewer: next puzzle redraw p95", r["p95"], "ms", "≤ 30 ms", r["p95"] <= 30, cfg)
    yield figure("viewer: next puzzle redraw median", r["median"], "ms", "", None, cfg)
    yield figure("viewer: load 2,000 puzzles", r["load_s"], "s", "", None, cfg)


if __name__ == "__main__":
    for f in viewer_figures():
        print(f)
