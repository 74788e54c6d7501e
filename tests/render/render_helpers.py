"""Hand-built PredictionSets for the render tests: small numpy arrays, no model, no training."""

from __future__ import annotations

from typing import Any

import numpy as np

from hrm_studio.data import PuzzleSet
from hrm_studio.data.grid import COLOUR_VOCAB_LABELS, EOS, IGNORE, PAD
from hrm_studio.evaluation.predict import Predictions
from hrm_studio.runstore.prediction_set import PredictionSet

COLOUR_TASK: dict[str, Any] = {
    "task": "hand-colour", "vocab_size": 12, "seq_len": 64, "num_puzzle_identifiers": 2,
    "identifier_names": ["<blank>", "hand-colour"], "pattern_names": ["copy", "increment"],
    "grid_shape": [8, 8], "vocab_labels": list(COLOUR_VOCAB_LABELS), "display": "colour", "ceiling": 1.0,
}
MAZE_TASK: dict[str, Any] = {
    "task": "hand-maze", "vocab_size": 6, "seq_len": 25, "num_puzzle_identifiers": 2,
    "identifier_names": ["<blank>", "maze"], "pattern_names": ["maze"],
    "grid_shape": [5, 5], "vocab_labels": ["PAD", "#", " ", "S", "G", "o"], "display": "maze", "ceiling": 1.0,
}


def sudoku_task_and_puzzles(n: int = 4) -> tuple[dict[str, Any], PuzzleSet]:
    """The real 4×4 Sudoku task dict and `n` of its generated puzzles."""
    from hrm_studio.config import RunConfig
    from hrm_studio.training.data_source import load_data

    data = load_data(RunConfig.from_dict({"data": {"task": "sudoku-4x4", "train_size": max(n, 4), "test_size": 2}}))
    p = data.train
    puzzles = PuzzleSet(inputs=p.inputs[:n], labels=p.labels[:n], puzzle_identifiers=p.puzzle_identifiers[:n],
                        patterns=p.patterns[:n])
    return data.info.to_dict(), puzzles


def colour_puzzles(n: int = 3, seed: int = 0) -> PuzzleSet:
    """5×5 colour grids with their EOS row/column on an 8×8 canvas; PAD labelled IGNORE."""
    rng = np.random.default_rng(seed)
    inputs = np.full((n, 8, 8), PAD, np.int32)
    labels = np.full((n, 8, 8), IGNORE, np.int32)
    for k in range(n):
        grid = rng.integers(2, 12, size=(5, 5))
        inputs[k, :5, :5] = grid
        labels[k, :5, :5] = np.where(grid == 11, 2, grid + 1) if k % 2 else grid  # copy / increment
        inputs[k, 5, :6] = inputs[k, :6, 5] = EOS
        labels[k, 5, :6] = labels[k, :6, 5] = EOS
    patterns = np.array(["copy" if k % 2 == 0 else "increment" for k in range(n)])
    return PuzzleSet(inputs=inputs.reshape(n, -1), labels=labels.reshape(n, -1),
                     puzzle_identifiers=np.ones(n, np.int32), patterns=patterns)


def maze_puzzles(n: int = 2) -> PuzzleSet:
    """A 5×5 maze (walls round the edge); the label draws the path 'o' from S to G."""
    rows = ["#####", "#S  #", "# # #", "#  G#", "#####"]
    tokens = {"#": 1, " ": 2, "S": 3, "G": 4, "o": 5}
    inp = np.array([[tokens[ch] for ch in row] for row in rows], np.int32).reshape(-1)
    lab = inp.copy()
    lab[[7, 8, 13]] = 5  # the path
    return PuzzleSet(inputs=np.tile(inp, (n, 1)), labels=np.tile(lab, (n, 1)),
                     puzzle_identifiers=np.ones(n, np.int32), patterns=np.array(["maze"] * n))


def predictions_for(puzzles: PuzzleSet, steps: int = 4, vocab: int = 12, seed: int = 1,
                    stay_wrong: int | None = 1) -> Predictions:
    """Per-segment predictions that improve step by step.

    Segment t gets `steps - 1 - t` scored cells wrong (so the last is right), except puzzle
    `stay_wrong`, which keeps one wrong cell to the end. Figures agree with the arrays.
    """
    rng = np.random.default_rng(seed)
    n, seq = puzzles.inputs.shape
    truth = np.where(puzzles.labels == IGNORE, puzzles.inputs, puzzles.labels)
    pred = np.repeat(truth[:, None, :], steps, axis=1).astype(np.int16)
    for k in range(n):
        scored = np.flatnonzero(puzzles.labels[k] != IGNORE)
        for t in range(steps):
            n_wrong = steps - 1 - t + (1 if k == stay_wrong else 0)
            for pos in scored[:n_wrong]:
                pred[k, t, pos] = (truth[k, pos] + 1) % vocab or 2
    scored = puzzles.labels != IGNORE
    correct = ((pred == puzzles.labels[:, None, :]) & scored[:, None, :]).sum(axis=2).astype(np.int32)
    count = scored.sum(axis=1).astype(np.int32)
    q_halt = np.linspace(-3.0, 3.0, steps, dtype=np.float32)[None, :].repeat(n, 0)
    return Predictions(
        predictions=pred,
        confidence=rng.uniform(0.2, 1.0, size=pred.shape).astype(np.float16),
        token_correct=correct, token_count=count, exact=correct == count[:, None],
        q_halt=q_halt, q_continue=-q_halt, halt_step=np.full(n, max(1, steps - 1), np.int16),
        lm_loss=np.zeros(n, np.float32), q_halt_loss=np.zeros(n, np.float32), loss=np.zeros(n, np.float32),
    )


def prediction_set(display: str = "colour", n: int = 3, steps: int = 4) -> PredictionSet:
    """A small PredictionSet for one display kind ('colour', 'sudoku' or 'maze')."""
    if display == "colour":
        task, puzzles = COLOUR_TASK, colour_puzzles(n)
    elif display == "sudoku":
        task, puzzles = sudoku_task_and_puzzles(n)
    elif display == "maze":
        task, puzzles = MAZE_TASK, maze_puzzles(n)
    else:
        raise ValueError(display)
    predictions = predictions_for(puzzles, steps, vocab=int(task["vocab_size"]))
    return PredictionSet(split="test", epoch=3, indices=np.arange(n, dtype=np.int64) + 10, puzzles=puzzles,
                         predictions=predictions, task=dict(task), complete=False)
