"""What HRM and TRM share: the input/output layers of one recurrent segment and the ACT loop.

Both architectures embed the puzzle the same way (token + sparse puzzle embedding as prefix
positions, learned or rotary positions, scaled by sqrt(hidden)), keep two recurrent states
``(z_H, z_L)`` reset to learned ``H_init`` / ``L_init``, read tokens from ``z_H`` and two
Q-values from its first position, and run one *ACT segment* per call with the same halting,
exploration and bootstrapped Q-target. They differ only in what a segment computes and in
their halting rule, so each architecture's file holds just that.

Submodules are created in the official order (embeddings, heads, puzzle embedding, positions,
then the architecture's levels, then the initial states), so the same torch seed gives the same
initial weights as the official code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, Optional, Protocol, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .layers import (
    Attention, AttentionKernel, CastedEmbedding, CastedLinear, CosSin, RotaryEmbedding, trunc_normal_init_,
)
from .profiling import Q_TARGET_PASS, profiled
from .puzzle_embedding import PuzzleEmbedding

__all__ = ["Batch", "InnerCarry", "ACTCarry", "SegmentRecorder", "RecurrentCore", "ACTModel", "LEARNED_POS_SCALE"]

Batch = Dict[str, torch.Tensor]

# 1/sqrt(2): keeps the variance of (token + position) equal to that of either term.
LEARNED_POS_SCALE = 0.707106781


@dataclass
class InnerCarry:
    """Both recurrent states, ``[batch, puzzle_emb_len + seq_len, hidden]`` each."""

    z_H: torch.Tensor
    z_L: torch.Tensor


class SegmentRecorder(Protocol):
    """Sees every state a segment computes, for the reasoning inspector (hrm_studio/analysis).

    Passed per call (``RecurrentCore.forward(..., recorder=...)``), never stored on the model, so
    a model without one pays one ``is None`` test per update. It receives the new tensors only
    and must not change them in place: recording cannot change the model's numbers.
    """

    def low(self, z_L: torch.Tensor) -> None:
        """Called after every low-level update with the new ``z_L``."""

    def high(self, z_H: torch.Tensor) -> None:
        """Called after every high-level update (TRM: answer update) with the new ``z_H``."""


@dataclass
class ACTCarry:
    """Everything the ACT loop keeps between segments.

    ``steps`` counts segments run on each row's current example, ``halted`` marks rows whose
    example is finished (they are reset and refilled on the next call), and ``current_data``
    holds the example each row is working on, which persists across segments.
    """

    inner_carry: InnerCarry
    steps: torch.Tensor
    halted: torch.Tensor
    current_data: Batch


class RecurrentCore(nn.Module):
    """Embeddings, read-out heads and initial states of one segment; subclasses add the levels
    between :meth:`_build_io` and :meth:`_build_initial_states` and implement ``_segment``."""

    def _build_io(self, config: Any, puzzle_emb_len: int, attends: bool = True) -> None:
        """Token embedding, LM and Q heads, puzzle embedding and positions, in the official order.
        ``puzzle_emb_len`` prefix positions precede the tokens; without ``attends`` no rotary
        tables are made (nothing would read them)."""
        self.config = config
        self.forward_dtype = config.dtype
        hidden = config.hidden_size
        self.embed_scale = math.sqrt(hidden)
        embed_std = 1.0 / self.embed_scale
        self.embed_tokens = CastedEmbedding(config.vocab_size, hidden, init_std=embed_std, cast_to=self.forward_dtype)
        self.lm_head = CastedLinear(hidden, config.vocab_size, bias=False)
        self.q_head = CastedLinear(hidden, 2, bias=True)

        self.puzzle_emb_len = puzzle_emb_len
        self.puzzle_emb: Optional[PuzzleEmbedding] = None
        if config.puzzle_emb_ndim > 0:
            self.puzzle_emb = PuzzleEmbedding(config.num_puzzle_identifiers, config.puzzle_emb_ndim, self.forward_dtype)

        self.total_len = config.seq_len + puzzle_emb_len
        self.rotary_emb: Optional[RotaryEmbedding] = None
        self.embed_pos: Optional[CastedEmbedding] = None
        if config.pos_encodings == "rope" and attends:
            self.rotary_emb = RotaryEmbedding(hidden // config.num_heads, self.total_len, config.rope_theta)
        elif config.pos_encodings == "learned":
            self.embed_pos = CastedEmbedding(self.total_len, hidden, init_std=embed_std, cast_to=self.forward_dtype)

    def _build_initial_states(self) -> None:
        """Learned starting states every halted row is reset to (persistent: checkpointed), and the
        Q-head's start at "continue is as good as halt, both unlikely" (sigmoid(-5) ≈ 0.007), which
        lets the Q-values settle before they drive halting."""
        hidden = self.config.hidden_size
        self.register_buffer("H_init", trunc_normal_init_(torch.empty(hidden, dtype=self.forward_dtype), std=1.0))
        self.register_buffer("L_init", trunc_normal_init_(torch.empty(hidden, dtype=self.forward_dtype), std=1.0))
        with torch.no_grad():
            self.q_head.weight.zero_()
            assert self.q_head.bias is not None
            self.q_head.bias.fill_(-5.0)

    def cos_sin(self) -> Optional[CosSin]:
        """The rotary tables, or None without rotary positions."""
        return self.rotary_emb() if self.rotary_emb is not None else None

    def input_embeddings(self, inputs: torch.Tensor, puzzle_identifiers: torch.Tensor) -> torch.Tensor:
        """Token (+ puzzle prefix, + learned position) embedding, scaled by sqrt(hidden)."""
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
            emb = LEARNED_POS_SCALE * (emb + pos)
        return self.embed_scale * emb

    def empty_carry(self, batch_size: int, device: Optional[torch.device] = None) -> InnerCarry:
        """A placeholder carry; every row starts halted, so it is replaced before it is read."""
        if device is None:
            device = self.H_init.device
        shape = (batch_size, self.total_len, self.config.hidden_size)
        return InnerCarry(z_H=torch.zeros(shape, dtype=self.forward_dtype, device=device),
                          z_L=torch.zeros(shape, dtype=self.forward_dtype, device=device))

    def reset_carry(self, reset_flag: torch.Tensor, carry: InnerCarry) -> InnerCarry:
        """Put rows where ``reset_flag`` is set back to the learned ``H_init`` / ``L_init``."""
        flag = reset_flag.view(-1, 1, 1)
        return InnerCarry(z_H=torch.where(flag, self.H_init, carry.z_H),
                          z_L=torch.where(flag, self.L_init, carry.z_L))

    def _segment(self, carry: InnerCarry, batch: Batch, first: Optional[int] = None,
                 recorder: Optional[SegmentRecorder] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(z_H, z_L)`` after one segment; with ``first``, ``z_H`` may hold only that many
        leading positions (enough for the Q-head). ``recorder`` sees every update."""
        raise NotImplementedError

    def forward(
        self, carry: InnerCarry, batch: Batch, recorder: Optional[SegmentRecorder] = None
    ) -> Tuple[InnerCarry, torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """Run one segment. Returns ``(new_carry, logits [B, seq_len, vocab], (q_halt, q_continue))``.

        The returned carry is detached, so no gradient flows between segments. ``recorder``
        (the inspector's) is shown every intermediate state; it changes no number.
        """
        z_H, z_L = self._segment(carry, batch, recorder=recorder)
        new_carry = InnerCarry(z_H=z_H.detach(), z_L=z_L.detach())
        logits = self.lm_head(z_H)[:, self.puzzle_emb_len:]
        q = self.q_head(z_H[:, 0]).to(torch.float32)
        return new_carry, logits, (q[..., 0], q[..., 1])

    @torch.no_grad()
    def q_values(self, carry: InnerCarry, batch: Batch) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(q_halt, q_continue)`` of the segment :meth:`forward` would run, and nothing else
        (the Q-head reads position 0 only, so the last block may compute just that position)."""
        z_H, _ = self._segment(carry, batch, first=1)
        q = self.q_head(z_H[:, 0]).to(torch.float32)
        return q[..., 0], q[..., 1]


class ACTModel(nn.Module):
    """The ACT wrapper: runs one segment per call and decides which rows halt.

    Call it repeatedly with the same carry. Rows that halted on the previous call are reset
    and take their example from the ``batch`` passed now; the others keep their example and
    state. In training (with ``halt_max_steps > 1``) a row halts when :meth:`halts` says so,
    but not before a randomly drawn minimum (exploration, from torch's global RNG); every row
    halts at ``halt_max_steps``. In eval every row runs exactly ``halt_max_steps`` segments, so
    a batch finishes together. Subclasses set ``config`` and ``inner`` (a RecurrentCore).
    """

    config: Any
    inner: RecurrentCore
    # (first row, rows of the global batch) when this process computes a slice of a distributed
    # run's batch (training/distributed.py); None: the batch is the whole batch.
    row_shard: Optional[Tuple[int, int]] = None

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

    def halts(self, q_halt: torch.Tensor, q_continue: torch.Tensor) -> torch.Tensor:
        """Where the Q-head asks to stop (training only; exploration may still overrule it)."""
        return q_halt > q_continue

    @property
    def bootstraps_q_target(self) -> bool:
        """Whether training runs one more segment for a ``q_continue`` target."""
        return True

    def initial_carry(self, batch: Batch) -> ACTCarry:
        """A carry with every row halted, so the first call loads ``batch`` into every row."""
        batch_size = batch["inputs"].shape[0]
        device = batch["inputs"].device
        return ACTCarry(
            inner_carry=self.inner.empty_carry(batch_size, device=device),
            steps=torch.zeros(batch_size, dtype=torch.int32, device=device),
            halted=torch.ones(batch_size, dtype=torch.bool, device=device),
            current_data={k: torch.zeros_like(v) for k, v in batch.items()},
        )

    def forward(self, carry: ACTCarry, batch: Batch) -> Tuple[ACTCarry, Dict[str, torch.Tensor]]:
        """Run one ACT segment. Returns the new carry and ``logits``, ``q_halt_logits``,
        ``q_continue_logits`` (+ ``target_q_continue`` in training with a bootstrapped target)."""
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
                halted = halted | self.halts(q_halt, q_continue)
                # Exploration: with some probability a row must run a random minimum number of
                # segments, so the Q-head also sees what continuing would have given.
                # Drawn for the whole global batch and sliced when this process computes a shard of
                # it (row_shard), so N processes draw exactly what one would.
                lo, rows = self.row_shard or (0, steps.shape[0])
                mine = slice(lo, lo + steps.shape[0])
                explore = torch.rand((rows,), dtype=q_halt.dtype, device=q_halt.device)[mine] < cfg.halt_exploration_prob
                min_steps = explore * torch.randint(
                    2, cfg.halt_max_steps + 1, (rows,), dtype=steps.dtype, device=steps.device
                )[mine]
                halted = halted & (steps >= min_steps)
                if self.bootstraps_q_target:
                    # Bootstrapped Q target from one more segment (no replay buffer / target net:
                    # the batch's many rows play the role of parallel environments).
                    with profiled(Q_TARGET_PASS):
                        next_halt, next_continue = self.inner.q_values(inner_carry, current_data)
                    outputs["target_q_continue"] = torch.sigmoid(
                        torch.where(is_last_step, next_halt, torch.maximum(next_halt, next_continue))
                    )

        return ACTCarry(inner_carry, steps, halted, current_data), outputs
