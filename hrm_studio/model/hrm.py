"""Hierarchical Reasoning Model, ACT v1 (arXiv 2506.21734), official-compatible.

Two recurrent transformer modules share one hidden width: a fast low-level module ``L_level``
and a slow high-level one ``H_level``. One *ACT segment* runs ``H_cycles`` high-level updates,
each after ``L_cycles`` low-level ones, and only the very last L and H updates keep a
gradient (the paper's "1-step gradient" approximation: memory stays constant in the number
of cycles). An outer ACT loop repeats segments, carrying ``(z_H, z_L)`` across them, and a
small Q-head learns when to stop.

Module and buffer names are chosen so ``HRM(cfg).state_dict()`` has exactly the keys of the
official ``HierarchicalReasoningModel_ACTV1`` (``inner.H_init``, ``inner.H_level.layers.0...``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple

import torch
from torch import nn

from ..errors import ConfigError
from .act import ACTCarry, ACTModel, Batch, InnerCarry, RecurrentCore, SegmentRecorder
from .layers import Attention, CosSin, Scratch, SwiGLU, rms_norm, use_scratch
from .puzzle_embedding import PuzzleEmbedding

__all__ = [
    "HRMConfig", "HRMInnerCarry", "HRMCarry", "HRMBlock", "ReasoningModule", "HRMInner", "HRM", "count_parameters",
]


@dataclass(kw_only=True)
class HRMConfig:
    """Architecture and ACT settings, under the official field names (see hrm-spec.md)."""

    batch_size: int
    seq_len: int
    vocab_size: int
    num_puzzle_identifiers: int
    puzzle_emb_ndim: int = 0
    H_cycles: int
    L_cycles: int
    H_layers: int
    L_layers: int
    hidden_size: int
    expansion: float
    num_heads: int
    pos_encodings: str = "rope"
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    halt_max_steps: int
    halt_exploration_prob: float
    forward_dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.pos_encodings not in ("rope", "learned"):
            raise ConfigError(f"pos_encodings must be 'rope' or 'learned', not {self.pos_encodings!r}.")
        if self.forward_dtype not in ("float32", "bfloat16"):
            raise ConfigError(f"forward_dtype must be 'float32' or 'bfloat16', not {self.forward_dtype!r}.")
        if self.num_heads <= 0 or self.hidden_size % self.num_heads != 0:
            raise ConfigError(f"hidden_size ({self.hidden_size}) must be divisible by num_heads ({self.num_heads}).")
        if self.pos_encodings == "rope" and (self.hidden_size // self.num_heads) % 2 != 0:
            raise ConfigError("RoPE needs an even head size (hidden_size / num_heads).")
        if self.halt_max_steps < 1:
            raise ConfigError("halt_max_steps must be at least 1.")
        if min(self.H_cycles, self.L_cycles, self.H_layers, self.L_layers) < 1:
            raise ConfigError("H_cycles, L_cycles, H_layers and L_layers must all be at least 1.")
        if self.puzzle_emb_ndim > 0 and self.num_puzzle_identifiers < 1:
            raise ConfigError("A puzzle embedding needs at least one puzzle identifier.")

    @property
    def dtype(self) -> torch.dtype:
        """``forward_dtype`` as a torch dtype."""
        return getattr(torch, self.forward_dtype)


# The carries are the ones every ACT architecture shares; HRM's names are kept for callers.
HRMInnerCarry = InnerCarry
HRMCarry = ACTCarry


class HRMBlock(nn.Module):
    """Post-norm transformer block: ``h = norm(h + attn(h)); h = norm(h + mlp(h))``."""

    def __init__(self, config: Any) -> None:
        super().__init__()
        head_dim = config.hidden_size // config.num_heads
        self.self_attn = Attention(config.hidden_size, head_dim, config.num_heads)
        self.mlp = SwiGLU(config.hidden_size, config.expansion)
        self.eps = config.rms_norm_eps

    def forward(self, h: torch.Tensor, cos_sin: Optional[CosSin], first: Optional[int] = None,
                scratch: Optional[Scratch] = None) -> torch.Tensor:
        """With ``first``, only the first that many positions' outputs (the same numbers as the
        full output's first rows, for less work; every position still feeds attention).
        ``scratch``: see :class:`~hrm_studio.model.layers.Scratch` (used without gradient only)."""
        reuse = use_scratch(scratch)
        attended = self.self_attn(h, cos_sin, queries=first, scratch=scratch)
        if first is not None:
            h = h[:, :first]
        # In place into the scratch buffer where there is one: the same sum either way.
        h = rms_norm(attended.add_(h) if reuse else h + attended, self.eps)
        mixed = self.mlp(h, scratch)
        return rms_norm(mixed.add_(h) if reuse else h + mixed, self.eps)


class ReasoningModule(nn.Module):
    """A stack of blocks that first adds its input injection to the state.

    ``block`` makes one block from the config (TRM's token-mixing variant passes its own); every
    block is called as ``block(h, cos_sin, first)``.
    """

    def __init__(self, config: Any, num_layers: int, block: Callable[[Any], nn.Module] = HRMBlock) -> None:
        super().__init__()
        self.layers = nn.ModuleList(block(config) for _ in range(num_layers))

    def forward(self, z: torch.Tensor, injection: torch.Tensor, cos_sin: Optional[CosSin],
                first: Optional[int] = None, scratch: Optional[Scratch] = None) -> torch.Tensor:
        """The updated state; with ``first``, only its first that many positions (see HRMBlock)."""
        if use_scratch(scratch):
            z = torch.add(z, injection, out=scratch.take("input", z.shape, z))
        else:
            z = z + injection
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            z = layer(z, cos_sin, first if i == last else None, scratch)
        return z


class HRMInner(RecurrentCore):
    """One ACT segment: embed the inputs, run the H/L cycles, read out tokens and Q-values.

    Creation order of the submodules matches the official code, so the same torch seed gives
    the same initial weights on both sides.
    """

    def __init__(self, config: HRMConfig) -> None:
        super().__init__()
        # The puzzle embedding occupies ceil(ndim / hidden) extra positions in front of the tokens.
        self._build_io(config, puzzle_emb_len=-(-config.puzzle_emb_ndim // config.hidden_size))
        self.H_level = ReasoningModule(config, config.H_layers)
        self.L_level = ReasoningModule(config, config.L_layers)
        self._build_initial_states()

    def _segment(self, carry: HRMInnerCarry, batch: Batch, first: Optional[int] = None,
                 recorder: Optional[SegmentRecorder] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(z_H, z_L)`` after one segment. All H_cycles × L_cycles updates but the last L and the
        last H one run without gradient; those two keep it when the caller has it on (1-step
        gradient). With ``first``, the last H block computes only that many positions (the
        Q-target pass: measured ~2 % of a seed-improved training step, ~4 % of the seed's).
        ``recorder`` is handed each new state; it changes no number."""
        cfg = self.config
        cos_sin = self.cos_sin()
        x = self.input_embeddings(batch["inputs"], batch["puzzle_identifiers"])
        z_H, z_L = carry.z_H, carry.z_L
        scratch = Scratch()
        with torch.no_grad():
            for h_step in range(cfg.H_cycles):
                last_h = h_step == cfg.H_cycles - 1
                for l_step in range(cfg.L_cycles):
                    if last_h and l_step == cfg.L_cycles - 1:
                        break  # the final L update runs below, with gradient
                    z_L = self.L_level(z_L, z_H + x, cos_sin, scratch=scratch)
                    if recorder is not None:
                        recorder.low(z_L)
                if not last_h:
                    z_H = self.H_level(z_H, z_L, cos_sin, scratch=scratch)
                    if recorder is not None:
                        recorder.high(z_H)
        # With gradient these two keep their own tensors (the scratch is used only without it).
        z_L = self.L_level(z_L, z_H + x, cos_sin, scratch=scratch)
        z_H = self.H_level(z_H, z_L, cos_sin, first=first, scratch=scratch)
        if recorder is not None:
            recorder.low(z_L)
            recorder.high(z_H)
        return z_H, z_L


class HRM(ACTModel):
    """HRM's ACT wrapper (see :class:`~hrm_studio.model.act.ACTModel`): a row halts when its
    Q-head rates halting above continuing, and training bootstraps a ``q_continue`` target."""

    def __init__(self, config: HRMConfig) -> None:
        super().__init__()
        self.config = config
        self.inner = HRMInner(config)


def count_parameters(model: nn.Module, include_puzzle_embedding: bool = False) -> int:
    """Number of trainable parameters, counted the way the spec and the seed reports do.

    The published figures (132,738 for the seed config, 658,690 for its "improved" config,
    27,276,290 for the official ARC config) count ``nn.Parameter`` entries only: neither the
    puzzle-embedding table (a buffer with its own optimiser) nor ``H_init`` / ``L_init``.
    Pass ``include_puzzle_embedding=True`` to add the puzzle-embedding rows as well.
    """
    total = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if include_puzzle_embedding:
        total += sum(m.weights.numel() for m in model.modules() if isinstance(m, PuzzleEmbedding))
    return total
