"""Turning per-row results into the numbers a person reads.

Only real puzzles count: a row that holds no puzzle (batch padding) never enters a
metric. Official HRM metric names ("accuracy", "exact_accuracy", …) are reported
divided by their count, under an "official" prefix, beside the friendlier names.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from hrm_studio.runstore.keys import HistoryKey, pattern_key

OFFICIAL_KEYS = ("accuracy", "exact_accuracy", "q_halt_accuracy", "steps", "lm_loss", "q_halt_loss",
                 "q_continue_loss")


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


class EpochAccumulator:
    """Sums one training epoch, ACT segment by ACT segment, as rows halt."""

    def __init__(self, patterns: np.ndarray) -> None:
        self._patterns = patterns
        self.official: dict[str, float] = defaultdict(float)
        self.loss_sum = 0.0
        self.labelled_segments = 0
        self.segments = 0
        self.steps = 0
        self.count = 0
        self.token_acc_sum = 0.0
        self.exact_sum = 0
        self.q_halt_correct = 0
        self.act_steps_sum = 0
        self.per_pattern: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0])  # count, tok, exact

    def add(self, loss: float, metrics: dict[str, float], rows: dict[str, np.ndarray],
            row_puzzle: np.ndarray) -> None:
        """Fold in one segment. `row_puzzle[i]` is the puzzle index in row i, or -1 for padding."""
        self.steps += 1
        self.segments += len(row_puzzle)
        for key, value in metrics.items():
            self.official[key] += float(value)
        self.loss_sum += loss
        self.labelled_segments += int(rows["has_labels"].sum())
        valid = rows["valid"] & (row_puzzle >= 0)
        if not valid.any():
            return
        tok = rows["token_correct"][valid] / np.maximum(rows["token_count"][valid], 1)
        exact = rows["exact"][valid]
        self.count += int(valid.sum())
        self.token_acc_sum += float(tok.sum())
        self.exact_sum += int(exact.sum())
        self.q_halt_correct += int(((rows["q_halt_logits"][valid] >= 0) == exact).sum())
        self.act_steps_sum += int(rows["steps"][valid].sum())
        for pattern, t, e in zip(self._patterns[row_puzzle[valid]], tok, exact):
            slot = self.per_pattern[str(pattern)]
            slot[0] += 1
            slot[1] += float(t)
            slot[2] += int(e)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            HistoryKey.LOSS: _ratio(self.loss_sum, self.labelled_segments),
            HistoryKey.TOKEN_ACCURACY: _ratio(self.token_acc_sum, self.count),
            HistoryKey.EXACT: _ratio(self.exact_sum, self.count),
            HistoryKey.Q_HALT_ACCURACY: _ratio(self.q_halt_correct, self.count),
            HistoryKey.MEAN_ACT_STEPS: _ratio(self.act_steps_sum, self.count),
            HistoryKey.PUZZLES: self.count,
            HistoryKey.OPTIMIZER_STEPS: self.steps,
            HistoryKey.SEGMENTS: self.segments,
        }
        for pattern, (n, tok, exact) in sorted(self.per_pattern.items()):
            out[pattern_key(pattern, "accuracy")] = _ratio(exact, n)
            out[pattern_key(pattern, "token_accuracy")] = _ratio(tok, n)
        count = self.official.get("count", 0.0)
        for key in OFFICIAL_KEYS:
            if key in self.official:
                out[f"train/{key}"] = _ratio(self.official[key], count)
        return out


def summarise_predictions(pred: Any, patterns: np.ndarray, prefix: str = "val_") -> dict[str, Any]:
    """Held-out metrics from a Predictions record (see predict.py).

    Exact match is read twice: after all halt_max_steps segments (the official reading,
    the headline) and at the segment where the model's Q-head says it would halt.
    """
    n = len(pred.token_count)
    if n == 0:
        return {}
    last = pred.exact.shape[1] - 1
    rows = np.arange(n)
    halt_idx = pred.halt_step - 1
    tok_all = pred.token_correct / np.maximum(pred.token_count, 1)[:, None]
    exact_last = pred.exact[:, last]
    exact_halt = pred.exact[rows, halt_idx]
    q_ok = (pred.q_halt[:, last] >= 0) == exact_last
    p = prefix
    out: dict[str, Any] = {
        f"{p}loss": float(np.mean(pred.loss)),
        f"{p}token_accuracy": float(tok_all[:, last].mean()),
        f"{p}exact_match_accuracy": float(exact_last.mean()),
        f"{p}exact_match_at_halt": float(exact_halt.mean()),
        f"{p}token_accuracy_at_halt": float(tok_all[rows, halt_idx].mean()),
        f"{p}q_halt_accuracy": float(q_ok.mean()),
        f"{p}mean_act_steps": float(pred.halt_step.mean()),
        f"{p}exact_by_segment": [float(v) for v in pred.exact.mean(axis=0)],
        f"{p}puzzles": n,
    }
    for pattern in dict.fromkeys(str(x) for x in patterns):
        mask = patterns == pattern
        out[f"{p}{pattern}_accuracy"] = float(exact_last[mask].mean())
        out[f"{p}{pattern}_token_accuracy"] = float(tok_all[mask, last].mean())
        out[f"{p}{pattern}_exact_at_halt"] = float(exact_halt[mask].mean())
    official = "val/" if prefix == "val_" else f"{prefix}official/"
    out[f"{official}accuracy"] = float(tok_all[:, last].mean())
    out[f"{official}exact_accuracy"] = float(exact_last.mean())
    out[f"{official}q_halt_accuracy"] = float(q_ok.mean())
    out[f"{official}steps"] = float(pred.exact.shape[1])
    out[f"{official}lm_loss"] = float(np.mean(pred.lm_loss))
    out[f"{official}q_halt_loss"] = float(np.mean(pred.q_halt_loss))
    return out


def accuracy_by_segment(pred: Any) -> list[dict[str, Any]]:
    """Token and exact-match accuracy after each ACT segment (1-based), every puzzle counted at
    every segment: what more (or fewer) segments of thinking buy, e.g. beyond the trained limit."""
    if len(pred.token_count) == 0:
        return []
    tok = pred.token_correct / np.maximum(pred.token_count, 1)[:, None]
    return [{"segment": t + 1, "token_accuracy": float(tok[:, t].mean()),
             "exact_match_accuracy": float(pred.exact[:, t].mean())} for t in range(pred.exact.shape[1])]
