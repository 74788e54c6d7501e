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

import math
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .layers import (
    Attention, AttentionKernel, CastedEmbedding, CastedLinear, CosSin, RotaryEmbedding, SwiGLU, rms_norm,
    trunc_normal_init_,
)
from .puzzle_embedding import PuzzleEmbedding

__all__ = [
    "HRMConfig", "HRMInnerCarry", "HRMCarry", "HRMBlock", "ReasoningModule", "HRMInner", "HRM", "count_parameters",
]

Batch = Dict[str, torch.Tensor]

# 1/sqrt(2): keeps the variance of (token + position) equal to that of either term.
_LEARNED_POS_SCALE = 0.707106781


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


@dataclass
class HRMInnerCarry:
    """Recurrent state of both modules, ``[batch, puzzle_emb_len + seq_len, hidden]`` each."""

    z_H: torch.Tensor
    z_L: torch.Tensor


@dataclass
class HRMCarry:
    """Everything the ACT loop keeps between segments.

    ``steps`` counts segments run on each row's current example, ``halted`` marks rows whose
    example is finished (they are reset and refilled on the next call), and ``current_data``
    holds the example each row is working on, which persists across segments.
    """

    inner_carry: HRMInnerCarry
    steps: torch.Tensor
    halted: torch.Tensor
    current_data: Batch


class HRMBlock(nn.Module):
    """Post-norm transformer block: ``h = norm(h + attn(h)); h = norm(h + mlp(h))``."""

    def __init__(self, config: HRMConfig) -> None:
        super().__init__()
        head_dim = config.hidden_size // config.num_heads
        self.self_attn = Attention(config.hidden_size, head_dim, config.num_heads)
        self.mlp = SwiGLU(config.hidden_size, config.expansion)
        self.eps = config.rms_norm_eps

    def forward(self, h: torch.Tensor, cos_sin: Optional[CosSin], first: Optional[int] = None) -> torch.Tensor:
        """With ``first``, only the first that many positions' outputs (the same numbers as the
        full output's first rows, for less work; every position still feeds attention)."""
        if first is None:
            h = rms_norm(h + self.self_attn(h, cos_sin), self.eps)
        else:
            h = rms_norm(h[:, :first] + self.self_attn(h, cos_sin, queries=first), self.eps)
        return rms_norm(h + self.mlp(h), self.eps)


