"""Layers: init, RMS norm, SwiGLU sizing, casting, RoPE and attention against direct formulas."""

from __future__ import annotations

import math

import pytest
import torch

from hrm_studio.model.layers import (
    Attention,
    CastedEmbedding,
    CastedLinear,
    RotaryEmbedding,
    SwiGLU,
    apply_rotary,
    rms_norm,
    rope_pair_order,
    rotate_pairs,
    swiglu_intermediate_size,
    trunc_normal_init_,
)


def test_trunc_normal_has_requested_std_and_is_truncated_at_two_sigma_of_the_base() -> None:
    torch.manual_seed(0)
    x = trunc_normal_init_(torch.empty(400_000), std=0.5)
    assert x.std().item() == pytest.approx(0.5, rel=0.01)  # rescaled: the *result* has std 0.5
    # The base normal is widened by 1/sqrt(var of a N(0,1) truncated at ±2) ≈ 1.1373.
    base = 0.5 * 1.1373
    assert x.abs().max().item() <= 2 * base + 1e-6
    assert x.abs().max().item() > 2 * base * 0.99  # really reaches the truncation edge
    assert x.mean().abs().item() < 0.005


def test_trunc_normal_zero_std_gives_zeros() -> None:
    x = trunc_normal_init_(torch.full((5, 3), 7.0), std=0.0)
    assert torch.equal(x, torch.zeros(5, 3))


def test_rms_norm_matches_hand_computation() -> None:
    x = torch.tensor([[3.0, 4.0], [1.0, -1.0]])
    eps = 1e-5
    expected = torch.tensor(
        [[3 / math.sqrt(12.5 + eps), 4 / math.sqrt(12.5 + eps)], [1 / math.sqrt(1 + eps), -1 / math.sqrt(1 + eps)]]
    )
    torch.testing.assert_close(rms_norm(x, eps), expected, rtol=1e-6, atol=1e-7)
    # A large eps visibly changes the result, so eps is really used.
    torch.testing.assert_close(rms_norm(x, 1.0)[1], torch.tensor([1 / math.sqrt(2.0), -1 / math.sqrt(2.0)]))


def test_rms_norm_bfloat16_is_computed_in_float32_and_returned_in_bfloat16() -> None:
    torch.manual_seed(0)
    x = (torch.randn(4, 64) * 30).to(torch.bfloat16)
    out = rms_norm(x, 1e-5)
    assert out.dtype == torch.bfloat16
    x32 = x.float()
    expected = x32 / torch.sqrt(x32.pow(2).mean(-1, keepdim=True) + 1e-5)
    torch.testing.assert_close(out.float(), expected, rtol=8e-3, atol=1e-3)


@pytest.mark.parametrize(
    "hidden,expansion,inter",
    [(64, 2, 256), (128, 2.5, 256), (512, 4, 1536), (384, 4, 1024), (100, 4, 512), (256, 4, 768)],
)
def test_swiglu_intermediate_is_two_thirds_rounded_up_to_256(hidden: int, expansion: float, inter: int) -> None:
    assert swiglu_intermediate_size(hidden, expansion) == inter
    mlp = SwiGLU(hidden, expansion)
    assert tuple(mlp.gate_up_proj.weight.shape) == (2 * inter, hidden)
    assert tuple(mlp.down_proj.weight.shape) == (hidden, inter)


def test_swiglu_first_half_is_gate_second_half_is_up() -> None:
    torch.manual_seed(0)
    mlp = SwiGLU(8, 2)
    x = torch.randn(2, 8)
    w = mlp.gate_up_proj.weight
    inter = w.shape[0] // 2
    gate, up = x @ w[:inter].T, x @ w[inter:].T
    expected = (gate * torch.sigmoid(gate) * up) @ mlp.down_proj.weight.T
    torch.testing.assert_close(mlp(x), expected)


def test_casted_linear_init_and_dtype_cast() -> None:
    torch.manual_seed(0)
    lin = CastedLinear(256, 512, bias=True)
    assert lin.weight.std().item() == pytest.approx(1 / math.sqrt(256), rel=0.03)
    assert torch.equal(lin.bias, torch.zeros(512))
    assert CastedLinear(4, 3, bias=False).bias is None
    x = torch.randn(2, 256).to(torch.bfloat16)
    out = lin(x)
    assert out.dtype == torch.bfloat16 and lin.weight.dtype == torch.float32


