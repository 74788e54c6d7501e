"""Shared helpers for the model tests: tiny configs that run in milliseconds."""

from __future__ import annotations

from typing import Any, Dict

import torch

from hrm_studio.model import HRM, HRMConfig

SEED_CONFIG: Dict[str, Any] = dict(
    batch_size=2, seq_len=900, vocab_size=12, num_puzzle_identifiers=2, puzzle_emb_ndim=32,
    H_cycles=2, L_cycles=2, H_layers=1, L_layers=1, hidden_size=64, expansion=2, num_heads=4,
    pos_encodings="rope", halt_max_steps=6, halt_exploration_prob=0.1, forward_dtype="float32",
)

TINY_CONFIG: Dict[str, Any] = dict(
    batch_size=3, seq_len=8, vocab_size=6, num_puzzle_identifiers=4, puzzle_emb_ndim=8,
    H_cycles=2, L_cycles=3, H_layers=1, L_layers=1, hidden_size=16, expansion=2, num_heads=2,
    pos_encodings="rope", halt_max_steps=4, halt_exploration_prob=0.0, forward_dtype="float32",
)


def tiny_config(**overrides: Any) -> HRMConfig:
    return HRMConfig(**{**TINY_CONFIG, **overrides})


def tiny_model(seed: int = 0, **overrides: Any) -> HRM:
    torch.manual_seed(seed)
    return HRM(tiny_config(**overrides))


def make_batch(config: HRMConfig, seed: int = 0, batch_size: int | None = None) -> Dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    b = batch_size or config.batch_size
    labels = torch.randint(0, config.vocab_size, (b, config.seq_len), generator=g)
    labels[:, -2:] = -100
    return {
        "inputs": torch.randint(0, config.vocab_size, (b, config.seq_len), generator=g),
        "labels": labels,
        "puzzle_identifiers": torch.randint(0, max(config.num_puzzle_identifiers, 1), (b,), generator=g),
    }


def rig_q_head(model: HRM, halt: float, cont: float) -> None:
    """Make every row's Q-values constant: q_halt = halt, q_continue = cont."""
    with torch.no_grad():
        model.inner.q_head.weight.zero_()
        model.inner.q_head.bias.copy_(torch.tensor([halt, cont]))
