"""Fused C attention: equals torch's SDPA (values, gradients, log-sum-exp), falls back where it
must, is bit-identical for any thread count, and is a drop-in inside the HRM model."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from hrm_studio.kernels.build import build
from hrm_studio.model.fused_attention import FusedAttention
from hrm_studio.model.layers import Attention
from .model_helpers import make_batch, tiny_model

SHAPES = [(2, 37, 2, 16), (1, 300, 4, 16), (3, 50, 2, 32), (2, 20, 1, 64), (1, 1, 1, 16)]  # (B, S, H, D)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory) -> FusedAttention:
    built = build(tmp_path_factory.mktemp("kernels"))
    if built.library is None:
        pytest.skip(f"the fused attention kernel cannot be built here: {built.reason}")
    return FusedAttention(built.library)


def _sdpa(q, k, v):
    """The reference, in the model's [batch, seq, heads, head_dim] layout."""
    return F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)


def _fused_qkv(shape, seed: int, dtype=torch.float32) -> torch.Tensor:
    batch, seq, heads, dim = shape
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, seq, 3 * heads * dim, generator=g).to(dtype).requires_grad_(True)


def _split(qkv: torch.Tensor, heads: int, dim: int):
    """Strided views of one projection, as layers.Attention makes them."""
    batch, seq, _ = qkv.shape
    return qkv.view(batch, seq, 3 * heads, dim).split(heads, dim=2)


def _attend_with_grad(fn, shape, seed: int):
    """Output and d(qkv) of ``fn`` on strided q/k/v views, for a fixed random output gradient."""
    batch, seq, heads, dim = shape
    qkv = _fused_qkv(shape, seed)
    out = fn(*_split(qkv, heads, dim))
    grad_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed + 1))
    (grad,) = torch.autograd.grad(out, qkv, grad_out)
    return out.detach(), grad


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_forward_equals_sdpa_on_strided_views_and_contiguous_inputs(kernel, shape):
    batch, seq, heads, dim = shape
    qkv = _fused_qkv(shape, seed=seq).detach()
    q, k, v = _split(qkv, heads, dim)
    assert q.stride(1) == 3 * heads * dim and kernel.supports(q)  # a strided view, as in the model
    expected = _sdpa(q, k, v)
    out = kernel(q, k, v)
    assert out.shape == (batch, seq, heads, dim) and out.dtype == torch.float32
    torch.testing.assert_close(out, expected, atol=5e-5, rtol=1e-4)
    contiguous = kernel(q.contiguous(), k.contiguous(), v.contiguous())
    torch.testing.assert_close(contiguous, expected, atol=5e-5, rtol=1e-4)
    # The same maths whatever the memory layout: strides change nothing, bit for bit.
    assert torch.equal(contiguous, out)


def test_forward_equals_sdpa_on_head_major_layouts_and_large_scores(kernel):
    """k, v stored [B, H, S, D] (heads outermost) and scores far apart (softmax nearly one-hot)."""
    g = torch.Generator().manual_seed(7)
    q = torch.randn(2, 23, 3, 16, generator=g) * 8
    k = (torch.randn(2, 3, 23, 16, generator=g) * 8).transpose(1, 2)
    v = torch.randn(2, 3, 23, 16, generator=g).transpose(1, 2)
    torch.testing.assert_close(kernel(q, k, v), _sdpa(q, k, v), atol=5e-5, rtol=1e-4)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_gradients_equal_sdpa(kernel, shape):
    out, grad = _attend_with_grad(kernel, shape, seed=11)
    ref_out, ref_grad = _attend_with_grad(_sdpa, shape, seed=11)
    torch.testing.assert_close(out, ref_out, atol=5e-5, rtol=1e-4)
    assert grad.abs().max() > 0
    scale = ref_grad.abs().max().item()
    torch.testing.assert_close(grad, ref_grad, atol=2e-5 * scale, rtol=1e-4)


