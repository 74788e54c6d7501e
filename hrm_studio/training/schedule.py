"""Optimisers and the learning-rate schedule.

The schedule is a pure function of training progress — epochs (fractional within an epoch)
and, for the official warm-up in steps, the optimiser step — so it needs no state of its own:
a resumed run recomputes it exactly.
"""

from __future__ import annotations

import math

import torch

from hrm_studio.config import TrainConfig
from hrm_studio.training.adam_atan2 import AdamAtan2


def build_optimizer(model: torch.nn.Module, train: TrainConfig) -> torch.optim.Optimizer:
    """Adam(W) or Adam-atan2 over the trainable weights; the puzzle embedding has its own sign-SGD."""
    params = [p for p in model.parameters() if p.requires_grad]
    kwargs = dict(lr=train.lr, betas=(train.beta1, train.beta2), weight_decay=train.weight_decay)
    if train.optimizer == "adam":
        return torch.optim.Adam(params, **kwargs)
    if train.optimizer == "adam_atan2":
        return AdamAtan2(params, **kwargs)
    return torch.optim.AdamW(params, **kwargs)


def lr_factor(progress_epochs: float, train: TrainConfig, step: int | None = None) -> float:
    """Multiplier on the peak rate: linear warm-up, then constant or cosine to lr_min_ratio.

    `step` is the optimiser step about to be taken, counted from 1 as the official code does
    (its first step already uses lr / lr_warmup_steps); None means past any warm-up in steps.
    A warm-up in steps multiplies the epoch shape, so with the constant schedule it is
    upstream's exactly and with cosine the decay runs over the whole run (upstream's starts
    after the warm-up: the same curve to within lr_warmup_steps / total steps).
    """
    warm = train.lr_warmup_epochs
    ramp = 1.0
    if train.lr_warmup_steps > 0 and step is not None and step < train.lr_warmup_steps:
        ramp = max(step, 0) / train.lr_warmup_steps
    if warm > 0 and progress_epochs < warm:
        return ramp * progress_epochs / warm
    if train.lr_schedule == "constant":
        return ramp
    span = max(train.epochs - warm, 1e-9)
    done = min(max((progress_epochs - warm) / span, 0.0), 1.0)
    return ramp * (train.lr_min_ratio + (1.0 - train.lr_min_ratio) * 0.5 * (1.0 + math.cos(math.pi * done)))