def test_casted_embedding_lookup_and_cast() -> None:
    torch.manual_seed(0)
    emb = CastedEmbedding(10, 4, init_std=0.25, cast_to=torch.bfloat16)
    ids = torch.tensor([[3, 0, 9]])
    out = emb(ids)
    assert out.dtype == torch.bfloat16 and emb.embedding_weight.dtype == torch.float32
    assert torch.equal(out[0, 2], emb.embedding_weight[9].to(torch.bfloat16))


def test_rope_matches_direct_rotation_formula() -> None:
    torch.manual_seed(0)
    batch, seq, heads, dim, base = 2, 7, 3, 8, 10000.0
    rope = RotaryEmbedding(dim, max_positions=11, base=base)
    cos, sin = rope(seq)
    assert cos.shape == (seq, dim)
    q, k = torch.randn(batch, seq, heads, dim), torch.randn(batch, seq, heads, dim)
    q_rot, k_rot = apply_rotary(q, k, cos, sin)

    def direct(x: torch.Tensor) -> torch.Tensor:
        # Pair dimension i with i + dim/2 and rotate the pair by angle pos * base^(-2i/dim).
        x = x.double()
        out = torch.empty_like(x)
        half = dim // 2
        for i in range(half):
            theta = torch.arange(seq, dtype=torch.float64) * base ** (-2 * i / dim)
            c, s = theta.cos().view(1, seq, 1), theta.sin().view(1, seq, 1)
            a, b = x[..., i], x[..., i + half]
            out[..., i] = a * c - b * s
            out[..., i + half] = b * c + a * s
        return out

    torch.testing.assert_close(q_rot.double(), direct(q), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(k_rot.double(), direct(k), rtol=1e-5, atol=1e-5)


def test_rotation_in_pair_order_equals_rotate_half_rope() -> None:
    """The fast path (q/k rows reordered into pairs, one complex multiply) is the same RoPE."""
    torch.manual_seed(0)
    batch, seq, heads, dim = 2, 7, 3, 8
    cos, sin = RotaryEmbedding(dim, seq, 10000.0)()
    qkv = torch.randn(batch, seq, 3 * heads, dim)
    order = rope_pair_order(heads, dim)
    assert sorted(order.tolist()) == list(range(3 * heads * dim))
    assert order[2 * heads * dim:].tolist() == list(range(2 * heads * dim, 3 * heads * dim))  # v untouched
    paired = qkv.flatten(-2)[..., order].view(batch, seq, 3 * heads, dim)
    q_rot, k_rot = apply_rotary(qkv[:, :, :heads], qkv[:, :, heads:2 * heads], cos, sin)
    rotated = rotate_pairs(paired[:, :, :2 * heads], cos, sin)
    inverse = torch.argsort(order[:2 * heads * dim])
    torch.testing.assert_close(rotated.flatten(-2)[..., inverse], torch.cat((q_rot, k_rot), 2).flatten(-2))


def test_rope_tables_are_cached_sliced_and_not_persistent() -> None:
    rope = RotaryEmbedding(8, max_positions=20, base=10000.0)
    cos_full, _ = rope()
    cos5, sin5 = rope(5)
    assert cos_full.shape == (20, 8) and cos5.shape == (5, 8)
    assert cos5.data_ptr() == cos_full.data_ptr()  # a view of the cache, not a recomputation
    assert torch.equal(cos5[0], torch.ones(8)) and torch.equal(sin5[0], torch.zeros(8))
    assert rope.state_dict() == {}


def test_attention_is_non_causal_multi_head_with_fused_qkv() -> None:
    torch.manual_seed(0)
    hidden, heads = 12, 3
    head_dim = hidden // heads
    attn = Attention(hidden, head_dim, heads)
    assert tuple(attn.qkv_proj.weight.shape) == (3 * hidden, hidden) and attn.qkv_proj.bias is None
    x = torch.randn(2, 5, hidden)
    rope = RotaryEmbedding(head_dim, 5, 10000.0)
    cos, sin = rope()
    out = attn(x, (cos, sin))

    qkv = (x @ attn.qkv_proj.weight.T).view(2, 5, 3 * heads, head_dim)
    q, k, v = qkv[:, :, :heads], qkv[:, :, heads:2 * heads], qkv[:, :, 2 * heads:]
    q, k = apply_rotary(q, k, cos, sin)
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(head_dim)  # no mask: every token sees all
    ctx = torch.einsum("bhqk,bkhd->bqhd", scores.softmax(-1), v).reshape(2, 5, hidden)
    torch.testing.assert_close(out, ctx @ attn.o_proj.weight.T, rtol=1e-5, atol=1e-5)
