"""Optimisers and the learning-rate schedule.

The schedule is a pure function of training progress measured in epochs (fractional
within an epoch), so it needs no state of its own: a resumed run recomputes it exactly.
"""

from __future__ import annotations

import math

import torch

from hrm_studio.config import TrainConfig


def build_optimizer(model: torch.nn.Module, train: TrainConfig) -> torch.optim.Optimizer:
    """Adam(W) over the trainable weights; the puzzle embedding has its own sign-SGD."""
    params = [p for p in model.parameters() if p.requires_grad]
    kwargs = dict(lr=train.lr, betas=(train.beta1, train.beta2), weight_decay=train.weight_decay)
    if train.optimizer == "adam":
        return torch.optim.Adam(params, **kwargs)
    return torch.optim.AdamW(params, **kwargs)


def lr_factor(progress_epochs: float, train: TrainConfig) -> float:
    """Multiplier on the peak rate: linear warm-up, then constant or cosine to lr_min_ratio."""
    warm = train.lr_warmup_epochs
    if warm > 0 and progress_epochs < warm:
        return progress_epochs / warm
    if train.lr_schedule == "constant":
        return 1.0
    span = max(train.epochs - warm, 1e-9)
    done = min(max((progress_epochs - warm) / span, 0.0), 1.0)
    return train.lr_min_ratio + (1.0 - train.lr_min_ratio) * 0.5 * (1.0 + math.cos(math.pi * done))
