"""The critical-step view over a split: exact match and token accuracy after every high-level update.

Scored the way evaluation scores a segment (only labelled cells count; every puzzle counts at
every step), so the last step of the last segment is evaluation's exact match for the split.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from hrm_studio.analysis.recording import act_model, make_batch, run_segments, steps_per_segment
from hrm_studio.analysis.trace import StepCurve
from hrm_studio.data import PuzzleSet
from hrm_studio.data.grid import IGNORE
from hrm_studio.errors import UserError
from hrm_studio.model.act import ACTModel

__all__ = ["StepScorer", "step_curve"]


class StepScorer:
    """A segment recorder that scores each high-level update's answer at once and keeps only sums,
    so a whole split costs no more memory than one batch."""

    def __init__(self, model: ACTModel, labels: torch.Tensor) -> None:
        self._inner = model.inner
        self._labels = labels
        self._mask = labels != IGNORE
        self._count = self._mask.sum(-1)
        self.exact: list[int] = []
        self.token_accuracy: list[float] = []

    def low(self, z_L: torch.Tensor) -> None:
        """Low-level states are not scored."""

    def high(self, z_H: torch.Tensor) -> None:
        pred = self._inner.lm_head(z_H)[:, self._inner.puzzle_emb_len:].argmax(-1)
        token_correct = ((pred == self._labels) & self._mask).sum(-1)
        exact = (token_correct == self._count) & (self._count > 0)
        self.exact.append(int(exact.sum()))
        self.token_accuracy.append(float((token_correct / self._count.clamp_min(1)).double().sum()))


def step_curve(model: Any, puzzles: PuzzleSet, *, segments: int, batch_size: int = 64,
               should_stop: Callable[[], bool] | None = None) -> StepCurve:
    """Exact match and token accuracy after each of the `segments` × steps-per-segment updates
    (`should_stop` polled between segments: AnalysisCancelled once it is true)."""
    act = act_model(model)
    n = len(puzzles)
    if n == 0:
        raise UserError("The split has no puzzles, so there is no per-step curve to draw.")
    if batch_size < 1:
        raise UserError("The batch size must be at least 1.")
    steps = segments * steps_per_segment(act)
    exact = np.zeros(steps)
    token = np.zeros(steps)
    for start in range(0, n, batch_size):
        index = np.arange(start, min(start + batch_size, n))
        batch = make_batch(act, puzzles.inputs[index], puzzles.puzzle_identifiers[index])
        labels = torch.from_numpy(np.ascontiguousarray(puzzles.labels[index], dtype=np.int64))
        scorer = StepScorer(act, labels.to(batch["inputs"].device))
        run_segments(act, batch, segments, scorer, should_stop)
        exact += np.asarray(scorer.exact, dtype=np.float64)
        token += np.asarray(scorer.token_accuracy, dtype=np.float64)
    return StepCurve(steps_per_segment=steps_per_segment(act), exact=exact / n, token_accuracy=token / n, count=n)
