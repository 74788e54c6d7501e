"""Building blocks of the HRM transformer, in plain torch.

Parameter names (``weight``, ``embedding_weight``, ``qkv_proj``, ``gate_up_proj`` …) follow the
official HRM code so that checkpoints load in both directions with ``strict=True``.
Everything here runs on the CPU; attention goes through
``torch.nn.functional.scaled_dot_product_attention`` (flash-attn is CUDA-only) unless an
:class:`Attention` is given HRM Studio's own kernel (see fused_attention.py).
"""

from __future__ import annotations

import math
from typing import Callable, Optional, Tuple, TypeGuard

import torch
import torch.nn.functional as F
from torch import nn

CosSin = Tuple[torch.Tensor, torch.Tensor]
# (q, k, v, cos_sin) → out, all [batch, seq, heads, head_dim]; q and k before RoPE (in pair order)
# when cos_sin is given: RoPE + SDPA in one (see fused_attention.py).
AttentionKernel = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, Optional[CosSin]], torch.Tensor]

__all__ = [
    "CosSin",
    "AttentionKernel",
    "trunc_normal_init_",
    "rms_norm",
    "swiglu_intermediate_size",
    "CastedLinear",
    "CastedEmbedding",
    "RotaryEmbedding",
    "apply_rotary",
    "rope_pair_order",
    "rotate_pairs",
    "Attention",
    "SwiGLU",
    "Scratch",
]


def trunc_normal_init_(tensor: torch.Tensor, std: float, lower: float = -2.0, upper: float = 2.0) -> torch.Tensor:
    """Fill ``tensor`` in place from a normal truncated at ``[lower, upper]`` standard deviations.

    ``torch.nn.init.trunc_normal_`` truncates but does not rescale, so its samples come out
    with a smaller std than asked for. Like JAX/flax (and the official HRM code), we widen the
    underlying normal so that the *truncated* distribution has exactly ``std``. Sampling by
    inverse CDF (uniform → erfinv) consumes the RNG the same way the official code does, so
    the same seed gives the same initial weights. ``std == 0`` zero-fills (no RNG draw).
    """
    with torch.no_grad():
        if std == 0:
            return tensor.zero_()
        root2 = math.sqrt(2.0)
        cdf_lo = math.erf(lower / root2)  # 2*Phi(lower) - 1
        cdf_hi = math.erf(upper / root2)
        mass = (cdf_hi - cdf_lo) / 2.0  # probability inside the truncation window
        pdf_lo = math.exp(-0.5 * lower * lower) / math.sqrt(2.0 * math.pi)
        pdf_hi = math.exp(-0.5 * upper * upper) / math.sqrt(2.0 * math.pi)
        # Variance of a standard normal truncated to [lower, upper].
        trunc_var = 1.0 - (upper * pdf_hi - lower * pdf_lo) / mass - ((pdf_lo - pdf_hi) / mass) ** 2
        scale = std / math.sqrt(trunc_var)
        tensor.uniform_(cdf_lo, cdf_hi)
        tensor.erfinv_()
        tensor.mul_(root2 * scale)
        tensor.clip_(lower * scale, upper * scale)
    return tensor


def rms_norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    """RMS-normalise the last dimension, without a learned scale.

    Computed in float32 whatever the activation dtype, because bfloat16 squares and means
    lose too much precision; the result is returned in the input dtype.
    """
    if x.dtype in (torch.float32, torch.bfloat16):
        # torch's own op: bit-identical to square, mean, add, rsqrt, multiply, and it computes
        # bfloat16 in float32 by itself, so no upcast copies are made here (tested).
        return F.rms_norm(x, (x.shape[-1],), eps=eps)
    x32 = x.to(torch.float32)
    return (x32 * torch.rsqrt(x32.square().mean(-1, keepdim=True) + eps)).to(x.dtype)


