"""The upstream TRM ACT v1 training step in plain PyTorch, written from trm-spec.md: the yardstick HRM
Studio's TRM step is timed against (issue 18).

TRM's layers are HRM's with SDPA attention, and its ACT wrapper, loss head and optimiser step are
HRM's too, so this file adds only the inner model (``reference_hrm.py`` holds the rest): ONE network
``L_level`` for both updates; a segment runs ``H_cycles - 1`` full recursions without gradient
(``L_cycles`` times ``z_L ← net(z_L, z_H + x)``, then ``z_H ← net(z_H, z_L)``), then one with
gradient; ``puzzle_emb_len`` prefix positions hold the puzzle embedding. With ``no_ACT_continue``
(upstream's default) a row halts when ``q_halt > 0`` and there is no Q-target forward; without it,
HRM's rule and its whole second segment (the intended behaviour: upstream's own branch for it
unpacks five values from a call returning three).

The ``mlp_t`` variant is not here: the benchmark times the attention model, upstream's default.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

import torch

from benchmarks.reference_hrm import ACT, InnerIO, Level, LossHead

Tensor = torch.Tensor


def prefix_len(cfg: Any) -> int:
    """Prefix positions: ``puzzle_emb_len`` (0: as many as the embedding needs); none without an embedding."""
    if cfg.puzzle_emb_ndim <= 0:
        return 0
    return cfg.puzzle_emb_len or -(-cfg.puzzle_emb_ndim // cfg.hidden_size)


class TRMInner(InnerIO):
    def __init__(self, cfg: Any) -> None:
        super().__init__()
        if cfg.mlp_t:
            raise ValueError("The reference TRM step covers the attention variant only (mlp_t = false).")
        self._build_io(cfg, prefix_len(cfg))
        self.L_level = Level(cfg, cfg.L_layers)
        self._build_states()

    def _recursion(self, z_H: Tensor, z_L: Tensor, x: Tensor, cos_sin: Any) -> Tuple[Tensor, Tensor]:
        for _ in range(self.cfg.L_cycles):
            z_L = self.L_level(z_L, z_H + x, cos_sin)
        return self.L_level(z_H, z_L, cos_sin), z_L

    def segment(self, z_H: Tensor, z_L: Tensor, x: Tensor, cos_sin: Any) -> Tuple[Tensor, Tensor]:
        with torch.no_grad():
            for _ in range(self.cfg.H_cycles - 1):
                z_H, z_L = self._recursion(z_H, z_L, x, cos_sin)
        return self._recursion(z_H, z_L, x, cos_sin)


def trm_reference(cfg: Any, loss_type: str, weights: Dict[str, Tensor]) -> LossHead:
    """Upstream's TRM with `weights` (our model's state dict: the official keys)."""
    head = LossHead(ACT(TRMInner(cfg), halt_on_q_halt=cfg.no_ACT_continue), loss_type)
    head.model.load_state_dict(weights, strict=True)
    return head