def test_the_c_backward_is_used_and_equals_sdpa_for_a_non_contiguous_output_gradient(kernel, monkeypatch):
    shape = (2, 19, 2, 16)
    calls = []
    real = kernel.run_backward
    monkeypatch.setattr(kernel, "run_backward", lambda *args: calls.append(1) or real(*args))
    batch, seq, heads, dim = shape
    qkv = _fused_qkv(shape, seed=5)
    out = kernel(*_split(qkv, heads, dim))
    assert len(calls) == 0
    # A gradient laid out [B, H, S, D] reaches the backward as a strided view.
    grad_out = torch.randn(batch, heads, seq, dim, generator=torch.Generator().manual_seed(6)).transpose(1, 2)
    (grad,) = torch.autograd.grad(out, qkv, grad_out)
    assert len(calls) == 1
    ref_qkv = qkv.detach().clone().requires_grad_(True)
    (ref_grad,) = torch.autograd.grad(_sdpa(*_split(ref_qkv, heads, dim)), ref_qkv, grad_out)
    torch.testing.assert_close(grad, ref_grad, atol=2e-5 * ref_grad.abs().max().item(), rtol=1e-4)


@pytest.mark.parametrize("shape", [(2, 37, 2, 16), (1, 300, 1, 32)], ids=lambda s: "x".join(map(str, s)))
def test_run_returns_the_log_sum_exp_of_the_scaled_scores(kernel, shape):
    batch, seq, heads, dim = shape
    q, k, v = _split(_fused_qkv(shape, seed=3).detach(), heads, dim)
    out, lse = kernel.run(q, k, v)
    assert lse.shape == (batch, heads, seq) and lse.dtype == torch.float32
    scores = q.transpose(1, 2) @ k.transpose(1, 2).transpose(-1, -2) / math.sqrt(dim)  # [B, H, S, S]
    torch.testing.assert_close(lse, torch.logsumexp(scores, dim=-1), atol=5e-5, rtol=1e-5)
    torch.testing.assert_close(out, _sdpa(q, k, v), atol=5e-5, rtol=1e-4)


@pytest.mark.parametrize("dim", [8, 24, 144])
def test_unsupported_head_sizes_fall_back_to_sdpa(kernel, dim, monkeypatch):
    def refuse(*args):
        raise AssertionError("the C kernel was called for an unsupported input")

    monkeypatch.setattr(kernel, "run", refuse)
    monkeypatch.setattr(kernel, "run_backward", refuse)
    shape = (2, 21, 2, dim)
    q, _, _ = _split(_fused_qkv(shape, seed=1).detach(), 2, dim)
    assert not kernel.supports(q)
    out, grad = _attend_with_grad(kernel, shape, seed=2)
    ref_out, ref_grad = _attend_with_grad(_sdpa, shape, seed=2)
    assert torch.equal(out, ref_out) and torch.equal(grad, ref_grad)


def test_bfloat16_falls_back_to_sdpa(kernel, monkeypatch):
    monkeypatch.setattr(kernel, "run", lambda *args: pytest.fail("the C kernel was called for bfloat16"))
    shape = (2, 21, 2, 16)
    qkv = _fused_qkv(shape, seed=4, dtype=torch.bfloat16).detach()
    q, k, v = _split(qkv, 2, 16)
    assert not kernel.supports(q)
    out = kernel(q, k, v)
    assert out.dtype == torch.bfloat16
    assert torch.equal(out, _sdpa(q, k, v))


def test_a_float64_input_is_not_sent_to_the_float32_kernel(kernel):
    q, k, v = _split(_fused_qkv((1, 9, 1, 16), seed=8, dtype=torch.float64).detach(), 1, 16)
    assert not kernel.supports(q)
    out = kernel(q, k, v)
    assert out.dtype == torch.float64 and torch.equal(out, _sdpa(q, k, v))


