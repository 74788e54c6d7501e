"""PredictionSets built from chosen grids (no model): Sudoku answers with known rule breaks, mazes."""

from __future__ import annotations

from typing import Any

import numpy as np

from hrm_studio.data import PuzzleSet
from hrm_studio.data.tasks.sudoku import vocab_labels
from hrm_studio.runstore.prediction_record import Predictions
from hrm_studio.runstore.prediction_set import PredictionSet, build_prediction_set

SOLVED_4X4 = np.array([[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]])


def sudoku_task(side: int) -> dict[str, Any]:
    return {"task": f"sudoku-{side}x{side}", "vocab_size": side + 2, "vocab_labels": list(vocab_labels(side)),
            "grid_shape": [side, side], "display": "sudoku", "pattern_names": ["sudoku"], "seq_len": side * side}


def prediction_set(task: dict[str, Any], inputs: np.ndarray, labels: np.ndarray, preds: np.ndarray,
                   split: str = "test") -> PredictionSet:
    """A set whose model predicted `preds` (int [N, steps, S]); every label cell scored."""
    inputs, labels, preds = np.asarray(inputs, np.int32), np.asarray(labels, np.int32), np.asarray(preds, np.int16)
    n, steps, seq = preds.shape
    correct = (preds == labels[:, None, :]).sum(-1).astype(np.int32)
    pred = Predictions(
        predictions=preds, confidence=np.full((n, steps, seq), 0.9, np.float16), token_correct=correct,
        token_count=np.full(n, seq, np.int32), exact=correct == seq, q_halt=np.zeros((n, steps), np.float32),
        q_continue=np.zeros((n, steps), np.float32), halt_step=np.full(n, steps, np.int16),
        lm_loss=np.zeros(n, np.float32), q_halt_loss=np.zeros(n, np.float32), loss=np.zeros(n, np.float32))
    pattern = task["pattern_names"][0]
    puzzles = PuzzleSet(inputs=inputs, labels=labels, puzzle_identifiers=np.zeros(n, np.int32),
                        patterns=np.array([pattern] * n))
    return build_prediction_set(split, 1, np.arange(n), puzzles, pred, task, complete=True)


def sudoku_4x4_set() -> PredictionSet:
    """Four 4×4 puzzles with 12, 10, 10 and 8 givens; two segments. After the last segment puzzle 0 is
    right, puzzle 1 is the solution with digits 1 and 2 swapped (wrong, no rule broken), puzzle 2 writes a 1
    over the 2 at row 0 column 1 (row 0, column 1 and box 0 repeat a 1: cells 0, 1 and 9), puzzle 3 leaves
    cell 0 blank (not a digit, no repeat)."""
    solution = SOLVED_4X4.reshape(-1) + 1
    labels = np.tile(solution, (4, 1))
    inputs = labels.copy()
    for k, blanks in enumerate((4, 6, 6, 8)):
        inputs[k, :blanks] = 1
    last = labels.copy()
    last[1] = np.array([0, 1, 3, 2, 4, 5])[last[1]]   # tokens 2 and 3 (digits 1 and 2) swapped
    last[2, 1] = 2                       # digit 1: row 0 has two, column 1 has two (row 2), box 0 has two
    last[3, 0] = 1                       # the blank token: not a digit
    return prediction_set(sudoku_task(4), inputs, labels, np.stack([inputs, last], axis=1))
