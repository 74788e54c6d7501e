"""Tiny HRM and TRM models (milliseconds per segment) with Q-heads and puzzle embeddings that vary."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from hrm_studio.data import PuzzleSet
from hrm_studio.model import HRM, TRM, HRMConfig, TRMConfig

COMMON: dict[str, Any] = dict(batch_size=4, seq_len=9, vocab_size=5, num_puzzle_identifiers=3, puzzle_emb_ndim=16,
                              H_cycles=2, L_cycles=3, L_layers=2, hidden_size=16, expansion=2.0, num_heads=2,
                              pos_encodings="rope", halt_max_steps=3, halt_exploration_prob=0.0)


def tiny(arch: str, seed: int = 0, **overrides: Any) -> torch.nn.Module:
    """A tiny model of `arch` in eval mode, its Q-head and puzzle embedding randomised."""
    torch.manual_seed(seed)
    if arch == "hrm":
        model: torch.nn.Module = HRM(HRMConfig(**{**COMMON, "H_layers": 2, **overrides}))
    else:
        model = TRM(TRMConfig(**{**COMMON, "puzzle_emb_len": 2, **overrides}))
    with torch.no_grad():
        model.inner.q_head.weight.normal_(0.0, 0.3)
        model.inner.q_head.bias.zero_()
        model.inner.puzzle_emb.weights.normal_()
    return model.eval()


def puzzles(n: int, seed: int = 1) -> PuzzleSet:
    """`n` random puzzles of the tiny models' size; the last cell of each is unlabelled."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, COMMON["vocab_size"], (n, COMMON["seq_len"])).astype(np.int32)
    labels[:, -1] = -100
    return PuzzleSet(inputs=rng.integers(0, COMMON["vocab_size"], (n, COMMON["seq_len"])).astype(np.int32),
                     labels=labels, puzzle_identifiers=rng.integers(0, 3, n).astype(np.int32),
                     patterns=np.array(["p"] * n))