def test_results_are_bit_identical_for_one_or_two_threads(kernel):
    threads = torch.get_num_threads()
    results = {}
    try:
        for n in (1, 2, 1):
            torch.set_num_threads(n)
            for shape in [(1, 300, 2, 16), (2, 37, 2, 16), (1, 5, 1, 32)]:
                out, grad = _attend_with_grad(kernel, shape, seed=21)
                previous = results.setdefault(shape, (out, grad))
                assert torch.equal(previous[0], out), (shape, n)
                assert torch.equal(previous[1], grad), (shape, n)
    finally:
        torch.set_num_threads(threads)


def _attention_layers(model):
    return [m for m in model.modules() if isinstance(m, Attention)]


def _train_step(model, batch):
    """One training segment (the ACT wrapper's forward and its Q-target pass) and its backward."""
    model.train()
    model.zero_grad(set_to_none=True)
    _, outputs = model(model.initial_carry(batch), batch)
    loss = outputs["logits"].square().mean() + outputs["q_halt_logits"].sum() + outputs["q_continue_logits"].sum()
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    grads["puzzle_emb.local_weights"] = model.puzzle_emb.local_weights.grad.clone()
    return {k: v.detach() for k, v in outputs.items()}, grads


def test_hrm_with_the_kernel_matches_the_sdpa_model(kernel):
    settings = dict(hidden_size=32, num_heads=2, seq_len=20, puzzle_emb_ndim=16, batch_size=3, L_cycles=2,
                    halt_exploration_prob=0.0)
    reference = tiny_model(seed=1, **settings)
    with torch.no_grad():
        reference.inner.q_head.weight.normal_(0.0, 0.5)
        reference.puzzle_emb.weights.normal_(0.0, 0.5)
    fused = tiny_model(seed=2, **settings)
    keys = list(fused.state_dict())
    fused.use_attention_kernel(kernel)
    assert list(fused.state_dict()) == keys  # the kernel is not part of the weights
    fused.load_state_dict(reference.state_dict())
    layers = _attention_layers(fused)
    assert layers and all(layer.kernel is kernel for layer in layers)
    assert all(layer.kernel is None for layer in _attention_layers(reference))
    assert kernel.supports(torch.empty(1, 1, 2, 16))  # head size 16: the kernel really runs

    batch = make_batch(reference.config, seed=3)
    ref_outputs, ref_grads = _train_step(reference, batch)
    outputs, grads = _train_step(fused, batch)
    assert set(outputs) == set(ref_outputs) >= {"logits", "q_halt_logits", "q_continue_logits", "target_q_continue"}
    for name in ref_outputs:
        torch.testing.assert_close(outputs[name], ref_outputs[name], atol=1e-4, rtol=1e-4, msg=name)
    assert set(grads) == set(ref_grads)
    assert ref_grads["inner.L_level.layers.0.self_attn.qkv_proj.weight"].abs().max() > 0
    for name in ref_grads:
        scale = max(ref_grads[name].abs().max().item(), 1e-6)
        torch.testing.assert_close(grads[name], ref_grads[name], atol=1e-4 * scale, rtol=1e-4, msg=name)

    fused.use_attention_kernel(None)  # and back to torch's attention
    assert all(layer.kernel is None for layer in layers)
    assert list(fused.state_dict()) == keys


def test_an_empty_batch_gives_an_empty_result_instead_of_crashing(kernel):
    x = torch.randn(0, 5, 1, 16)
    out = kernel(x, x, x)
    assert out.shape == (0, 5, 1, 16)
    with torch.no_grad():
        kernel.run(x, x, x)  # the C entry point itself returns without dividing by zero


def test_keys_of_another_length_fall_back_to_sdpa(kernel, monkeypatch):
    monkeypatch.setattr(kernel, "run", lambda *args: pytest.fail("the C kernel got keys of another length"))
    q = torch.randn(1, 9, 1, 16)
    k, v = torch.randn(1, 20, 1, 16), torch.randn(1, 20, 1, 16)
    torch.testing.assert_close(kernel(q, k, v), _sdpa(q, k, v))
