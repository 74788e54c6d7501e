"""Run a trained model over a PuzzleSet and keep what it predicted after every ACT segment.

Evaluation always runs all halt_max_steps segments (as the official code does), and
records where the Q-head *would* have halted, so both readings of exact match — and the
drift between segments — can be shown.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from hrm_studio.data import PuzzleSet
from hrm_studio.runstore.prediction_record import Predictions

__all__ = ["Predictions", "evaluate", "to_batch"]


def to_batch(puzzles: PuzzleSet, index: np.ndarray) -> dict[str, torch.Tensor]:
    return {
        "inputs": torch.from_numpy(np.ascontiguousarray(puzzles.inputs[index], dtype=np.int32)),
        "labels": torch.from_numpy(np.ascontiguousarray(puzzles.labels[index], dtype=np.int64)),
        "puzzle_identifiers": torch.from_numpy(
            np.ascontiguousarray(puzzles.puzzle_identifiers[index], dtype=np.int32)),
    }


@torch.inference_mode()
def evaluate(head: torch.nn.Module, puzzles: PuzzleSet, batch_size: int = 128, *,
             keep_logits: bool = False, should_stop: Callable[[], bool] | None = None,
             on_progress: Callable[[int, int], None] | None = None) -> Predictions | None:
    """All segments for every puzzle; returns None if `should_stop()` turned true midway."""
    model = head.model
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    n = puzzles.inputs.shape[0]
    out = _empty_predictions(n, puzzles.inputs.shape[1], int(model.config.halt_max_steps),
                             int(model.config.vocab_size), keep_logits)
    try:
        for start in range(0, n, batch_size):
            if should_stop is not None and should_stop():
                return None
            index = np.arange(start, min(start + batch_size, n))
            batch = to_batch(puzzles, index)
            if device.type != "cpu":  # the model's device (a run's `device` setting); results come back to the CPU
                batch = {k: v.to(device) for k, v in batch.items()}
            _evaluate_batch(head, batch, index, out)
            if on_progress is not None:
                on_progress(int(index[-1]) + 1, n)
    finally:
        model.train(was_training)
    return out


def _empty_predictions(n: int, seq: int, steps: int, vocab: int, keep_logits: bool) -> Predictions:
    return Predictions(
        predictions=np.zeros((n, steps, seq), np.int16),
        confidence=np.zeros((n, steps, seq), np.float16),
        token_correct=np.zeros((n, steps), np.int32),
        token_count=np.zeros(n, np.int32),
        exact=np.zeros((n, steps), bool),
        q_halt=np.zeros((n, steps), np.float32),
        q_continue=np.zeros((n, steps), np.float32),
        halt_step=np.full(n, steps, np.int16),
        lm_loss=np.zeros(n, np.float32),
        q_halt_loss=np.zeros(n, np.float32),
        loss=np.zeros(n, np.float32),
        logits=np.zeros((n, seq, vocab), np.float32) if keep_logits else None,
    )


def _evaluate_batch(head: torch.nn.Module, batch: dict[str, torch.Tensor], index: np.ndarray,
                    out: Predictions) -> None:
    """Every segment of one batch of puzzles into rows `index` of `out`."""
    steps = out.exact.shape[1]
    labels = batch["labels"]
    counts = (labels != -100).sum(-1)
    carry = head.initial_carry(batch)
    halted_yet = torch.zeros(len(index), dtype=torch.bool)
    for t in range(steps):
        result = head(carry, batch)
        carry = result.carry
        logits = result.outputs["logits"].float()
        conf, pred = F.softmax(logits, dim=-1).max(dim=-1)
        conf, pred, logits = conf.cpu(), pred.cpu(), logits.cpu()
        rows = {k: v.cpu() for k, v in result.rows.items()}
        out.predictions[index, t] = pred.numpy().astype(np.int16)
        out.confidence[index, t] = conf.numpy().astype(np.float16)
        out.token_correct[index, t] = rows["token_correct"].numpy()
        out.exact[index, t] = rows["exact"].numpy()
        q_halt = rows["q_halt_logits"].float()
        q_cont = rows["q_continue_logits"].float()
        out.q_halt[index, t] = q_halt.numpy()
        out.q_continue[index, t] = q_cont.numpy()
        if steps > 1:
            newly = head.model.halts(q_halt, q_cont) & ~halted_yet   # each architecture's own rule
            out.halt_step[index[newly.numpy()]] = t + 1
            halted_yet |= newly
        if t == steps - 1:
            _last_segment_losses(head, result, labels, counts, q_halt.to(labels.device), index, out)
            if out.logits is not None:
                out.logits[index] = logits.numpy()
    out.token_count[index] = counts.cpu().numpy().astype(np.int32)


def _last_segment_losses(head: torch.nn.Module, result: Any, labels: torch.Tensor, counts: torch.Tensor,
                         q_halt: torch.Tensor, index: np.ndarray, out: Predictions) -> None:
    """Per-puzzle losses after the last segment, as the training loss would weigh them."""
    token_loss = head.loss_fn(result.outputs["logits"], labels).float()
    lm = token_loss.sum(-1) / counts.clamp_min(1)
    qh = F.binary_cross_entropy_with_logits(q_halt, result.rows["exact"].float(), reduction="none")
    out.lm_loss[index] = lm.cpu().numpy()
    out.q_halt_loss[index] = qh.cpu().numpy()
    out.loss[index] = (lm + 0.5 * qh).cpu().numpy()
