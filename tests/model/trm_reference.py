"""A plain-torch TRM written from the published update rule (trm-spec.md), for the parity tests.

Deliberately independent of hrm_studio.model: it reads an upstream-style state dict (keys as in
trm-spec.md, prefix stripped) and computes everything with the textbook operations — rotate-half
RoPE, torch's scaled_dot_product_attention, square/mean/rsqrt RMS norm, stablemax from its
definition — so an error in our layers, recursion, halting or loss cannot cancel out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, Optional

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


@dataclass
class RefState:
    """The ACT loop's carry: both states, segment counts, halted rows and each row's example."""

    z_H: Tensor
    z_L: Tensor
    steps: Tensor
    halted: Tensor
    data: Dict[str, Tensor]


def prefix_len(cfg: Any) -> int:
    if cfg.puzzle_emb_ndim == 0:
        return 0
    return cfg.puzzle_emb_len if cfg.puzzle_emb_len else math.ceil(cfg.puzzle_emb_ndim / cfg.hidden_size)


def rms(x: Tensor, eps: float) -> Tensor:
    return x * torch.rsqrt(x.square().mean(-1, keepdim=True) + eps)


def swiglu(P: Dict[str, Tensor], name: str, x: Tensor) -> Tensor:
    gate, up = (x @ P[name + "gate_up_proj.weight"].T).chunk(2, dim=-1)
    return (F.silu(gate) * up) @ P[name + "down_proj.weight"].T


def rope_tables(cfg: Any, length: int) -> tuple[Tensor, Tensor]:
    dim = cfg.hidden_size // cfg.num_heads
    inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    freqs = torch.outer(torch.arange(length, dtype=torch.float32), inv_freq)
    angles = torch.cat((freqs, freqs), dim=-1)
    return angles.cos(), angles.sin()


def rotate(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos[:, None, :] + rotated * sin[:, None, :]


def attention(P: Dict[str, Tensor], name: str, h: Tensor, cfg: Any, tables: Optional[tuple]) -> Tensor:
    B, L, D = h.shape
    heads, dim = cfg.num_heads, D // cfg.num_heads
    qkv = (h @ P[name + "qkv_proj.weight"].T).view(B, L, 3 * heads, dim)
    q, k, v = qkv[:, :, :heads], qkv[:, :, heads:2 * heads], qkv[:, :, 2 * heads:]
    if tables is not None:
        q, k = rotate(q, *tables), rotate(k, *tables)
    out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
    return out.transpose(1, 2).reshape(B, L, D) @ P[name + "o_proj.weight"].T


def net(P: Dict[str, Tensor], h: Tensor, injection: Tensor, cfg: Any, tables: Optional[tuple]) -> Tensor:
    """The one network: add the injection, then L_layers post-norm blocks."""
    h = h + injection
    eps = cfg.rms_norm_eps
    for i in range(cfg.L_layers):
        name = f"inner.L_level.layers.{i}."
        if cfg.mlp_t:
            t = h.transpose(1, 2)  # [B, D, L]: the MLP and its norm run along the sequence
            h = rms(t + swiglu(P, name + "mlp_t.", t), eps).transpose(1, 2)
        else:
            h = rms(h + attention(P, name + "self_attn.", h, cfg, tables), eps)
        h = rms(h + swiglu(P, name + "mlp.", h), eps)
    return h


def embed(P: Dict[str, Tensor], inputs: Tensor, puzzle_rows: Optional[Tensor], cfg: Any) -> Tensor:
    D = cfg.hidden_size
    x = P["inner.embed_tokens.embedding_weight"][inputs.long()]
    if puzzle_rows is not None:
        n = prefix_len(cfg)
        padded = F.pad(puzzle_rows, (0, n * D - puzzle_rows.shape[-1]))
        x = torch.cat((padded.view(-1, n, D), x), dim=1)
    if cfg.pos_encodings == "learned":
        x = 0.707106781 * (x + P["inner.embed_pos.embedding_weight"])
    return math.sqrt(D) * x


def segment(P: Dict[str, Tensor], z_H: Tensor, z_L: Tensor, x: Tensor, cfg: Any) -> tuple[Tensor, Tensor]:
    """H_cycles - 1 recursions without gradient, then one with."""
    tables = rope_tables(cfg, x.shape[1]) if cfg.pos_encodings == "rope" and not cfg.mlp_t else None
    with torch.no_grad():
        for _ in range(cfg.H_cycles - 1):
            for _ in range(cfg.L_cycles):
                z_L = net(P, z_L, z_H + x, cfg, tables)
            z_H = net(P, z_H, z_L, cfg, tables)
    for _ in range(cfg.L_cycles):
        z_L = net(P, z_L, z_H + x, cfg, tables)
    z_H = net(P, z_H, z_L, cfg, tables)
    return z_H, z_L


def heads(P: Dict[str, Tensor], z_H: Tensor, cfg: Any) -> tuple[Tensor, Tensor]:
    logits = (z_H @ P["inner.lm_head.weight"].T)[:, prefix_len(cfg):]
    q = z_H[:, 0] @ P["inner.q_head.weight"].T + P["inner.q_head.bias"]
    return logits, q.to(torch.float32)


def initial_state(batch: Dict[str, Tensor], cfg: Any) -> RefState:
    B = batch["inputs"].shape[0]
    shape = (B, cfg.seq_len + prefix_len(cfg), cfg.hidden_size)
    return RefState(torch.zeros(shape), torch.zeros(shape), torch.zeros(B, dtype=torch.int32),
                    torch.ones(B, dtype=torch.bool), {k: torch.zeros_like(v) for k, v in batch.items()})


def act_step(P: Dict[str, Tensor], state: RefState, batch: Dict[str, Tensor], cfg: Any,
             training: bool) -> tuple[RefState, Dict[str, Tensor]]:
    """One ACT segment: refill halted rows, recurse, decide halting (trm-spec.md, "Halting")."""
    reset = state.halted.view(-1, 1, 1)
    z_H = torch.where(reset, P["inner.H_init"], state.z_H)
    z_L = torch.where(reset, P["inner.L_init"], state.z_L)
    steps = torch.where(state.halted, 0, state.steps)
    data = {k: torch.where(state.halted.view((-1,) + (1,) * (v.ndim - 1)), batch[k], v)
            for k, v in state.data.items()}
    rows = None
    if cfg.puzzle_emb_ndim > 0:
        rows = P["inner.puzzle_emb.weights"][data["puzzle_identifiers"].long()].detach()
        rows.requires_grad_(training)
    x = embed(P, data["inputs"], rows, cfg)
    z_H, z_L = segment(P, z_H, z_L, x, cfg)
    logits, q = heads(P, z_H, cfg)
    out = {"logits": logits, "q_halt_logits": q[:, 0], "q_continue_logits": q[:, 1], "puzzle_rows": rows}
    with torch.no_grad():
        steps = steps + 1
        last = steps >= cfg.halt_max_steps
        halted = last
        if training and cfg.halt_max_steps > 1:
            q_halt, q_cont = q[:, 0], q[:, 1]
            halted = halted | ((q_halt > 0) if cfg.no_ACT_continue else (q_halt > q_cont))
            explore = torch.rand_like(q_halt) < cfg.halt_exploration_prob
            min_steps = explore * torch.randint(2, cfg.halt_max_steps + 1, steps.shape, dtype=steps.dtype)
            halted = halted & (steps >= min_steps)
            if not cfg.no_ACT_continue:
                x_next = embed(P, data["inputs"], None if rows is None else rows.detach(), cfg)
                _, next_q = heads(P, segment(P, z_H, z_L, x_next, cfg)[0], cfg)
                out["target_q_continue"] = torch.sigmoid(
                    torch.where(last, next_q[:, 0], torch.maximum(next_q[:, 0], next_q[:, 1])))
    return RefState(z_H.detach(), z_L.detach(), steps, halted, data), out


def token_losses(logits: Tensor, labels: Tensor, loss_type: str) -> Tensor:
    """Per-token loss, 0 where the label is ignored (-100)."""
    valid = labels != -100
    safe = torch.where(valid, labels, 0).long()
    if loss_type == "stablemax_cross_entropy":
        x = logits.double()
        s = torch.where(x < 0, 1 / (1 - x + 1e-30), x + 1)
        logp = torch.log(s / s.sum(-1, keepdim=True))
    else:
        logp = torch.log_softmax(logits.float(), dim=-1)
    picked = logp.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    return torch.where(valid, -picked, 0)


def loss(out: Dict[str, Tensor], labels: Tensor, loss_type: str) -> Tensor:
    """lm_loss + 0.5 * (q_halt_loss [+ q_continue_loss]), each summed over rows."""
    valid = labels != -100
    count = valid.sum(-1)
    lm = (token_losses(out["logits"], labels, loss_type).sum(-1) / count).sum()
    correct = ((out["logits"].argmax(-1) == labels) | ~valid).all(-1)
    q_loss = F.binary_cross_entropy_with_logits(out["q_halt_logits"], correct.float(), reduction="sum")
    if "target_q_continue" in out:
        q_loss = q_loss + F.binary_cross_entropy_with_logits(out["q_continue_logits"], out["target_q_continue"],
                                                             reduction="sum")
    return lm + 0.5 * q_loss
