"""Adam-atan2 (Everett et al. 2024, arXiv 2407.05872): the optimiser HRM's and TRM's results were trained with.

Why our own few lines: the official code uses the `adam-atan2` package, a CUDA-only kernel; this
is the same update in plain torch, so CPU runs train with what the published numbers used. Per
weight, at step t (as that kernel computes it, with its scale factors a = b = 1):

    p ← p · (1 − lr · weight_decay)                     (decoupled weight decay, first)
    m ← β1 · m + (1 − β1) · g,   v ← β2 · v + (1 − β2) · g²
    p ← p − lr · atan2(m / (1 − β1ᵗ), sqrt(v / (1 − β2ᵗ)))

Where Adam divides m̂ by sqrt(v̂) + ε, atan2 gives nearly the same ratio for small ones, is
bounded by π/2 for large ones and needs no ε (atan2(0, 0) = 0).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import torch


class AdamAtan2(torch.optim.Optimizer):
    """Adam with atan2 in place of the ε-guarded division; state like Adam's (step, exp_avg, exp_avg_sq)."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 weight_decay: float = 1e-2) -> None:
        if lr < 0 or weight_decay < 0 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"Invalid Adam-atan2 settings: lr={lr}, betas={betas}, weight_decay={weight_decay}.")
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2), decay = group["lr"], group["betas"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.zeros((), dtype=torch.float32)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                t = float(state["step"])
                m, v, g = state["exp_avg"], state["exp_avg_sq"], p.grad
                p.mul_(1.0 - lr * decay)
                m.lerp_(g, 1.0 - beta1)
                v.lerp_(g * g, 1.0 - beta2)
                m_hat = m / (1.0 - beta1 ** t)
                v_hat_sqrt = (v / (1.0 - beta2 ** t)).sqrt_()
                p.add_(torch.atan2(m_hat, v_hat_sqrt), alpha=-lr)
        return loss