class ReasoningModule(nn.Module):
    """A stack of blocks that first adds its input injection to the state."""

    def __init__(self, config: HRMConfig, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(HRMBlock(config) for _ in range(num_layers))

    def forward(self, z: torch.Tensor, injection: torch.Tensor, cos_sin: Optional[CosSin],
                first: Optional[int] = None) -> torch.Tensor:
        """The updated state; with ``first``, only its first that many positions (see HRMBlock)."""
        z = z + injection
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            z = layer(z, cos_sin, first if i == last else None)
        return z


class HRMInner(nn.Module):
    """One ACT segment: embed the inputs, run the H/L cycles, read out tokens and Q-values.

    Creation order of the submodules matches the official code, so the same torch seed gives
    the same initial weights on both sides.
    """

    def __init__(self, config: HRMConfig) -> None:
        super().__init__()
        self.config = config
        self.forward_dtype = config.dtype
        hidden = config.hidden_size

        self.embed_scale = math.sqrt(hidden)
        embed_std = 1.0 / self.embed_scale
        self.embed_tokens = CastedEmbedding(config.vocab_size, hidden, init_std=embed_std, cast_to=self.forward_dtype)
        self.lm_head = CastedLinear(hidden, config.vocab_size, bias=False)
        self.q_head = CastedLinear(hidden, 2, bias=True)

        # The puzzle embedding occupies ceil(ndim / hidden) extra positions in front of the tokens.
        self.puzzle_emb_len = -(-config.puzzle_emb_ndim // hidden)
        self.puzzle_emb: Optional[PuzzleEmbedding] = None
        if config.puzzle_emb_ndim > 0:
            self.puzzle_emb = PuzzleEmbedding(config.num_puzzle_identifiers, config.puzzle_emb_ndim, self.forward_dtype)

        self.total_len = config.seq_len + self.puzzle_emb_len
        self.rotary_emb: Optional[RotaryEmbedding] = None
        self.embed_pos: Optional[CastedEmbedding] = None
        if config.pos_encodings == "rope":
            self.rotary_emb = RotaryEmbedding(hidden // config.num_heads, self.total_len, config.rope_theta)
        else:
            self.embed_pos = CastedEmbedding(self.total_len, hidden, init_std=embed_std, cast_to=self.forward_dtype)

        self.H_level = ReasoningModule(config, config.H_layers)
        self.L_level = ReasoningModule(config, config.L_layers)

        # Learned starting states that every halted row is reset to (persistent: checkpointed).
        self.register_buffer("H_init", trunc_normal_init_(torch.empty(hidden, dtype=self.forward_dtype), std=1.0))
        self.register_buffer("L_init", trunc_normal_init_(torch.empty(hidden, dtype=self.forward_dtype), std=1.0))

        # Q-head starts at "continue is as good as halt, both unlikely" (sigmoid(-5) ≈ 0.007),
        # which lets the bootstrapped Q-targets settle before they drive halting.
        with torch.no_grad():
            self.q_head.weight.zero_()
            assert self.q_head.bias is not None
            self.q_head.bias.fill_(-5.0)

    def input_embeddings(self, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor) -> torch.Tensor:
        """Token (+ puzzle, + learned position) embedding, scaled by sqrt(hidden)."""
        emb = self.embed_tokens(inputs)
        if self.puzzle_emb is not None:
            puzzle = self.puzzle_emb(puzzle_identifiers)
            pad = self.puzzle_emb_len * self.config.hidden_size - puzzle.shape[-1]
            if pad > 0:
                puzzle = F.pad(puzzle, (0, pad))
            emb = torch.cat((puzzle.view(-1, self.puzzle_emb_len, self.config.hidden_size), emb), dim=-2)
        if self.embed_pos is not None:
            pos = self.embed_pos.embedding_weight
            if pos.dtype != self.forward_dtype:
                pos = pos.to(self.forward_dtype)
            emb = _LEARNED_POS_SCALE * (emb + pos)
        return self.embed_scale * emb

    def empty_carry(self, batch_size: int, device: Optional[torch.device] = None) -> HRMInnerCarry:
        """A placeholder carry; every row starts halted, so it is replaced before it is read."""
        if device is None:
            device = self.H_init.device
        shape = (batch_size, self.total_len, self.config.hidden_size)
        return HRMInnerCarry(
            z_H=torch.zeros(shape, dtype=self.forward_dtype, device=device),
            z_L=torch.zeros(shape, dtype=self.forward_dtype, device=device),
        )

    def reset_carry(self, reset_flag: torch.Tensor, carry: HRMInnerCarry) -> HRMInnerCarry:
        """Put rows where ``reset_flag`` is set back to the learned ``H_init`` / ``L_init``."""
        flag = reset_flag.view(-1, 1, 1)
        return HRMInnerCarry(
            z_H=torch.where(flag, self.H_init, carry.z_H),
            z_L=torch.where(flag, self.L_init, carry.z_L),
        )

    def _segment(self, carry: HRMInnerCarry, batch: Batch,
                 first: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(z_H, z_L)`` after one segment. All H_cycles × L_cycles updates but the last L and the
        last H one run without gradient; those two keep it when the caller has it on (1-step
        gradient). With ``first``, the last H block computes only that many positions."""
        cfg = self.config
        cos_sin = self.rotary_emb() if self.rotary_emb is not None else None
        x = self.input_embeddings(batch["inputs"], batch["puzzle_identifiers"])
        z_H, z_L = carry.z_H, carry.z_L
        with torch.no_grad():
            for h_step in range(cfg.H_cycles):
                last_h = h_step == cfg.H_cycles - 1
                for l_step in range(cfg.L_cycles):
                    if last_h and l_step == cfg.L_cycles - 1:
                        break  # the final L update runs below, with gradient
                    z_L = self.L_level(z_L, z_H + x, cos_sin)
                if not last_h:
                    z_H = self.H_level(z_H, z_L, cos_sin)
        z_L = self.L_level(z_L, z_H + x, cos_sin)
        z_H = self.H_level(z_H, z_L, cos_sin, first=first)
        return z_H, z_L

    def forward(
        self, carry: HRMInnerCarry, batch: Batch
    ) -> Tuple[HRMInnerCarry, torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """Run one segment. Returns ``(new_carry, logits [B, seq_len, vocab], (q_halt, q_continue))``.

        The returned carry is detached, so no gradient flows between segments.
        """
        z_H, z_L = self._segment(carry, batch)
        new_carry = HRMInnerCarry(z_H=z_H.detach(), z_L=z_L.detach())
        logits = self.lm_head(z_H)[:, self.puzzle_emb_len:]
        q = self.q_head(z_H[:, 0]).to(torch.float32)
        return new_carry, logits, (q[..., 0], q[..., 1])

    @torch.no_grad()
    def q_values(self, carry: HRMInnerCarry, batch: Batch) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(q_halt, q_continue)`` of the segment :meth:`forward` would run, and nothing else.

        The Q-head reads position 0 of the final H state only, so the last block of the last H
        update computes just that position: the same numbers for one block's less work
        (measured: ~2 % of a seed-improved training step, ~4 % of the seed's).
        """
        z_H, _ = self._segment(carry, batch, first=1)
        q = self.q_head(z_H[:, 0]).to(torch.float32)
        return q[..., 0], q[..., 1]


class HRM(nn.Module):
    """The ACT wrapper: runs one segment per call and decides which rows halt.

    Call it repeatedly with the same carry. Rows that halted on the previous call are reset
    and take their example from the ``batch`` passed now; the others keep their example and
    state. In training (with ``halt_max_steps > 1``) a row halts when its Q-head prefers
    halting, but not before a randomly drawn minimum (exploration, from torch's global RNG);
    every row halts at ``halt_max_steps``. In eval every row runs exactly ``halt_max_steps``
    segments, so a batch finishes together.
    """

    def __init__(self, config: HRMConfig) -> None:
        super().__init__()
        self.config = config
        self.inner = HRMInner(config)

    @property
    def puzzle_emb(self) -> Optional[PuzzleEmbedding]:
        """The sparse puzzle embedding (``None`` when ``puzzle_emb_ndim == 0``)."""
        return self.inner.puzzle_emb

    def use_attention_kernel(self, kernel: Optional[AttentionKernel]) -> None:
        """Route every attention layer through ``kernel`` (``None``: torch's SDPA). Same maths,
        so checkpoints and results do not depend on it."""
        for module in self.modules():
            if isinstance(module, Attention):
                module.kernel = kernel

    def initial_carry(self, batch: Batch) -> HRMCarry:
        """A carry with every row halted, so the first call loads ``batch`` into every row."""
        batch_size = batch["inputs"].shape[0]
        device = batch["inputs"].device
        return HRMCarry(
            inner_carry=self.inner.empty_carry(batch_size, device=device),
            steps=torch.zeros(batch_size, dtype=torch.int32, device=device),
            halted=torch.ones(batch_size, dtype=torch.bool, device=device),
            current_data={k: torch.zeros_like(v) for k, v in batch.items()},
        )

    def forward(self, carry: HRMCarry, batch: Batch) -> Tuple[HRMCarry, Dict[str, torch.Tensor]]:
        """Run one ACT segment. Returns the new carry and ``logits``, ``q_halt_logits``,
        ``q_continue_logits`` (+ ``target_q_continue`` in training with ACT)."""
        cfg = self.config
        halted_prev = carry.halted
        inner_carry = self.inner.reset_carry(halted_prev, carry.inner_carry)
        steps = torch.where(halted_prev, 0, carry.steps)
        current_data = {
            k: torch.where(halted_prev.view((-1,) + (1,) * (batch[k].ndim - 1)), batch[k], v)
            for k, v in carry.current_data.items()
        }

        inner_carry, logits, (q_halt, q_continue) = self.inner(inner_carry, current_data)
        outputs = {"logits": logits, "q_halt_logits": q_halt, "q_continue_logits": q_continue}

        with torch.no_grad():
            steps = steps + 1
            is_last_step = steps >= cfg.halt_max_steps
            halted = is_last_step
            if self.training and cfg.halt_max_steps > 1:
                halted = halted | (q_halt > q_continue)
                # Exploration: with some probability a row must run a random minimum number of
                # segments, so the Q-head also sees what continuing would have given.
                explore = torch.rand(q_halt.shape, dtype=q_halt.dtype, device=q_halt.device) < cfg.halt_exploration_prob
                min_steps = explore * torch.randint(
                    2, cfg.halt_max_steps + 1, steps.shape, dtype=steps.dtype, device=steps.device
                )
                halted = halted & (steps >= min_steps)

                # Bootstrapped Q target from one more segment (no replay buffer / target net:
                # the batch's many rows play the role of parallel environments).
                next_halt, next_continue = self.inner.q_values(inner_carry, current_data)
                outputs["target_q_continue"] = torch.sigmoid(
                    torch.where(is_last_step, next_halt, torch.maximum(next_halt, next_continue))
                )

        return HRMCarry(inner_carry, steps, halted, current_data), outputs


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
