"""Tiny Recursive Model, ACT v1 (arXiv 2510.04871), official-compatible.

TRM keeps HRM's two states but drops its second network: ONE stack of blocks, ``L_level``,
updates both. In the paper's words ``z_H`` is the current answer y and ``z_L`` the latent
reasoning z. A *full recursion* runs ``L_cycles`` times ``z_L ← net(z_L, z_H + x)`` and then
``z_H ← net(z_H, z_L)`` (the answer update does not see the input x). One ACT segment runs
``H_cycles - 1`` full recursions without gradient, then one with gradient — back-propagating
through a whole recursion instead of HRM's single last step. Both states are detached after
the segment, and the outer ACT loop is HRM's (``act.py``) with a simpler halting rule: with
``no_ACT_continue`` (the default) a row halts when ``q_halt > 0`` and there is no second forward
for a ``q_continue`` target.

The puzzle embedding fills ``puzzle_emb_len`` prefix positions (16 by default; 0 means HRM's
``ceil(puzzle_emb_ndim / hidden)``), which also act as scratch space the model can write to.
The ``mlp_t`` variant replaces attention by a SwiGLU across the sequence axis.

Module and buffer names are chosen so ``TRM(cfg).state_dict()`` has exactly the keys of the
official ``TinyRecursiveReasoningModel_ACTV1`` (``inner.H_init``, ``inner.L_level.layers.0...``).
Where the official code cannot run, this one does what it clearly intends (see trm-spec.md):
``no_ACT_continue=False`` bootstraps its Q-target with one more segment (the official branch
unpacks five values from a call returning three), and without a puzzle embedding there are
no prefix positions (the official model would add a ``[seq_len]`` input to ``[16 + seq_len]``
states).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import torch
from torch import nn

from ..errors import ConfigError
from .act import ACTModel, Batch, InnerCarry, RecurrentCore, SegmentRecorder
from .hrm import HRMBlock, ReasoningModule
from .layers import CosSin, Scratch, SwiGLU, rms_norm

__all__ = ["TRMConfig", "TokenMixingBlock", "TRMInner", "TRM"]

POS_ENCODINGS = ("rope", "learned", "none")


@dataclass(kw_only=True)
class TRMConfig:
    """Architecture and ACT settings, under the official field names (see trm-spec.md).

    ``H_layers`` of the official config is absent: TRM ignores it.
    """

    batch_size: int
    seq_len: int
    vocab_size: int
    num_puzzle_identifiers: int
    puzzle_emb_ndim: int = 0
    H_cycles: int
    L_cycles: int
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
    mlp_t: bool = False
    puzzle_emb_len: int = 16
    no_ACT_continue: bool = True

    def __post_init__(self) -> None:
        if self.pos_encodings not in POS_ENCODINGS:
            raise ConfigError(f"pos_encodings must be one of {', '.join(POS_ENCODINGS)}, not {self.pos_encodings!r}.")
        if self.forward_dtype not in ("float32", "bfloat16"):
            raise ConfigError(f"forward_dtype must be 'float32' or 'bfloat16', not {self.forward_dtype!r}.")
        if self.num_heads <= 0 or self.hidden_size % self.num_heads != 0:
            raise ConfigError(f"hidden_size ({self.hidden_size}) must be divisible by num_heads ({self.num_heads}).")
        if self.pos_encodings == "rope" and (self.hidden_size // self.num_heads) % 2 != 0:
            raise ConfigError("RoPE needs an even head size (hidden_size / num_heads).")
        if self.halt_max_steps < 1:
            raise ConfigError("halt_max_steps must be at least 1.")
        if min(self.H_cycles, self.L_cycles, self.L_layers) < 1:
            raise ConfigError("H_cycles, L_cycles and L_layers must all be at least 1.")
        if self.puzzle_emb_len < 0:
            raise ConfigError("puzzle_emb_len must be 0 (as many as the puzzle embedding needs) or more.")
        if self.puzzle_emb_ndim > 0 and self.num_puzzle_identifiers < 1:
            raise ConfigError("A puzzle embedding needs at least one puzzle identifier.")
        if self.prefix_len * self.hidden_size < self.puzzle_emb_ndim:
            raise ConfigError(f"puzzle_emb_len ({self.puzzle_emb_len}) positions of hidden_size "
                              f"({self.hidden_size}) cannot hold a puzzle embedding of {self.puzzle_emb_ndim}.")

    @property
    def dtype(self) -> torch.dtype:
        """``forward_dtype`` as a torch dtype."""
        return getattr(torch, self.forward_dtype)

    @property
    def prefix_len(self) -> int:
        """Positions in front of the tokens: ``puzzle_emb_len`` (0: ceil(ndim / hidden)) with a
        puzzle embedding, none without one."""
        if self.puzzle_emb_ndim <= 0:
            return 0
        return self.puzzle_emb_len or -(-self.puzzle_emb_ndim // self.hidden_size)


class TokenMixingBlock(nn.Module):
    """The ``mlp_t`` block: ``h = norm_seq(h + mlp_t(h)ᵀ); h = norm(h + mlp(h))``.

    The first SwiGLU mixes positions instead of attending (its width is the sequence length,
    prefix included, so its weights fit one sequence length only) and, as upstream, that
    sub-layer's RMS norm is taken across the sequence axis.
    """

    def __init__(self, config: TRMConfig) -> None:
        super().__init__()
        self.mlp_t = SwiGLU(config.seq_len + config.prefix_len, config.expansion)
        self.mlp = SwiGLU(config.hidden_size, config.expansion)
        self.eps = config.rms_norm_eps

    def forward(self, h: torch.Tensor, cos_sin: Optional[CosSin], first: Optional[int] = None,
                scratch: Optional[Scratch] = None) -> torch.Tensor:
        """With ``first``, only the first that many positions' outputs (the rest still feed them).
        ``scratch`` is taken for the blocks' common signature and left unused: ``h`` is transposed
        here, so the projections would copy it anyway (and the norm's sum runs in its layout)."""
        mixed = h.transpose(1, 2)
        h = rms_norm(mixed + self.mlp_t(mixed), self.eps).transpose(1, 2)
        if first is not None:
            h = h[:, :first]
        return rms_norm(h + self.mlp(h), self.eps)


class TRMInner(RecurrentCore):
    """One ACT segment: embed the inputs, recurse with the one network, read out tokens and Q-values.

    Creation order of the submodules matches the official code, so the same torch seed gives
    the same initial weights on both sides.
    """

    def __init__(self, config: TRMConfig) -> None:
        super().__init__()
        self._build_io(config, puzzle_emb_len=config.prefix_len, attends=not config.mlp_t)
        self.L_level = ReasoningModule(config, config.L_layers, TokenMixingBlock if config.mlp_t else HRMBlock)
        self._build_initial_states()

    def _recursion(self, z_H: torch.Tensor, z_L: torch.Tensor, x: torch.Tensor, cos_sin: Optional[CosSin],
                   first: Optional[int] = None, recorder: Optional[SegmentRecorder] = None,
                   scratch: Optional[Scratch] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """One full recursion: ``L_cycles`` latent updates, then one answer update."""
        for _ in range(self.config.L_cycles):
            z_L = self.L_level(z_L, z_H + x, cos_sin, scratch=scratch)
            if recorder is not None:
                recorder.low(z_L)
        z_H = self.L_level(z_H, z_L, cos_sin, first=first, scratch=scratch)
        if recorder is not None:
            recorder.high(z_H)
        return z_H, z_L

    def _segment(self, carry: InnerCarry, batch: Batch, first: Optional[int] = None,
                 recorder: Optional[SegmentRecorder] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(z_H, z_L)`` after ``H_cycles`` recursions, only the last with gradient (when the
        caller has it on). With ``first``, the last block computes only that many positions;
        ``recorder`` is handed each new state (it changes no number)."""
        cos_sin = self.cos_sin()
        x = self.input_embeddings(batch["inputs"], batch["puzzle_identifiers"])
        z_H, z_L = carry.z_H, carry.z_L
        scratch = Scratch()
        with torch.no_grad():
            for _ in range(self.config.H_cycles - 1):
                z_H, z_L = self._recursion(z_H, z_L, x, cos_sin, recorder=recorder, scratch=scratch)
        return self._recursion(z_H, z_L, x, cos_sin, first=first, recorder=recorder, scratch=scratch)


class TRM(ACTModel):
    """TRM's ACT wrapper (see :class:`~hrm_studio.model.act.ACTModel`).

    With ``no_ACT_continue`` a row halts when ``q_halt > 0`` (the Q-head predicts "the answer
    is right") and only ``q_halt`` is trained; without it, HRM's rule and bootstrapped target.
    """

    def __init__(self, config: TRMConfig) -> None:
        super().__init__()
        self.config = config
        self.inner = TRMInner(config)

    def halts(self, q_halt: torch.Tensor, q_continue: torch.Tensor) -> torch.Tensor:
        if self.config.no_ACT_continue:
            return q_halt > 0
        return q_halt > q_continue

    @property
    def bootstraps_q_target(self) -> bool:
        return not self.config.no_ACT_continue
