"""A tiny ARC build and a test-split PredictionSet for it, with made-up predictions (no model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hrm_studio.data import read_dataset
from hrm_studio.data.arc import build_arc_dataset, parse_puzzle_name
from hrm_studio.runstore.prediction_record import Predictions
from hrm_studio.runstore.prediction_set import PredictionSet, build_prediction_set
from tests.data.arc.arc_helpers import tiny_tasks

PASSED, FAILED = "00576224", "12997ef3"   # the evaluation tasks of tiny_tasks(); 12997ef3 has 2 test inputs


def build_tiny_arc(out: Path, num_aug: int = 3) -> Path:
    build_arc_dataset(list(tiny_tasks()), out, num_aug=num_aug, seed=0)
    return out


def arc_prediction_set(folder: Path, steps: int = 2) -> PredictionSet:
    """PASSED: right in every augmentation but one (which predicts all black); FAILED: all black everywhere.
    q_halt grows with the row, so the confidences differ."""
    data = read_dataset(folder)
    test, names = data.test, data.info.identifier_names
    right = np.where(test.labels == -100, 0, test.labels).astype(np.int16)
    black = np.where(right >= 2, 2, right).astype(np.int16)
    task_of = np.array([parse_puzzle_name(names[i])[0] for i in test.puzzle_identifiers])
    wrong = task_of == FAILED
    wrong[np.flatnonzero(task_of == PASSED)[-1]] = True
    last = np.where(wrong[:, None], black, right)
    preds = np.repeat(last[:, None, :], steps, axis=1)
    preds[:, :-1] = black[:, None, :]
    n, seq = right.shape
    labelled = right != 0
    correct = ((preds == right[:, None, :]) & labelled[:, None, :]).sum(-1).astype(np.int32)
    count = labelled.sum(-1).astype(np.int32)
    q = np.linspace(-1.0, 2.0, n, dtype=np.float32)
    pred = Predictions(
        predictions=preds, confidence=np.full((n, steps, seq), 0.9, np.float16), token_correct=correct,
        token_count=count, exact=correct == count[:, None], q_halt=np.repeat(q[:, None], steps, axis=1),
        q_continue=np.zeros((n, steps), np.float32), halt_step=np.full(n, steps, np.int16),
        lm_loss=np.zeros(n, np.float32), q_halt_loss=np.zeros(n, np.float32), loss=np.zeros(n, np.float32))
    return build_prediction_set("test", 5, np.arange(n), test, pred, data.info.to_dict(), complete=True)
