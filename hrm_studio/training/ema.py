"""An exponential moving average (EMA) of the weights: the copy a run evaluates, keeps and exports.

Why: the last weights of a run jitter with its last updates; an average over the last
~1 / (1 − decay) steps usually scores higher and steadier (TRM's published results use 0.999).
As upstream (TinyRecursiveModels `models/ema.py`), the shadow covers every trainable parameter,
starts as a copy of them and moves `shadow ← decay · shadow + (1 − decay) · weight` after every
optimiser step, with no bias correction; buffers (the puzzle embedding table, H_init / L_init)
are not averaged: the evaluated model uses the live ones.

Training always goes on with the raw weights. Evaluation swaps the shadow in for its duration
(`WeightEMA.applied`), checkpoints store the shadowed state dict as the model and the raw one
beside it, so a resumed run continues both exactly.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch


class WeightEMA:
    """The shadow of `model`'s trainable parameters, by parameter name."""

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"An EMA decay must lie between 0 and 1, not {decay}.")
        self.decay = decay
        self.shadow: dict[str, torch.Tensor] = {
            name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}

    @classmethod
    def for_run(cls, model: torch.nn.Module, decay: float) -> "WeightEMA | None":
        """The run's EMA, or None when `ema_decay` is 0 (off)."""
        return cls(model, decay) if decay > 0 else None

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        """One step of the average, after an optimiser step."""
        for name, p in model.named_parameters():
            shadow = self.shadow.get(name)
            if shadow is not None:
                shadow.lerp_(p.detach(), 1.0 - self.decay)

    def state_dict_of(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        """`model.state_dict()` with the shadow in place of the averaged parameters (copies)."""
        return {k: (self.shadow[k] if k in self.shadow else v).detach().clone()
                for k, v in model.state_dict().items()}

    def load_shadow(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Take the shadow from a state dict written by `state_dict_of` (names and shapes checked by the caller)."""
        for name, shadow in self.shadow.items():
            shadow.copy_(state_dict[name])

    @contextlib.contextmanager
    def applied(self, model: torch.nn.Module) -> Iterator[None]:
        """Inside, `model` holds the shadow; afterwards its raw weights again, exactly."""
        params = dict(model.named_parameters())
        raw = {name: params[name].detach().clone() for name in self.shadow}
        try:
            with torch.no_grad():
                for name, shadow in self.shadow.items():
                    params[name].copy_(shadow)
            yield
        finally:
            with torch.no_grad():
                for name, value in raw.items():
                    params[name].copy_(value)


def evaluating(ema: WeightEMA | None, model: torch.nn.Module) -> Any:
    """A context in which `model` holds the weights a run evaluates: the shadow when EMA is on."""
    return ema.applied(model) if ema is not None else contextlib.nullcontext()