class Scratch:
    """Output buffers that the no-gradient block passes of one segment reuse, one per role.

    A fresh tensor per op means fresh memory, and a freed block of more than a few hundred KiB
    goes back to the operating system, so the next op's output page-faults on first touch: a
    ``[1802, 64] × [64, 512]`` projection (the seed's SwiGLU) took 1.7 ms into a new tensor and
    1.1 ms into a reused one. Only a block's intermediates go here (projections, the attention
    output, the SwiGLU's hidden layer): every state a block returns is a new tensor, because
    callers keep states (the carry, the reasoning recorder). One Scratch serves one segment on
    one thread; the numbers are the same as without it.
    """

    def __init__(self) -> None:
        self._buffers: dict[str, torch.Tensor] = {}

    def take(self, role: str, shape: Tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """The buffer for ``role`` with ``shape`` and ``like``'s dtype and device (its contents
        are whatever the last user left)."""
        buffer = self._buffers.get(role)
        if buffer is None or buffer.shape != shape or buffer.dtype != like.dtype or buffer.device != like.device:
            buffer = self._buffers[role] = torch.empty(shape, dtype=like.dtype, device=like.device)
        return buffer

    def __len__(self) -> int:
        """How many buffers it holds."""
        return len(self._buffers)

    def holds(self, tensor: torch.Tensor) -> bool:
        """Whether ``tensor`` shares memory with one of the buffers."""
        return any(tensor.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
                   for b in self._buffers.values())


def use_scratch(scratch: Optional[Scratch]) -> TypeGuard[Scratch]:
    """Whether a block may write its intermediates into ``scratch``: only where nothing keeps them
    for a backward pass."""
    return scratch is not None and not torch.is_grad_enabled()


def linear_into(x: torch.Tensor, weight: torch.Tensor, scratch: Scratch, role: str) -> torch.Tensor:
    """``F.linear(x, weight)`` (no bias) written into ``scratch``'s ``role`` buffer. ``x``'s leading
    dimensions should flatten to a view (its rows may be strided); otherwise it is copied first."""
    if weight.dtype != x.dtype:
        weight = weight.to(x.dtype)
    out = scratch.take(role, (*x.shape[:-1], weight.shape[0]), x)
    torch.mm(x.reshape(-1, x.shape[-1]), weight.t(), out=out.view(-1, out.shape[-1]))
    return out


def swiglu_intermediate_size(hidden_size: int, expansion: float) -> int:
    """Width of the SwiGLU hidden layer: 2/3 of ``expansion * hidden``, rounded up to 256.

    The 2/3 keeps the parameter count of a plain ``expansion`` MLP; the rounding to a
    multiple of 256 is what official checkpoints were saved with, so it must be kept.
    """
    inter = round(expansion * hidden_size * 2 / 3)
    return -(-inter // 256) * 256


class CastedLinear(nn.Module):
    """``nn.Linear`` whose weight is kept in float32 and cast to the input's dtype on use.

    Master weights stay float32 for the optimiser while activations may run in bfloat16.
    Init is truncated-normal LeCun (std ``1/sqrt(in_features)``) with a zero bias.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(
            trunc_normal_init_(torch.empty(out_features, in_features), std=1.0 / math.sqrt(in_features))
        )
        self.bias: Optional[nn.Parameter] = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = self.weight if self.weight.dtype == x.dtype else self.weight.to(x.dtype)
        bias = self.bias
        if bias is not None and bias.dtype != x.dtype:
            bias = bias.to(x.dtype)
        return F.linear(x, weight, bias)

    def into(self, x: torch.Tensor, scratch: Scratch, role: str) -> torch.Tensor:
        """:meth:`forward` written into ``scratch``'s ``role`` buffer (no-gradient passes)."""
        out = linear_into(x, self.weight, scratch, role)
        return out if self.bias is None else out.add_(self.bias.to(x.dtype))


class CastedEmbedding(nn.Module):
    """Embedding table kept in float32, looked up and returned in ``cast_to``."""

    def __init__(self, num_embeddings: int, embedding_dim: int, init_std: float, cast_to: torch.dtype) -> None:
        super().__init__()
        self.cast_to = cast_to
        self.embedding_weight = nn.Parameter(
            trunc_normal_init_(torch.empty(num_embeddings, embedding_dim), std=init_std)
        )

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        weight = self.embedding_weight
        if weight.dtype != self.cast_to:
            weight = weight.to(self.cast_to)
        return F.embedding(ids, weight)


class RotaryEmbedding(nn.Module):
    """Rotary position tables, computed once and kept as non-persistent buffers.

    Uses the "rotate half" pairing (dimension ``i`` with ``i + dim/2``), as the official code
    does; both tables are ``[max_positions, dim]`` float32 with the frequencies repeated twice.
    Non-persistent, so checkpoints do not contain them and stay official-compatible.
    """

    def __init__(self, dim: int, max_positions: int, base: float) -> None:
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
        angles = torch.outer(torch.arange(max_positions, dtype=torch.float32), inv_freq)
        angles = torch.cat((angles, angles), dim=-1)
        self.register_buffer("cos_cached", angles.cos(), persistent=False)
        self.register_buffer("sin_cached", angles.sin(), persistent=False)

    def forward(self, seq_len: Optional[int] = None) -> CosSin:
        """Return ``(cos, sin)`` for the first ``seq_len`` positions (all of them by default)."""
        if seq_len is None or seq_len == self.cos_cached.shape[0]:
            return self.cos_cached, self.sin_cached
        return self.cos_cached[:seq_len], self.sin_cached[:seq_len]


def apply_rotary(
    q: torch.Tensor, k: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Rotate queries and keys ``[batch, seq, heads, head_dim]`` by their position.

    ``cos``/``sin`` are ``[seq, head_dim]`` tables from :class:`RotaryEmbedding`. Computed in the
    tables' dtype (float32) and cast back, so bfloat16 activations keep accurate angles.
    Works on the two halves directly instead of building ``rotate_half(x)``, which saves a
    full-size negation and concatenation per call while giving the same numbers.
    """
    half = cos.shape[-1] // 2
    cos_h = cos[:, :half].unsqueeze(-2)  # both halves of the table are equal
    sin_h = sin[:, :half].unsqueeze(-2)

    def rotate(x: torch.Tensor) -> torch.Tensor:
        xc = x if x.dtype == cos.dtype else x.to(cos.dtype)
        x1, x2 = xc[..., :half], xc[..., half:]
        out = torch.cat((x1 * cos_h - x2 * sin_h, x2 * cos_h + x1 * sin_h), dim=-1)
        return out if out.dtype == x.dtype else out.to(x.dtype)

    return rotate(q), rotate(k)


def rope_pair_order(num_heads: int, head_dim: int) -> torch.Tensor:
    """Row order for ``qkv_proj.weight`` that puts each RoPE pair ``(i, i + head_dim/2)`` of every
    query and key head next to each other (value rows keep their place).

    Projecting with the reordered weight gives q and k with their rotation pairs adjacent, so
    RoPE becomes one complex multiplication (:func:`rotate_pairs`) instead of eight strided
    elementwise ops. q and k are reordered the same way, so every dot product q·k — and with
    it the attention output — is unchanged; the stored weight keeps the official order.
    """
    half = head_dim // 2
    within = torch.stack((torch.arange(half), torch.arange(half) + half), dim=-1).flatten()
    qk_rows = (torch.arange(2 * num_heads)[:, None] * head_dim + within[None, :]).flatten()
    return torch.cat((qk_rows, torch.arange(2 * num_heads * head_dim, 3 * num_heads * head_dim)))


def rotate_pairs(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """RoPE on ``x [batch, seq, heads, head_dim]`` whose pairs are adjacent (see
    :func:`rope_pair_order`); ``cos``/``sin`` are the ``[seq, head_dim]`` tables.

    The same rotation as :func:`apply_rotary`, as ``(a + ib) · e^{iθ}`` in complex64: one
    vectorised kernel, forward and backward. Computed in float32 and cast back, like
    :func:`apply_rotary`.
    """
    half = cos.shape[-1] // 2
    table = torch.complex(cos[:, :half], sin[:, :half]).unsqueeze(-2)
    x32 = x if x.dtype == torch.float32 else x.to(torch.float32)
    out = torch.view_as_real(torch.view_as_complex(x32.unflatten(-1, (half, 2))) * table).flatten(-2)
    return out if out.dtype == x.dtype else out.to(x.dtype)


class Attention(nn.Module):
    """Non-causal multi-head self-attention with a fused QKV projection and no biases.

    Every token attends to every other (puzzles are not sequences read left to right).
    With RoPE, q and k are projected in pair order (:func:`rope_pair_order`) and rotated by
    one complex multiply; that was 4–6 % of a seed-improved training step (measured).
    ``kernel``, when set, replaces RoPE + ``scaled_dot_product_attention``: it takes q and k
    before rotation (see :class:`~hrm_studio.model.fused_attention.FusedAttention`); same maths,
    not saved in checkpoints.
    """

    def __init__(self, hidden_size: int, head_dim: int, num_heads: int) -> None:
        super().__init__()
        self.head_dim = head_dim
        self.num_heads = num_heads
        self.qkv_proj = CastedLinear(hidden_size, 3 * num_heads * head_dim, bias=False)
        self.o_proj = CastedLinear(num_heads * head_dim, hidden_size, bias=False)
        self.register_buffer("pair_order", rope_pair_order(num_heads, head_dim), persistent=False)
        self.kernel: Optional[AttentionKernel] = None

    def forward(self, x: torch.Tensor, cos_sin: Optional[CosSin] = None,
                queries: Optional[int] = None, scratch: Optional[Scratch] = None) -> torch.Tensor:
        """Self-attention over all of ``x``; with ``queries``, only the first that many positions
        ask (every position is still a key and value), and only their outputs come back. Without
        gradient, ``scratch`` holds the projections (the output is its buffer: use it up before
        the next block)."""
        batch, seq, _ = x.shape
        heads, dim = self.num_heads, self.head_dim
        fused = self.kernel is not None and queries is None
        reuse = scratch if use_scratch(scratch) else None
        if cos_sin is None:
            qkv = self.qkv_proj.into(x, reuse, "qkv") if reuse else self.qkv_proj(x)
            q, k, v = qkv.view(batch, seq, 3 * heads, dim).split(heads, dim=2)
        else:
            weight = self.qkv_proj.weight[self.pair_order]
            qkv = (linear_into(x, weight, reuse, "qkv") if reuse
                   else F.linear(x, weight if weight.dtype == x.dtype else weight.to(x.dtype)))
            qk = qkv[..., : 2 * heads * dim].unflatten(-1, (2 * heads, dim))
            v = qkv[..., 2 * heads * dim:].unflatten(-1, (heads, dim))
            # The kernel applies RoPE itself as it reads q and k (no rotated copies are made).
            q, k = (qk if fused else rotate_pairs(qk, *cos_sin)).split(heads, dim=2)
        if fused:
            assert self.kernel is not None
            out = self.kernel(q, k, v, cos_sin).reshape(batch, seq, heads * dim)
        else:
            if queries is not None:
                q = q[:, :queries]
            # SDPA wants [batch, heads, seq, head_dim] (strided views are as fast as copies here).
            out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
            out = out.transpose(1, 2).reshape(batch, q.shape[1], heads * dim)
        return self.o_proj.into(out, reuse, "o") if reuse else self.o_proj(out)


    @torch.no_grad()
    def attention_weights(self, x: torch.Tensor, cos_sin: Optional[CosSin] = None) -> torch.Tensor:
        """``softmax(q kᵀ / sqrt(head_dim))`` ``[batch, heads, queries, keys]`` (float32) for input
        ``x``: what :meth:`forward` mixes values with, recomputed from the same q and k for the
        reasoning inspector only (SDPA never hands its weights out)."""
        batch, seq, _ = x.shape
        heads, dim = self.num_heads, self.head_dim
        if cos_sin is None:
            q, k, _ = self.qkv_proj(x).view(batch, seq, 3 * heads, dim).split(heads, dim=2)
        else:
            weight = self.qkv_proj.weight[self.pair_order]
            qkv = F.linear(x, weight if weight.dtype == x.dtype else weight.to(x.dtype))
            qk = qkv[..., : 2 * heads * dim].unflatten(-1, (2 * heads, dim))
            q, k = rotate_pairs(qk, *cos_sin).split(heads, dim=2)
        scores = torch.einsum("bqhd,bkhd->bhqk", q.float(), k.float()) / math.sqrt(dim)
        return torch.softmax(scores, dim=-1)


class SwiGLU(nn.Module):
    """Gated MLP: ``down(silu(gate) * up)`` with gate and up fused in one projection."""

    def __init__(self, hidden_size: int, expansion: float) -> None:
        super().__init__()
        inter = swiglu_intermediate_size(hidden_size, expansion)
        self.gate_up_proj = CastedLinear(hidden_size, 2 * inter, bias=False)
        self.down_proj = CastedLinear(inter, hidden_size, bias=False)

    def forward(self, x: torch.Tensor, scratch: Optional[Scratch] = None) -> torch.Tensor:
        """Without gradient, ``scratch`` holds the hidden layer and the output (its buffer) when
        ``x`` is contiguous (a transposed ``x`` would be copied, and multiplied in another order)."""
        if not use_scratch(scratch) or not x.is_contiguous():
            gate, up = self.gate_up_proj(x).chunk(2, dim=-1)
            return self.down_proj(F.silu(gate) * up)
        gate, up = self.gate_up_proj.into(x, scratch, "gate_up").chunk(2, dim=-1)
        F.silu(gate, inplace=True).mul_(up)  # the same numbers as silu(gate) * up
        return self.down_proj.into(gate, scratch, "down")
