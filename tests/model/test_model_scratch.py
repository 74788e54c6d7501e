"""The no-gradient passes' reused buffers (layers.Scratch): the same numbers, fresh states.

"The same" is float32 rounding here (bit-equal with torch's MKL build; another BLAS may block a
strided operand differently): a buffer overwritten too early would be off by far more.
"""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from torch.testing import assert_close

import hrm_studio.model.hrm as hrm_module
import hrm_studio.model.trm as trm_module
from hrm_studio.model.fused_attention import FusedAttention
from hrm_studio.model.hrm import HRMBlock, ReasoningModule
from hrm_studio.model.layers import RotaryEmbedding, Scratch
from hrm_studio.model.trm import TRM, TokenMixingBlock, TRMConfig

from .model_helpers import make_batch, tiny_config, tiny_model

# Head size 16, so the fused kernel (when it builds here) takes these blocks too.
BLOCK = dict(hidden_size=32, num_heads=2, expansion=2.0, rms_norm_eps=1e-5)
_same = partial(assert_close, rtol=1e-6, atol=1e-6)


@pytest.fixture(params=["torch", "kernel"])
def attention(request, built_kernel) -> Any:
    """None (torch's SDPA) or the fused kernel."""
    if request.param == "torch":
        return None
    if built_kernel.library is None:
        pytest.skip(f"the fused attention kernel cannot be built here: {built_kernel.reason}")
    return FusedAttention(built_kernel.library)


def _block(attention: Any) -> tuple[HRMBlock, Any]:
    torch.manual_seed(0)
    block = HRMBlock(SimpleNamespace(**BLOCK))
    block.self_attn.kernel = attention
    return block, RotaryEmbedding(16, 10, 10000.0)()


@pytest.mark.parametrize("first", [None, 1])
def test_a_block_gives_the_same_numbers_with_a_scratch(attention, first) -> None:
    block, cos_sin = _block(attention)
    h = torch.randn(3, 10, 32)
    with torch.no_grad():
        plain = block(h, cos_sin, first)
        reused = block(h, cos_sin, first, Scratch())
    _same(reused, plain)


def test_the_token_mixing_block_gives_the_same_numbers_with_a_scratch() -> None:
    torch.manual_seed(0)
    block = TokenMixingBlock(SimpleNamespace(**BLOCK, seq_len=8, prefix_len=2))
    h = torch.randn(3, 10, 32)
    with torch.no_grad():
        _same(block(h, None, None, Scratch()), block(h, None))


def test_returned_states_are_new_tensors_that_the_next_call_leaves_alone(attention) -> None:
    """Callers keep states (the carry, the inspector's recorder), so none may live in a buffer."""
    torch.manual_seed(0)
    module = ReasoningModule(SimpleNamespace(**BLOCK), num_layers=2)
    for layer in module.layers:
        layer.self_attn.kernel = attention
    cos_sin = RotaryEmbedding(16, 10, 10000.0)()
    scratch = Scratch()
    z, injection = torch.randn(3, 10, 32), torch.randn(3, 10, 32)
    with torch.no_grad():
        first = module(z, injection, cos_sin, scratch=scratch)
        kept = first.clone()
        module(first, injection, cos_sin, scratch=scratch)
    assert torch.equal(first, kept)
    assert len(scratch) > 0 and not scratch.holds(first)


def test_with_gradient_the_scratch_is_left_unused(attention) -> None:
    block, cos_sin = _block(attention)
    scratch = Scratch()
    out = block(torch.randn(3, 10, 32, requires_grad=True), cos_sin, None, scratch)
    assert out.grad_fn is not None and len(scratch) == 0


def test_take_reuses_a_role_and_replaces_it_for_another_shape() -> None:
    scratch, like = Scratch(), torch.zeros(1)
    buffer = scratch.take("qkv", (2, 3), like)
    assert scratch.take("qkv", (2, 3), like).data_ptr() == buffer.data_ptr()
    assert scratch.take("qkv", (4, 3), like).shape == (4, 3)
    assert scratch.take("qkv", (4, 3), like.to(torch.float64)).dtype == torch.float64
    assert len(scratch) == 1


def _without_scratch(monkeypatch) -> None:
    monkeypatch.setattr(hrm_module, "Scratch", lambda: None)
    monkeypatch.setattr(trm_module, "Scratch", lambda: None)


def test_hrm_segments_and_q_values_are_unchanged(monkeypatch, attention) -> None:
    model = tiny_model(hidden_size=32, num_heads=2, H_layers=2, L_layers=2)
    model.use_attention_kernel(attention)
    batch = make_batch(model.config)
    carry = model.inner.reset_carry(torch.ones(3, dtype=torch.bool), model.inner.empty_carry(3))
    with torch.no_grad():
        reused = (model.inner(carry, batch)[1], *model.inner.q_values(carry, batch))
        _without_scratch(monkeypatch)
        plain = (model.inner(carry, batch)[1], *model.inner.q_values(carry, batch))
    for a, b in zip(reused, plain):
        _same(a, b)


@pytest.mark.parametrize("mlp_t", [False, True])
def test_trm_segments_are_unchanged(monkeypatch, mlp_t) -> None:
    config = TRMConfig(batch_size=3, seq_len=8, vocab_size=6, num_puzzle_identifiers=4, puzzle_emb_ndim=16,
                       puzzle_emb_len=2, H_cycles=3, L_cycles=2, L_layers=2, hidden_size=32, expansion=2,
                       num_heads=2, halt_max_steps=3, halt_exploration_prob=0.0, mlp_t=mlp_t)
    torch.manual_seed(0)
    model = TRM(config)
    batch = make_batch(tiny_config(), batch_size=3)
    carry = model.inner.reset_carry(torch.ones(3, dtype=torch.bool), model.inner.empty_carry(3))
    with torch.no_grad():
        reused = model.inner(carry, batch)[1]
        _without_scratch(monkeypatch)
        plain = model.inner(carry, batch)[1]
    _same(reused, plain)
