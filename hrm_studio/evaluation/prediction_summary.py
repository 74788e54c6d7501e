"""Aggregate views of a PredictionSet: the per-pattern table, token histograms, confusion.

Why a module of its own: the prediction viewer, the report and the tests all need the same
numbers, and those numbers must agree with the run's history (metrics.summarise_predictions),
or a person comparing the plots with the viewer would see two different accuracies. So the
table is computed the same way — after the last ACT segment, per-puzzle token accuracy
averaged over puzzles — only restricted to one pattern at a time.

Every function takes an optional `mask` (bool [N]) to restrict it to some puzzles (e.g. the
puzzles a filter in the viewer keeps). Numpy only: no torch (not even at import), no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from hrm_studio.data.grid import IGNORE

if TYPE_CHECKING:  # only read, never built here: importing it would pull torch into the window's start
    from hrm_studio.runstore.prediction_set import PredictionSet

ALL = "all"


@dataclass(frozen=True)
class PatternRow:
    """One line of the per-pattern table; rates are fractions in [0, 1]."""

    pattern: str
    puzzles: int
    token_accuracy: float
    exact: float
    mean_steps: float
    q_halt_accuracy: float


def _selection(ps: PredictionSet, mask: np.ndarray | None) -> np.ndarray:
    """bool [N] of the puzzles to count (all of them without a mask)."""
    n = len(ps)
    if mask is None:
        return np.ones(n, bool)
    mask = np.asarray(mask, bool)
    if mask.shape != (n,):
        raise ValueError(f"mask must be a bool array of shape ({n},), not {mask.shape}")
    return mask


def _segment(ps: PredictionSet, segment: int | None) -> int:
    last = ps.steps - 1
    if segment is None:
        return last
    if not -ps.steps <= segment <= last:
        raise ValueError(f"segment {segment} is out of range: the predictions have {ps.steps} segments")
    return segment % ps.steps


def _row(name: str, rows: np.ndarray, tok: np.ndarray, exact: np.ndarray, steps: np.ndarray,
         q_ok: np.ndarray) -> PatternRow:
    return PatternRow(pattern=name, puzzles=int(rows.sum()), token_accuracy=float(tok[rows].mean()),
                      exact=float(exact[rows].mean()), mean_steps=float(steps[rows].mean()),
                      q_halt_accuracy=float(q_ok[rows].mean()))


def pattern_table(ps: PredictionSet, *, mask: np.ndarray | None = None,
                  segment: int | None = None) -> list[PatternRow]:
    """One row per pattern (first-appearance order), then pattern="all" for every counted puzzle.

    Read after `segment` (0-based; default the last, as the history is): token accuracy is the mean of each
    puzzle's share of right cells, exact the share of puzzles with every cell right, mean
    steps the mean segment where the Q-head halts, and Q-halt accuracy the share of puzzles
    whose halt logit (>= 0) agrees with being exactly right. Patterns with no counted
    puzzle get no row; with nothing counted at all the table is empty.
    """
    keep = _selection(ps, mask)
    if not keep.any():
        return []
    pred = ps.predictions
    t = _segment(ps, segment)
    tok = ps.token_accuracy(t)
    exact = pred.exact[:, t]
    steps = pred.halt_step.astype(np.float64)
    q_ok = (pred.q_halt[:, t] >= 0) == exact
    patterns = np.asarray(ps.puzzles.patterns).astype(str)
    table = []
    for name in dict.fromkeys(patterns[keep].tolist()):
        table.append(_row(name, keep & (patterns == name), tok, exact, steps, q_ok))
    table.append(_row(ALL, keep, tok, exact, steps, q_ok))
    return table


def _labelled_tokens(ps: PredictionSet, segment: int | None,
                     mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, int]:
    """(predicted, true) token ids of the counted puzzles' labelled cells, and the vocabulary size."""
    keep = _selection(ps, mask)
    t = _segment(ps, segment)
    labels = ps.puzzles.labels[keep]
    cells = labels != IGNORE
    guess = ps.predictions.predictions[keep, t].astype(np.int64)[cells]
    return guess, labels[cells].astype(np.int64), int(ps.task["vocab_size"])


def _known(ids: np.ndarray, vocab: int) -> np.ndarray:
    """A predicted id outside the task's vocabulary (weights trained on a larger one) has no
    label to show; counting it under another token would misreport that token, so it is left out."""
    return (ids >= 0) & (ids < vocab)


def token_histograms(ps: PredictionSet, segment: int | None = None, *,
                     mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(predicted counts, ground-truth counts): int64 [vocab_size] each, over labelled cells
    after `segment` (0-based; default the last). Shows which tokens the model over- or
    under-produces."""
    guess, true, vocab = _labelled_tokens(ps, segment, mask)
    return (np.bincount(guess[_known(guess, vocab)], minlength=vocab).astype(np.int64),
            np.bincount(true[_known(true, vocab)], minlength=vocab).astype(np.int64))


def confusion_matrix(ps: PredictionSet, segment: int | None = None, *,
                     mask: np.ndarray | None = None) -> np.ndarray:
    """int64 [V, V]: row = true token, column = predicted token, over labelled cells after `segment`."""
    guess, true, vocab = _labelled_tokens(ps, segment, mask)
    known = _known(guess, vocab) & _known(true, vocab)
    counts = np.bincount(true[known] * vocab + guess[known], minlength=vocab * vocab)
    return counts.astype(np.int64).reshape(vocab, vocab)
