"""The official ``hrm_act_v1`` training step in plain PyTorch, written from hrm-spec.md: the yardstick
HRM Studio's own step is timed against (issue 21).

"The official code as it runs on a CPU": module for module what the official repository computes —
rotate-half RoPE on q and k, ``scaled_dot_product_attention`` (its flash-attn is CUDA-only), an RMS norm
written out in float32, SwiGLU, the post-norm block, the 1-step-gradient segment, the ACT wrapper with
its Q-target forward (a whole second segment, every position and the LM head included, under
``no_grad``), the ACT loss head with its metrics, stablemax in float64, then backward, the optimiser
step and the puzzle embedding's sign-SGD. No fused kernels, no shortcuts: where HRM Studio computes
something differently (its attention kernel, rotation-pair q/k, the Q-target pass that stops at
position 0) this file keeps the plain way, so the ratio of the two step times is what those changes buy.

Nothing here imports ``hrm_studio.model``: the reference is built from the same config object (plain
fields under the official names) and takes its weights from our model's state dict (``strict=True``,
the keys are the official ones), so a wrong key or shape fails loudly. TRM's inner model is in
``reference_trm.py``; it shares everything else here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

Tensor = torch.Tensor
Batch = Dict[str, Tensor]
IGNORE = -100


# ---------------------------------------------------------------------------------------------
# Layers (the official models/layers.py, CPU flavour)
# ---------------------------------------------------------------------------------------------

class CastedLinear(nn.Module):
    """Float32 master weight, cast to the activations' dtype at every call."""

    def __init__(self, fan_in: int, fan_out: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(fan_out, fan_in) / math.sqrt(fan_in))
        self.bias = nn.Parameter(torch.zeros(fan_out)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        bias = None if self.bias is None else self.bias.to(x.dtype)
        return F.linear(x, self.weight.to(x.dtype), bias)


class CastedEmbedding(nn.Module):
    def __init__(self, rows: int, dim: int, dtype: torch.dtype) -> None:
        super().__init__()
        self.dtype = dtype
        self.embedding_weight = nn.Parameter(torch.randn(rows, dim) / math.sqrt(dim))

    def forward(self, ids: Tensor) -> Tensor:
        return F.embedding(ids, self.embedding_weight.to(self.dtype))


class SparseEmbedding(nn.Module):
    """The puzzle embedding: a table held as a buffer; a training forward copies the batch's rows into a
    leaf tensor that collects their gradient for the sign-SGD step (as the official sparse embedding)."""

    def __init__(self, rows: int, dim: int, batch_size: int, dtype: torch.dtype) -> None:
        super().__init__()
        self.dtype = dtype
        self.register_buffer("weights", torch.zeros(rows, dim), persistent=True)
        self.register_buffer("local_weights", torch.zeros(batch_size, dim, requires_grad=True), persistent=False)
        self.register_buffer("local_ids", torch.zeros(batch_size, dtype=torch.int32), persistent=False)

    def forward(self, ids: Tensor) -> Tensor:
        if not self.training:
            return self.weights[ids].to(self.dtype)
        with torch.no_grad():
            self.local_weights.copy_(self.weights[ids])
            self.local_ids.copy_(ids)
        return self.local_weights.to(self.dtype)

    @torch.no_grad()
    def sign_sgd_step(self, lr: float, weight_decay: float) -> None:
        """``w ← w·(1 − lr·wd) − lr·sign(Σ grad)`` on the rows the batch used (gradients of one id summed)."""
        grad = self.local_weights.grad
        if grad is None:
            return
        ids, inverse = self.local_ids.long().unique(return_inverse=True)
        summed = torch.zeros(ids.shape[0], grad.shape[1], dtype=grad.dtype)
        summed.scatter_add_(0, inverse.unsqueeze(-1).expand(-1, grad.shape[1]), grad)
        rows = self.weights[ids]
        rows.mul_(1.0 - lr * weight_decay).add_(torch.sign(summed), alpha=-lr)
        self.weights[ids] = rows
        self.local_weights.grad = None


class RotaryEmbedding(nn.Module):
    def __init__(self, dim: int, positions: int, base: float) -> None:
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
        freqs = torch.outer(torch.arange(positions, dtype=torch.float32), inv_freq)
        angles = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos_cached", angles.cos(), persistent=False)
        self.register_buffer("sin_cached", angles.sin(), persistent=False)

    def forward(self) -> Tuple[Tensor, Tensor]:
        return self.cos_cached, self.sin_cached


def rotate_half(x: Tensor) -> Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(q: Tensor, k: Tensor, cos: Tensor, sin: Tensor) -> Tuple[Tensor, Tensor]:
    """Rotate ``[B, S, H, D]`` queries and keys in the tables' dtype (float32), cast back."""
    dtype = q.dtype
    q, k = q.to(cos.dtype), k.to(cos.dtype)
    c, s = cos.unsqueeze(-2), sin.unsqueeze(-2)
    return (q * c + rotate_half(q) * s).to(dtype), (k * c + rotate_half(k) * s).to(dtype)


class Attention(nn.Module):
    def __init__(self, hidden: int, heads: int) -> None:
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.qkv_proj = CastedLinear(hidden, 3 * hidden, bias=False)
        self.o_proj = CastedLinear(hidden, hidden, bias=False)

    def forward(self, x: Tensor, cos_sin: Optional[Tuple[Tensor, Tensor]]) -> Tensor:
        B, S, D = x.shape
        qkv = self.qkv_proj(x).view(B, S, 3 * self.heads, self.head_dim)
        q, k, v = qkv[:, :, :self.heads], qkv[:, :, self.heads:2 * self.heads], qkv[:, :, 2 * self.heads:]
        if cos_sin is not None:
            q, k = apply_rope(q, k, *cos_sin)
        out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        return self.o_proj(out.transpose(1, 2).reshape(B, S, D))


def swiglu_width(hidden: int, expansion: float) -> int:
    return -(-round(expansion * hidden * 2 / 3) // 256) * 256


class SwiGLU(nn.Module):
    def __init__(self, hidden: int, expansion: float) -> None:
        super().__init__()
        inter = swiglu_width(hidden, expansion)
        self.gate_up_proj = CastedLinear(hidden, 2 * inter, bias=False)
        self.down_proj = CastedLinear(inter, hidden, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        gate, up = self.gate_up_proj(x).chunk(2, dim=-1)
        return self.down_proj(F.silu(gate) * up)


def rms_norm(x: Tensor, eps: float) -> Tensor:
    dtype = x.dtype
    x = x.to(torch.float32)
    return (x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps)).to(dtype)


class Block(nn.Module):
    """Post-norm: ``h = norm(h + attn(h)); h = norm(h + mlp(h))``."""

    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.self_attn = Attention(cfg.hidden_size, cfg.num_heads)
        self.mlp = SwiGLU(cfg.hidden_size, cfg.expansion)
        self.eps = cfg.rms_norm_eps

    def forward(self, h: Tensor, cos_sin: Optional[Tuple[Tensor, Tensor]]) -> Tensor:
        h = rms_norm(h + self.self_attn(h, cos_sin), self.eps)
        return rms_norm(h + self.mlp(h), self.eps)


class Level(nn.Module):
    """A reasoning module: add the injection, run the blocks."""

    def __init__(self, cfg: Any, layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(Block(cfg) for _ in range(layers))

    def forward(self, z: Tensor, injection: Tensor, cos_sin: Optional[Tuple[Tensor, Tensor]]) -> Tensor:
        z = z + injection
        for layer in self.layers:
            z = layer(z, cos_sin)
        return z


# ---------------------------------------------------------------------------------------------
# The inner model (one ACT segment)
# ---------------------------------------------------------------------------------------------

@dataclass
class Carry:
    z_H: Tensor
    z_L: Tensor
    steps: Tensor
    halted: Tensor
    data: Batch


class InnerIO(nn.Module):
    """Embeddings, heads, positions and initial states, as both official inner models build them;
    subclasses add their levels and ``segment``."""

    def _build_io(self, cfg: Any, prefix: int) -> None:
        self.cfg, self.prefix, self.dtype = cfg, prefix, getattr(torch, cfg.forward_dtype)
        D = cfg.hidden_size
        self.embed_tokens = CastedEmbedding(cfg.vocab_size, D, self.dtype)
        self.lm_head = CastedLinear(D, cfg.vocab_size, bias=False)
        self.q_head = CastedLinear(D, 2, bias=True)
        if cfg.puzzle_emb_ndim > 0:
            self.puzzle_emb = SparseEmbedding(cfg.num_puzzle_identifiers, cfg.puzzle_emb_ndim, cfg.batch_size,
                                              self.dtype)
        self.rotary_emb = None
        if cfg.pos_encodings == "rope":
            self.rotary_emb = RotaryEmbedding(D // cfg.num_heads, cfg.seq_len + prefix, cfg.rope_theta)
        elif cfg.pos_encodings == "learned":
            self.embed_pos = CastedEmbedding(cfg.seq_len + prefix, D, self.dtype)

    def _build_states(self) -> None:
        D = self.cfg.hidden_size
        self.register_buffer("H_init", torch.randn(D, dtype=self.dtype), persistent=True)
        self.register_buffer("L_init", torch.randn(D, dtype=self.dtype), persistent=True)

    def embed(self, inputs: Tensor, ids: Tensor) -> Tensor:
        D = self.cfg.hidden_size
        x = self.embed_tokens(inputs.to(torch.int32))
        if self.cfg.puzzle_emb_ndim > 0:
            rows = self.puzzle_emb(ids)
            pad = self.prefix * D - rows.shape[-1]
            if pad > 0:
                rows = F.pad(rows, (0, pad))
            x = torch.cat((rows.view(-1, self.prefix, D), x), dim=-2)
        if self.cfg.pos_encodings == "learned":
            x = 0.707106781 * (x + self.embed_pos.embedding_weight.to(self.dtype))
        return math.sqrt(D) * x

    def segment(self, z_H: Tensor, z_L: Tensor, x: Tensor, cos_sin: Any) -> Tuple[Tensor, Tensor]:
        raise NotImplementedError

    def forward(self, z_H: Tensor, z_L: Tensor, data: Batch) -> Tuple[Tensor, Tensor, Tensor, Tensor]:
        """New (detached) states, logits over the tokens and the float32 Q logits ``[B, 2]``."""
        cos_sin = self.rotary_emb() if self.rotary_emb is not None else None
        x = self.embed(data["inputs"], data["puzzle_identifiers"])
        z_H, z_L = self.segment(z_H, z_L, x, cos_sin)
        logits = self.lm_head(z_H)[:, self.prefix:]
        q = self.q_head(z_H[:, 0]).to(torch.float32)
        return z_H.detach(), z_L.detach(), logits, q


class HRMInner(InnerIO):
    """HRM: H_cycles × L_cycles updates, all but the last L and H one without gradient."""

    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self._build_io(cfg, -(-cfg.puzzle_emb_ndim // cfg.hidden_size))
        self.H_level = Level(cfg, cfg.H_layers)
        self.L_level = Level(cfg, cfg.L_layers)
        self._build_states()

    def segment(self, z_H: Tensor, z_L: Tensor, x: Tensor, cos_sin: Any) -> Tuple[Tensor, Tensor]:
        H, L = self.cfg.H_cycles, self.cfg.L_cycles
        with torch.no_grad():
            for h in range(H):
                for l in range(L):
                    if not (h == H - 1 and l == L - 1):
                        z_L = self.L_level(z_L, z_H + x, cos_sin)
                if h != H - 1:
                    z_H = self.H_level(z_H, z_L, cos_sin)
        z_L = self.L_level(z_L, z_H + x, cos_sin)
        return self.H_level(z_H, z_L, cos_sin), z_L


# ---------------------------------------------------------------------------------------------
# ACT wrapper, loss head, one training step
# ---------------------------------------------------------------------------------------------

class ACT(nn.Module):
    """The official ACT wrapper. ``halt_on_q_halt``: TRM's ``no_ACT_continue`` (halt when q_halt > 0, no
    Q target); otherwise halt when q_halt > q_continue and bootstrap q_continue from a second segment."""

    def __init__(self, inner: InnerIO, halt_on_q_halt: bool = False) -> None:
        super().__init__()
        self.inner, self.cfg, self.halt_on_q_halt = inner, inner.cfg, halt_on_q_halt

    def initial_carry(self, batch: Batch) -> Carry:
        B = batch["inputs"].shape[0]
        shape = (B, self.cfg.seq_len + self.inner.prefix, self.cfg.hidden_size)
        return Carry(torch.zeros(shape, dtype=self.inner.dtype), torch.zeros(shape, dtype=self.inner.dtype),
                     torch.zeros(B, dtype=torch.int32), torch.ones(B, dtype=torch.bool),
                     {k: torch.zeros_like(v) for k, v in batch.items()})

    def forward(self, carry: Carry, batch: Batch) -> Tuple[Carry, Dict[str, Tensor]]:
        cfg, halted_before = self.cfg, carry.halted
        flag = halted_before.view(-1, 1, 1)
        z_H = torch.where(flag, self.inner.H_init, carry.z_H)
        z_L = torch.where(flag, self.inner.L_init, carry.z_L)
        steps = torch.where(halted_before, 0, carry.steps)
        data = {k: torch.where(halted_before.view((-1,) + (1,) * (batch[k].ndim - 1)), batch[k], v)
                for k, v in carry.data.items()}
        z_H, z_L, logits, q = self.inner(z_H, z_L, data)
        out = {"logits": logits, "q_halt_logits": q[:, 0], "q_continue_logits": q[:, 1]}
        with torch.no_grad():
            steps = steps + 1
            last = steps >= cfg.halt_max_steps
            halted = last
            if self.training and cfg.halt_max_steps > 1:
                q_halt, q_cont = out["q_halt_logits"], out["q_continue_logits"]
                halted = halted | ((q_halt > 0) if self.halt_on_q_halt else (q_halt > q_cont))
                explore = torch.rand_like(q_halt) < cfg.halt_exploration_prob
                halted = halted & (steps >= explore * torch.randint_like(steps, 2, cfg.halt_max_steps + 1))
                if not self.halt_on_q_halt:  # the Q-target forward: one more whole segment
                    next_q = self.inner(z_H, z_L, data)[3]
                    out["target_q_continue"] = torch.sigmoid(
                        torch.where(last, next_q[:, 0], torch.maximum(next_q[:, 0], next_q[:, 1])))
        return Carry(z_H, z_L, steps, halted, data), out


def stablemax_cross_entropy(logits: Tensor, labels: Tensor) -> Tensor:
    x = logits.to(torch.float64)
    s = torch.where(x < 0, 1 / (1 - x + 1e-30), x + 1)
    logp = torch.log(s / s.sum(-1, keepdim=True))
    valid = labels != IGNORE
    picked = torch.gather(logp, -1, torch.where(valid, labels, 0).long().unsqueeze(-1)).squeeze(-1)
    return -torch.where(valid, picked, 0)


def softmax_cross_entropy(logits: Tensor, labels: Tensor) -> Tensor:
    return F.cross_entropy(logits.to(torch.float32).flatten(0, -2), labels.long().flatten(),
                           ignore_index=IGNORE, reduction="none").view(labels.shape)


LOSSES: Dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "stablemax_cross_entropy": stablemax_cross_entropy, "softmax_cross_entropy": softmax_cross_entropy}


class LossHead(nn.Module):
    """The official ACT loss head: ``lm_loss + 0.5·(q_halt_loss + q_continue_loss)`` and its metrics."""

    def __init__(self, model: ACT, loss_type: str) -> None:
        super().__init__()
        self.model, self.loss_fn = model, LOSSES[loss_type]

    def forward(self, carry: Carry, batch: Batch) -> Tuple[Carry, Tensor, Dict[str, Tensor]]:
        carry, out = self.model(carry, batch)
        labels = carry.data["labels"]
        with torch.no_grad():
            mask = labels != IGNORE
            counts = mask.sum(-1)
            divisor = counts.clamp_min(1).unsqueeze(-1)
            correct = mask & (out["logits"].argmax(-1) == labels)
            seq_correct = correct.sum(-1) == counts
            valid = carry.halted & (counts > 0)
            metrics = {"count": valid.sum(),
                       "accuracy": torch.where(valid, (correct.float() / divisor).sum(-1), 0).sum(),
                       "exact_accuracy": (valid & seq_correct).sum(),
                       "q_halt_accuracy": (valid & ((out["q_halt_logits"] >= 0) == seq_correct)).sum(),
                       "steps": torch.where(valid, carry.steps, 0).sum()}
        lm_loss = (self.loss_fn(out["logits"], labels) / divisor).sum()
        q_halt_loss = F.binary_cross_entropy_with_logits(out["q_halt_logits"], seq_correct.to(torch.float32),
                                                         reduction="sum")
        q_continue_loss = 0
        if "target_q_continue" in out:
            q_continue_loss = F.binary_cross_entropy_with_logits(out["q_continue_logits"], out["target_q_continue"],
                                                                 reduction="sum")
        metrics.update(lm_loss=lm_loss.detach(), q_halt_loss=q_halt_loss.detach())
        return carry, lm_loss + 0.5 * (q_halt_loss + q_continue_loss), metrics


def reference_step(head: LossHead, train: Any, batch: Batch) -> Callable[[], float]:
    """One official training step on a fixed batch, the ACT carry kept between calls: forward, loss ÷
    batch, backward, Adam(W) with the run's settings, sign-SGD on the puzzle embedding. Returns a
    function that runs one step and gives its loss."""
    params = [p for p in head.parameters() if p.requires_grad]
    kind = torch.optim.Adam if train.optimizer == "adam" else torch.optim.AdamW
    opt = kind(params, lr=train.lr, betas=(train.beta1, train.beta2), weight_decay=train.weight_decay)
    emb = getattr(head.model.inner, "puzzle_emb", None)
    head.train()
    state = {"carry": head.model.initial_carry(batch)}
    size = batch["inputs"].shape[0]

    def step() -> float:
        carry, loss, _ = head(state["carry"], batch)
        (loss / size).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if emb is not None:
            emb.sign_sgd_step(train.puzzle_emb_lr, train.puzzle_emb_weight_decay)
        state["carry"] = carry
        return float(loss.detach())

    return step


def hrm_reference(cfg: Any, loss_type: str, weights: Dict[str, Tensor]) -> LossHead:
    """The official HRM with `weights` (our model's state dict: the official keys)."""
    head = LossHead(ACT(HRMInner(cfg)), loss_type)
    head.model.load_state_dict(weights, strict=True)
    return head
