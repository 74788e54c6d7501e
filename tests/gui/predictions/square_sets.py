"""A PredictionSet of square puzzles of any side (a 30×30 maze's size) without training a model."""

from __future__ import annotations

import numpy as np

from hrm_studio.data import PuzzleSet
from hrm_studio.runstore.prediction_record import Predictions
from hrm_studio.runstore.prediction_set import PredictionSet, build_prediction_set

LABELS = ["PAD", "EOS", "#", " ", "S", "G", "o"]


def square_prediction_set(side: int = 30, n: int = 4, steps: int = 2, seed: int = 0) -> PredictionSet:
    """`n` side×side puzzles; the prediction after the last segment is right for the even ones."""
    rng = np.random.default_rng(seed)
    seq = side * side
    inputs = rng.integers(2, 5, size=(n, seq)).astype(np.int32)
    labels = inputs.copy()
    labels[:, ::7] = 6
    preds = np.repeat(labels[:, None, :], steps, axis=1).astype(np.int16)
    preds[:, :-1, ::5] = 3              # earlier segments: wrong in a few cells
    preds[1::2, -1, ::11] = 3           # odd puzzles stay wrong
    correct = (preds == labels[:, None, :]).sum(-1).astype(np.int32)
    count = np.full(n, seq, np.int32)
    pred = Predictions(
        predictions=preds, confidence=np.full((n, steps, seq), 0.9, np.float16), token_correct=correct,
        token_count=count, exact=correct == seq, q_halt=np.zeros((n, steps), np.float32),
        q_continue=np.zeros((n, steps), np.float32), halt_step=np.full(n, steps, np.int16),
        lm_loss=np.zeros(n, np.float32), q_halt_loss=np.zeros(n, np.float32), loss=np.zeros(n, np.float32))
    puzzles = PuzzleSet(inputs=inputs, labels=labels, puzzle_identifiers=np.ones(n, np.int32),
                        patterns=np.array(["maze"] * n))
    task = {"vocab_size": len(LABELS), "vocab_labels": LABELS, "pattern_names": ["maze"],
            "grid_shape": [side, side], "display": "colour", "task": "maze"}
    return build_prediction_set("test", 3, np.arange(n), puzzles, pred, task, complete=True)
