"""Losses and per-step metrics for training HRM or TRM with ACT.

The loss head wraps an ACT model (:class:`~hrm_studio.model.hrm.HRM`,
:class:`~hrm_studio.model.trm.TRM`; attribute ``model``, so checkpoint keys
read ``model.inner.*`` as in the official code) and turns one ACT segment into a scalar loss,
the official summed metrics, and per-row tensors the trainer aggregates by pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .act import ACTCarry, ACTModel, Batch

__all__ = [
    "IGNORE_LABEL_ID",
    "stablemax_cross_entropy",
    "softmax_cross_entropy",
    "LOSS_FUNCTIONS",
    "ACTStepResult",
    "ACTLossHead",
]

IGNORE_LABEL_ID = -100

LossFn = Callable[..., torch.Tensor]


def _stablemax_s(x: torch.Tensor, eps: float = 1e-30) -> torch.Tensor:
    """``1/(1-x)`` below zero, ``x+1`` above: positive like ``exp`` but only linear growth."""
    return torch.where(x < 0, 1.0 / (1.0 - x + eps), x + 1.0)


def stablemax_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = IGNORE_LABEL_ID
) -> torch.Tensor:
    """Per-token cross-entropy under stablemax (Prieto et al. 2025), 0 where ignored.

    Stablemax avoids the softmax collapse that stalls grokking-style training on small
    puzzle sets. Computed in float64 because ``1/(1-x)`` tails are tiny and their ratios
    lose precision in float32 (float32 only on MPS, which has no float64).
    """
    dtype = torch.float32 if logits.device.type == "mps" else torch.float64
    s = _stablemax_s(logits.to(dtype))
    logprobs = torch.log(s / s.sum(dim=-1, keepdim=True))
    valid = labels != ignore_index
    safe_labels = torch.where(valid, labels, 0).to(torch.long)
    picked = torch.gather(logprobs, -1, safe_labels.unsqueeze(-1)).squeeze(-1)
    return -torch.where(valid, picked, 0)


def softmax_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = IGNORE_LABEL_ID
) -> torch.Tensor:
    """Per-token softmax cross-entropy in float32, 0 where ignored."""
    flat = logits.to(torch.float32).reshape(-1, logits.shape[-1])
    loss = F.cross_entropy(flat, labels.to(torch.long).reshape(-1), ignore_index=ignore_index, reduction="none")
    return loss.view(labels.shape)


LOSS_FUNCTIONS: Dict[str, LossFn] = {
    "stablemax_cross_entropy": stablemax_cross_entropy,
    "softmax_cross_entropy": softmax_cross_entropy,
}


@dataclass
class ACTStepResult:
    """What one ACT segment produced.

    ``loss``: scalar to backpropagate. ``metrics``: detached scalars under the official names,
    *summed* over the batch (divide by ``metrics["count"]`` to report). ``outputs``: detached
    model outputs. ``rows``: detached per-row tensors (see :meth:`ACTLossHead.forward`).
    """

    carry: ACTCarry
    loss: torch.Tensor
    metrics: Dict[str, torch.Tensor]
    outputs: Dict[str, torch.Tensor]
    rows: Dict[str, torch.Tensor]

    @property
    def all_halted(self) -> bool:
        """True once every row has halted (in eval: after ``halt_max_steps`` segments)."""
        return bool(self.carry.halted.all())


class ACTLossHead(nn.Module):
    """ACT model + loss: ``lm_loss + 0.5 * (q_halt_loss + q_continue_loss)``.

    - ``lm_loss``: per-token loss averaged over each row's labelled tokens, summed over rows.
    - ``q_halt_loss``: BCE-with-logits of ``q_halt`` against "the row is exactly right", summed.
    - ``q_continue_loss``: BCE of ``q_continue`` against the wrapper's bootstrapped target, when it
      has one (TRM with ``no_ACT_continue`` has none: its loss is lm_loss + 0.5 * q_halt_loss).

    One deliberate difference from the official head: rows with no labelled token at all
    (empty padding rows that fill a short batch) contribute nothing to ``q_halt_loss`` or
    ``q_continue_loss``. The official code scored them as "exactly right" (0 of 0 tokens
    wrong), teaching the Q-head to halt on nothing — the same artefact that pinned the seed's
    exact-match metric at 50 %. On batches without such rows the numbers are identical to
    the official head's.
    """

    def __init__(self, model: ACTModel, loss_type: str) -> None:
        super().__init__()
        if loss_type not in LOSS_FUNCTIONS:
            raise ConfigError(f"Unknown loss type {loss_type!r}; choose one of {sorted(LOSS_FUNCTIONS)}.")
        self.model = model
        self.loss_type = loss_type
        self.loss_fn = LOSS_FUNCTIONS[loss_type]

    def initial_carry(self, batch: Batch) -> ACTCarry:
        return self.model.initial_carry(batch)

    def forward(self, carry: ACTCarry, batch: Batch) -> ACTStepResult:
        """Run one segment and score it.

        ``rows`` holds, per batch row: ``valid`` (halted and has labels — the rows the official
        metrics count), ``has_labels``, ``token_correct`` / ``token_count`` (labelled tokens
        right / total), ``exact`` (has labels and all of them right), ``steps``,
        ``q_halt_logits``, ``q_continue_logits`` and ``predictions`` (argmax, ``[B, seq_len]``).
        """
        new_carry, outputs = self.model(carry, batch)
        labels = new_carry.current_data["labels"]
        logits = outputs["logits"]
        metrics, rows = _score(new_carry, outputs, labels)
        divisor = rows["token_count"].clamp_min(1).unsqueeze(-1)
        lm_loss = (self.loss_fn(logits, labels, ignore_index=IGNORE_LABEL_ID) / divisor).sum()
        metrics["lm_loss"] = lm_loss.detach()
        q_loss = _q_losses(outputs, rows["has_labels"], rows["exact"] | ~rows["has_labels"], metrics)
        loss = lm_loss + 0.5 * q_loss
        detached = {k: v.detach() for k, v in outputs.items()}
        return ACTStepResult(carry=new_carry, loss=loss, metrics=metrics, outputs=detached, rows=rows)


def _score(carry: ACTCarry, outputs: Dict[str, torch.Tensor],
           labels: torch.Tensor) -> tuple[Dict[str, torch.Tensor], Dict[str, torch.Tensor]]:
    """The official metric sums over halted, labelled rows, and the per-row facts the Studio keeps."""
    q_halt = outputs["q_halt_logits"]
    with torch.no_grad():
        mask = labels != IGNORE_LABEL_ID
        token_count = mask.sum(-1)
        has_labels = token_count > 0
        divisor = token_count.clamp_min(1).unsqueeze(-1)
        predictions = outputs["logits"].argmax(-1)
        correct = mask & (predictions == labels)
        token_correct = correct.sum(-1)
        seq_correct = token_correct == token_count  # also True for rows without labels (official)
        valid = carry.halted & has_labels
        metrics: Dict[str, torch.Tensor] = {
            "count": valid.sum(),
            "accuracy": torch.where(valid, (correct.to(torch.float32) / divisor).sum(-1), 0).sum(),
            "exact_accuracy": (valid & seq_correct).sum(),
            "q_halt_accuracy": (valid & ((q_halt >= 0) == seq_correct)).sum(),
            "steps": torch.where(valid, carry.steps, 0).sum(),
        }
    rows = {
        "valid": valid,
        "has_labels": has_labels,
        "token_correct": token_correct,
        "token_count": token_count,
        "exact": seq_correct & has_labels,
        "steps": carry.steps,
        "q_halt_logits": q_halt.detach(),
        "q_continue_logits": outputs["q_continue_logits"].detach(),
        "predictions": predictions,
    }
    return metrics, rows


def _q_losses(outputs: Dict[str, torch.Tensor], has_labels: torch.Tensor, seq_correct: torch.Tensor,
              metrics: Dict[str, torch.Tensor]) -> torch.Tensor:
    """q_halt + q_continue loss (the latter only when the model bootstrapped a target), as the
    official head sums them; each is also recorded, detached, in `metrics`."""
    q_halt = outputs["q_halt_logits"]
    q_halt_loss = torch.where(
        has_labels,
        F.binary_cross_entropy_with_logits(q_halt, seq_correct.to(q_halt.dtype), reduction="none"),
        0,
    ).sum()
    metrics["q_halt_loss"] = q_halt_loss.detach()
    if "target_q_continue" not in outputs:
        return q_halt_loss
    q_continue_loss = torch.where(
        has_labels,
        F.binary_cross_entropy_with_logits(outputs["q_continue_logits"], outputs["target_q_continue"],
                                           reduction="none"),
        0,
    ).sum()
    metrics["q_continue_loss"] = q_continue_loss.detach()
    return q_halt_loss + q_continue_loss
