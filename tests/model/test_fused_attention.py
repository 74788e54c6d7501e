"""Fused C attention: equals torch's SDPA (values, gradients, log-sum-exp); with RoPE tables it
rotates q and k inside the kernel exactly as rotate_pairs + SDPA would (gradients w.r.t. the
un-rotated q and k); in bfloat16 it is as close to float32 as torch's own bfloat16 attention;
it falls back where it must, is bit-identical for any thread count, and is a drop-in inside the
HRM model (RoPE or learned positions, float32 or bfloat16)."""

from __future__ import annotations

import ctypes
import functools
import math

import pytest
import torch
import torch.nn.functional as F

from hrm_studio.kernels import abi
from hrm_studio.model.fused_attention import FusedAttention
from hrm_studio.model.layers import Attention, RotaryEmbedding, rotate_pairs
from .model_helpers import make_batch, tiny_model

SHAPES = [(2, 37, 2, 16), (1, 300, 4, 16), (3, 50, 2, 32), (2, 20, 1, 64), (1, 1, 1, 16)]  # (B, S, H, D)
ROPE_SHAPES = [(2, 37, 2, 16), (1, 300, 2, 16), (2, 37, 2, 32), (1, 300, 1, 32), (1, 1, 1, 16)]
BF16_SHAPES = [(2, 37, 2, 16), (1, 300, 2, 16), (3, 50, 2, 32), (2, 20, 1, 128), (1, 1, 1, 16)]
THETA = 10000.0
# A bf16 HRM with the kernel against the bf16 HRM with torch's SDPA: rounding differences compound
# over the recurrent cycles. Measured: outputs ≤ 2.3 % of their scale (the torch bf16 model is as
# far from the float32 one), parameter gradients ≤ 3.5 %.
BF16_MODEL_ATOL = 5e-2
BF16_MODEL_GRAD_ATOL = 1e-1


def _ids(shape) -> str:
    return "x".join(map(str, shape))


@pytest.fixture(scope="module")
def library(built_kernel) -> ctypes.CDLL:
    built = built_kernel  # compiled once per test run (tests/conftest.py)
    if built.library is None:
        pytest.skip(f"the fused attention kernel cannot be built here: {built.reason}")
    return built.library


@pytest.fixture(scope="module")
def kernel(library) -> FusedAttention:
    return FusedAttention(library)


@pytest.fixture
def bf16_kernel(kernel) -> FusedAttention:
    if not kernel.has_bfloat16:
        pytest.skip("this CPU has no AVX512-BF16: the kernel has no bfloat16 forward")
    return kernel


@pytest.fixture
def calls(kernel, monkeypatch) -> list:
    """Every call into the C kernel: ``("forward", q dtype, given RoPE tables)`` and
    ``("backward", q dtype)`` (how the backward handles RoPE is the wrapper's business)."""
    log = []
    run, run_backward = kernel.run, kernel.run_backward

    def record_run(q, k, v, tables=(None, None)):
        log.append(("forward", q.dtype, tables[0] is not None))
        return run(q, k, v, tables)

    def record_backward(q, k, v, out, lse, grad_out, tables=(None, None)):
        log.append(("backward", q.dtype))
        return run_backward(q, k, v, out, lse, grad_out, tables)

    monkeypatch.setattr(kernel, "run", record_run)
    monkeypatch.setattr(kernel, "run_backward", record_backward)
    return log


def _refuse_the_c_kernel(kernel, monkeypatch) -> None:
    def refuse(*args):
        raise AssertionError("the C kernel was called for an input it must not take")

    monkeypatch.setattr(kernel, "run", refuse)
    monkeypatch.setattr(kernel, "run_backward", refuse)


def _sdpa(q, k, v):
    """The reference, in the model's [batch, seq, heads, head_dim] layout."""
    return F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)


def _rope_sdpa(q, k, v, cos_sin):
    """The RoPE reference: what layers.Attention does without a kernel."""
    return _sdpa(rotate_pairs(q, *cos_sin), rotate_pairs(k, *cos_sin), v)


def _tables(dim: int, seq: int, positions: int | None = None):
    """RotaryEmbedding's (cos, sin) ``[seq, dim]`` tables, as the model gets them."""
    return RotaryEmbedding(dim, positions or seq, THETA)(seq)


def _fused_qkv(shape, seed: int, dtype=torch.float32, scale: float = 1.0, rounded_to=None) -> torch.Tensor:
    """One random [batch, seq, 3 * heads * head_dim] projection (a leaf); with ``rounded_to``, its
    values are that dtype's (e.g. the bf16 inputs, held in float32 for a float32 reference)."""
    batch, seq, heads, dim = shape
    g = torch.Generator().manual_seed(seed)
    qkv = torch.randn(batch, seq, 3 * heads * dim, generator=g) * scale
    return qkv.to(rounded_to or dtype).to(dtype).requires_grad_(True)


def _split(qkv: torch.Tensor, heads: int, dim: int):
    """Strided views of one projection, as layers.Attention makes them."""
    batch, seq, _ = qkv.shape
    return qkv.view(batch, seq, 3 * heads, dim).split(heads, dim=2)


def _attend_with_grad(fn, shape, seed: int, dtype=torch.float32, scale: float = 1.0, rounded_to=None):
    """Output and d(qkv) of ``fn`` on strided q/k/v views of one ``dtype`` leaf, for a fixed
    random output gradient (``rounded_to``: see _fused_qkv)."""
    batch, seq, heads, dim = shape
    qkv = _fused_qkv(shape, seed, dtype, scale, rounded_to)
    out = fn(*_split(qkv, heads, dim))
    assert out.dtype == dtype
    grad_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed + 1))
    grad_out = grad_out.to(rounded_to or dtype).to(dtype)
    (grad,) = torch.autograd.grad(out, qkv, grad_out)
    assert grad.dtype == dtype
    return out.detach(), grad


def _assert_as_close_as_torch_bf16(value, torch_bf16, reference, slack: float, what: str) -> None:
    """``value`` (bf16, from the kernel) is about as far from the float32 ``reference`` as torch's
    own bf16 result ``torch_bf16`` is: at most twice its largest and its mean error, plus
    ``slack`` times the reference's scale."""
    reference = reference.float()
    scale = reference.abs().max().item()
    error = (value.float() - reference).abs()
    torch_error = (torch_bf16.float() - reference).abs()
    assert error.max() <= 2 * torch_error.max() + slack * scale, (what, error.max(), torch_error.max(), scale)
    assert error.mean() <= 2 * torch_error.mean() + slack * scale / 10, (what, error.mean(), torch_error.mean())


# ---- float32, no RoPE ------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=_ids)
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


@pytest.mark.parametrize("shape", SHAPES, ids=_ids)
def test_gradients_equal_sdpa(kernel, calls, shape):
    out, grad = _attend_with_grad(kernel, shape, seed=11)
    assert calls == [("forward", torch.float32, False), ("backward", torch.float32)]
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


@pytest.mark.parametrize("rope", [False, True], ids=["plain", "rope"])
@pytest.mark.parametrize("shape", [(2, 37, 2, 16), (1, 300, 1, 32)], ids=_ids)
def test_run_returns_the_log_sum_exp_of_the_scaled_scores(kernel, shape, rope):
    """``run`` itself, with the half tables it takes: lse of the (rotated) q·kᵀ/√d."""
    batch, seq, heads, dim = shape
    q, k, v = _split(_fused_qkv(shape, seed=3).detach(), heads, dim)
    tables = (None, None)
    if rope:
        cos, sin = _tables(dim, seq)
        tables = (cos[:, : dim // 2].contiguous(), sin[:, : dim // 2].contiguous())
    out, lse = kernel.run(q, k, v, tables)
    if rope:  # the scores are those of the rotated q and k
        q, k = rotate_pairs(q, cos, sin), rotate_pairs(k, cos, sin)
    assert lse.shape == (batch, heads, seq) and lse.dtype == torch.float32
    scores = q.transpose(1, 2) @ k.transpose(1, 2).transpose(-1, -2) / math.sqrt(dim)  # [B, H, S, S]
    torch.testing.assert_close(lse, torch.logsumexp(scores, dim=-1), atol=5e-5, rtol=1e-5)
    torch.testing.assert_close(out, _sdpa(q, k, v), atol=5e-5, rtol=1e-4)


@pytest.mark.parametrize("dim", [8, 24, 144])
def test_unsupported_head_sizes_fall_back_to_sdpa(kernel, dim, monkeypatch):
    _refuse_the_c_kernel(kernel, monkeypatch)
    shape = (2, 21, 2, dim)
    q, _, _ = _split(_fused_qkv(shape, seed=1).detach(), 2, dim)
    assert not kernel.supports(q)
    out, grad = _attend_with_grad(kernel, shape, seed=2)
    ref_out, ref_grad = _attend_with_grad(_sdpa, shape, seed=2)
    assert torch.equal(out, ref_out) and torch.equal(grad, ref_grad)


def test_a_float64_input_is_not_sent_to_the_float32_kernel(kernel):
    q, k, v = _split(_fused_qkv((1, 9, 1, 16), seed=8, dtype=torch.float64).detach(), 1, 16)
    assert not kernel.supports(q)
    out = kernel(q, k, v)
    assert out.dtype == torch.float64 and torch.equal(out, _sdpa(q, k, v))


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


# ---- RoPE inside the kernel ------------------------------------------------------------------


@pytest.mark.parametrize("shape", ROPE_SHAPES, ids=_ids)
def test_rope_in_the_kernel_equals_rotate_pairs_then_sdpa(kernel, calls, shape):
    """q and k go in un-rotated (pair order); values and d(qkv) equal the rotate_pairs + SDPA
    composition, so the gradients are those of the un-rotated q and k."""
    batch, seq, heads, dim = shape
    # Tables for more positions than the sequence, cut to it, as RotaryEmbedding(seq) returns them.
    cos_sin = _tables(dim, seq, positions=seq + 5)
    out, grad = _attend_with_grad(functools.partial(kernel, cos_sin=cos_sin), shape, seed=13)
    assert calls == [("forward", torch.float32, True), ("backward", torch.float32)]
    ref_out, ref_grad = _attend_with_grad(functools.partial(_rope_sdpa, cos_sin=cos_sin), shape, seed=13)
    torch.testing.assert_close(out, ref_out, atol=5e-5, rtol=1e-4)
    scale = ref_grad.abs().max().item()
    assert scale > 0
    torch.testing.assert_close(grad, ref_grad, atol=2e-5 * scale, rtol=1e-4)
    if seq > 1:  # the rotation matters (else the comparison above could not tell)
        plain, _ = _attend_with_grad(_sdpa, shape, seed=13)
        assert (plain - ref_out).abs().max() > 1e-2


@pytest.mark.parametrize("shape", ROPE_SHAPES, ids=_ids)
def test_rope_in_the_kernel_without_gradients_equals_rotate_pairs_then_sdpa(kernel, calls, shape):
    batch, seq, heads, dim = shape
    cos_sin = _tables(dim, seq)
    q, k, v = _split(_fused_qkv(shape, seed=seq + 1).detach(), heads, dim)
    with torch.no_grad():
        out = kernel(q, k, v, cos_sin)
    assert calls == [("forward", torch.float32, True)]
    torch.testing.assert_close(out, _rope_sdpa(q, k, v, cos_sin), atol=5e-5, rtol=1e-4)
    # The inputs are read, not rotated in place.
    assert torch.equal(q, _split(_fused_qkv(shape, seed=seq + 1).detach(), heads, dim)[0])


@pytest.mark.parametrize("shape", [(2, 37, 2, 16), (1, 300, 2, 16), (2, 37, 1, 32)], ids=_ids)
def test_rope_in_bfloat16_is_as_close_to_float32_as_torchs_bfloat16(bf16_kernel, calls, shape):
    batch, seq, heads, dim = shape
    cos_sin = _tables(dim, seq)
    attend = functools.partial(_attend_with_grad, functools.partial(_rope_sdpa, cos_sin=cos_sin), shape, 17)
    out, grad = _attend_with_grad(functools.partial(bf16_kernel, cos_sin=cos_sin), shape, 17, dtype=torch.bfloat16)
    assert calls == [("forward", torch.bfloat16, True), ("backward", torch.float32)]
    torch_out, torch_grad = attend(dtype=torch.bfloat16)
    ref_out, ref_grad = attend(dtype=torch.float32, rounded_to=torch.bfloat16)  # float32 maths, bf16 inputs
    torch.testing.assert_close(out, torch_out, atol=2e-2 * torch_out.abs().max().item(), rtol=2e-2)
    torch.testing.assert_close(grad, torch_grad, atol=2e-2 * torch_grad.abs().max().item(), rtol=2e-2)
    _assert_as_close_as_torch_bf16(out, torch_out, ref_out, slack=2e-3, what="out")
    _assert_as_close_as_torch_bf16(grad, torch_grad, ref_grad, slack=4e-3, what="grad")


def test_rope_tables_of_length_one_broadcast_like_rotate_pairs_without_the_kernel(kernel, monkeypatch):
    _refuse_the_c_kernel(kernel, monkeypatch)
    shape = (2, 37, 2, 16)
    cos, sin = _tables(16, 40)
    cos_sin = cos[5:6], sin[5:6]  # one position's angles for every position
    out, grad = _attend_with_grad(functools.partial(kernel, cos_sin=cos_sin), shape, seed=19)
    ref_out, ref_grad = _attend_with_grad(functools.partial(_rope_sdpa, cos_sin=cos_sin), shape, seed=19)
    assert torch.equal(out, ref_out) and torch.equal(grad, ref_grad)


@pytest.mark.parametrize("positions", [20, 42])
def test_rope_tables_for_another_sequence_length_never_reach_the_kernel(kernel, monkeypatch, positions):
    """The kernel would read past shorter tables; the fallback fails as rotate_pairs + SDPA does."""
    _refuse_the_c_kernel(kernel, monkeypatch)
    q, k, v = _split(_fused_qkv((1, 37, 1, 16), seed=20).detach(), 1, 16)
    cos_sin = _tables(16, positions)
    with pytest.raises(RuntimeError) as expected:
        _rope_sdpa(q, k, v, cos_sin)
    with pytest.raises(RuntimeError) as caught:
        kernel(q, k, v, cos_sin)
    assert str(caught.value) == str(expected.value)


@pytest.mark.parametrize("dim", [8, 24])
def test_rope_with_an_unsupported_head_size_falls_back_to_rotate_pairs_then_sdpa(kernel, dim, monkeypatch):
    _refuse_the_c_kernel(kernel, monkeypatch)
    shape = (2, 37, 2, dim)
    cos_sin = _tables(dim, 37)
    out, grad = _attend_with_grad(functools.partial(kernel, cos_sin=cos_sin), shape, seed=23)
    ref_out, ref_grad = _attend_with_grad(functools.partial(_rope_sdpa, cos_sin=cos_sin), shape, seed=23)
    assert torch.equal(out, ref_out) and torch.equal(grad, ref_grad)


def test_rope_tables_for_another_head_size_are_not_sent_to_the_kernel(kernel, monkeypatch):
    _refuse_the_c_kernel(kernel, monkeypatch)
    q, k, v = _split(_fused_qkv((1, 37, 1, 32), seed=24).detach(), 1, 32)
    cos_sin = _tables(64, 37)  # wider than head_dim 32: no read past the end either way
    with pytest.raises(RuntimeError):  # as rotate_pairs + SDPA does
        _rope_sdpa(q, k, v, cos_sin)
    with pytest.raises(RuntimeError):
        kernel(q, k, v, cos_sin)


# ---- bfloat16 --------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 4.0], ids=["mild", "sharp"])
@pytest.mark.parametrize("shape", BF16_SHAPES, ids=_ids)
def test_bfloat16_forward_is_as_close_to_float32_as_torchs_bfloat16(bf16_kernel, calls, shape, scale):
    """Compared with float32 SDPA on the same bf16 inputs, the kernel (which rounds p to bf16
    before p·V) errs at most about as much as torch's bf16 SDPA does."""
    batch, seq, heads, dim = shape
    q, k, v = _split(_fused_qkv(shape, seed=seq, dtype=torch.bfloat16, scale=scale).detach(), heads, dim)
    assert bf16_kernel.supports(q)
    out = bf16_kernel(q, k, v)
    assert calls == [("forward", torch.bfloat16, False)]
    assert out.shape == (batch, seq, heads, dim) and out.dtype == torch.bfloat16
    reference = _sdpa(q.float(), k.float(), v.float())
    _assert_as_close_as_torch_bf16(out, _sdpa(q, k, v), reference, slack=2e-3, what="out")
    # The log-sum-exp (float32) is that of the bf16 inputs' scores.
    _, lse = bf16_kernel.run(q, k, v)
    scores = q.float().transpose(1, 2) @ k.float().transpose(1, 2).transpose(-1, -2) / math.sqrt(dim)
    torch.testing.assert_close(lse, torch.logsumexp(scores, dim=-1), atol=1e-4 * scale, rtol=1e-4)


@pytest.mark.parametrize("shape", BF16_SHAPES[:4], ids=_ids)
def test_bfloat16_gradients_are_close_to_torchs_bfloat16_gradients(bf16_kernel, calls, shape):
    """Through a bf16 fused-qkv leaf: the float32 C backward on the upcast values, bf16 gradients."""
    out, grad = _attend_with_grad(bf16_kernel, shape, seed=29, dtype=torch.bfloat16)
    assert calls == [("forward", torch.bfloat16, False), ("backward", torch.float32)]
    _, torch_grad = _attend_with_grad(_sdpa, shape, seed=29, dtype=torch.bfloat16)
    _, ref_grad = _attend_with_grad(_sdpa, shape, seed=29, dtype=torch.float32, rounded_to=torch.bfloat16)
    scale = torch_grad.abs().max().item()
    assert scale > 0
    torch.testing.assert_close(grad, torch_grad, atol=2e-2 * scale, rtol=2e-2)
    _assert_as_close_as_torch_bf16(grad, torch_grad, ref_grad, slack=4e-3, what="grad")


def test_without_the_bfloat16_entry_bfloat16_falls_back_to_sdpa(kernel, monkeypatch):
    """A build without AVX512-BF16: bf16 goes to torch untouched (values and gradients, with or
    without RoPE), float32 still to the kernel."""
    monkeypatch.setattr(kernel, "_fn16", None)
    assert not kernel.has_bfloat16
    shape = (2, 21, 2, 16)
    q, _, _ = _split(_fused_qkv(shape, seed=4, dtype=torch.bfloat16).detach(), 2, 16)
    assert not kernel.supports(q)
    assert kernel.supports(q.float())
    _refuse_the_c_kernel(kernel, monkeypatch)
    out, grad = _attend_with_grad(kernel, shape, seed=4, dtype=torch.bfloat16)
    ref_out, ref_grad = _attend_with_grad(_sdpa, shape, seed=4, dtype=torch.bfloat16)
    assert torch.equal(out, ref_out) and torch.equal(grad, ref_grad)
    cos_sin = _tables(16, 21)
    out, grad = _attend_with_grad(functools.partial(kernel, cos_sin=cos_sin), shape, seed=4, dtype=torch.bfloat16)
    ref_out, ref_grad = _attend_with_grad(functools.partial(_rope_sdpa, cos_sin=cos_sin), shape, seed=4,
                                          dtype=torch.bfloat16)
    assert torch.equal(out, ref_out) and torch.equal(grad, ref_grad)


# ---- threads ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype,rope", [(torch.float32, False), (torch.float32, True), (torch.bfloat16, False),
                                        (torch.bfloat16, True)], ids=["float32", "float32-rope", "bf16", "bf16-rope"])
def test_results_are_bit_identical_for_any_thread_count(kernel, calls, dtype, rope):
    if dtype == torch.bfloat16 and not kernel.has_bfloat16:
        pytest.skip("this CPU has no AVX512-BF16: the kernel has no bfloat16 forward")
    threads = torch.get_num_threads()
    results = {}
    try:
        for n in (1, 2, 3, 1):
            torch.set_num_threads(n)
            for shape in [(1, 300, 2, 16), (2, 37, 2, 16), (1, 5, 1, 32)]:
                fn = functools.partial(kernel, cos_sin=_tables(shape[3], shape[1])) if rope else kernel
                out, grad = _attend_with_grad(fn, shape, seed=21, dtype=dtype)
                previous = results.setdefault(shape, (out, grad))
                assert torch.equal(previous[0], out), (shape, n)
                assert torch.equal(previous[1], grad), (shape, n)
    finally:
        torch.set_num_threads(threads)
    # The kernel ran every time (no fallback made the results trivially equal).
    assert calls == [("forward", dtype, rope), ("backward", torch.float32)] * 12


# ---- inside the HRM model --------------------------------------------------------------------


def _attention_layers(model):
    return [m for m in model.modules() if isinstance(m, Attention)]


def _train_step(model, batch):
    """One training segment (the ACT wrapper's forward and its Q-target pass) and its backward."""
    model.train()
    model.zero_grad(set_to_none=True)
    _, outputs = model(model.initial_carry(batch), batch)
    loss = (outputs["logits"].float().square().mean() + outputs["q_halt_logits"].sum()
            + outputs["q_continue_logits"].sum())
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    grads["puzzle_emb.local_weights"] = model.puzzle_emb.local_weights.grad.clone()
    return {k: v.detach() for k, v in outputs.items()}, grads


def _models(pos_encodings: str, forward_dtype: str):
    """A reference HRM (SDPA) with non-trivial Q-head and puzzle embeddings, and a second model
    with another seed's weights, to be given the reference's."""
    settings = dict(hidden_size=32, num_heads=2, seq_len=20, puzzle_emb_ndim=16, batch_size=3, L_cycles=2,
                    halt_exploration_prob=0.0, pos_encodings=pos_encodings, forward_dtype=forward_dtype)
    reference = tiny_model(seed=1, **settings)
    with torch.no_grad():
        reference.inner.q_head.weight.normal_(0.0, 0.5)
        reference.puzzle_emb.weights.normal_(0.0, 0.5)
    return reference, tiny_model(seed=2, **settings)


@pytest.mark.parametrize("pos_encodings,forward_dtype", [("rope", "float32"), ("learned", "float32"),
                                                          ("rope", "bfloat16"), ("learned", "bfloat16")])
def test_hrm_with_the_kernel_matches_the_sdpa_model(kernel, calls, pos_encodings, forward_dtype):
    bf16 = forward_dtype == "bfloat16"
    if bf16 and not kernel.has_bfloat16:
        pytest.skip("this CPU has no AVX512-BF16: the kernel has no bfloat16 forward")
    reference, fused = _models(pos_encodings, forward_dtype)
    assert (reference.inner.rotary_emb is not None) == (pos_encodings == "rope")
    keys = list(fused.state_dict())
    fused.use_attention_kernel(kernel)
    assert list(fused.state_dict()) == keys  # the kernel is not part of the weights
    fused.load_state_dict(reference.state_dict())
    layers = _attention_layers(fused)
    assert layers and all(layer.kernel is kernel for layer in layers)
    assert all(layer.kernel is None for layer in _attention_layers(reference))

    batch = make_batch(reference.config, seed=3)
    ref_outputs, ref_grads = _train_step(reference, batch)
    assert calls == []
    outputs, grads = _train_step(fused, batch)
    # The kernel really ran, in the model's dtype, with the RoPE tables when the model has RoPE
    # (layers.Attention handing it un-rotated q and k), and its backward carried the gradient.
    dtype, rope = (torch.bfloat16 if bf16 else torch.float32), pos_encodings == "rope"
    assert ("forward", dtype, rope) in calls and ("backward", torch.float32) in calls
    assert set(calls) == {("forward", dtype, rope), ("backward", torch.float32)}

    assert set(outputs) == set(ref_outputs) >= {"logits", "q_halt_logits", "q_continue_logits", "target_q_continue"}
    assert set(grads) == set(ref_grads)
    assert ref_grads["inner.L_level.layers.0.self_attn.qkv_proj.weight"].abs().max() > 0
    if not bf16:
        for name in ref_outputs:
            torch.testing.assert_close(outputs[name], ref_outputs[name], atol=1e-4, rtol=1e-4, msg=name)
        for name in ref_grads:
            scale = max(ref_grads[name].abs().max().item(), 1e-6)
            torch.testing.assert_close(grads[name], ref_grads[name], atol=1e-4 * scale, rtol=1e-4, msg=name)
    else:
        # Within bf16 resolution of the torch model (see BF16_MODEL_ATOL).
        for name in ref_outputs:
            scale = max(ref_outputs[name].float().abs().max().item(), 1.0)
            torch.testing.assert_close(outputs[name].float(), ref_outputs[name].float(), atol=BF16_MODEL_ATOL * scale,
                                       rtol=0, msg=name)
        for name in ref_grads:
            scale = max(ref_grads[name].abs().max().item(), 1e-6)
            torch.testing.assert_close(grads[name], ref_grads[name], atol=BF16_MODEL_GRAD_ATOL * scale, rtol=0,
                                       msg=name)

    fused.use_attention_kernel(None)  # and back to torch's attention
    assert all(layer.kernel is None for layer in layers)
    assert list(fused.state_dict()) == keys


def test_trm_with_the_kernel_matches_the_sdpa_model(kernel, calls):
    """TRM honours the attention_kernel choice the way HRM does: every attention of its one
    network gets the kernel, and outputs and gradients stay those of torch's SDPA."""
    from hrm_studio.model import ACTLossHead, TRM, TRMConfig

    config = TRMConfig(batch_size=3, seq_len=12, vocab_size=6, num_puzzle_identifiers=4, puzzle_emb_ndim=16,
                       H_cycles=2, L_cycles=2, L_layers=2, hidden_size=32, expansion=2.0, num_heads=2,
                       halt_max_steps=3, halt_exploration_prob=0.0, puzzle_emb_len=2)
    torch.manual_seed(4)
    model = TRM(config)
    batch = make_batch(config, seed=5)
    outputs = []
    for attention_kernel in (None, kernel):
        model.use_attention_kernel(attention_kernel)
        assert all(layer.kernel is attention_kernel for layer in _attention_layers(model))
        head = ACTLossHead(model, "softmax_cross_entropy").train()
        result = head(head.initial_carry(batch), batch)
        result.loss.backward()
        outputs.append((result.outputs["logits"], {n: p.grad for n, p in model.named_parameters()}))
        model.zero_grad(set_to_none=True)
    assert len(_attention_layers(model)) == config.L_layers and ("forward", torch.float32, True) in calls
    (ref_logits, ref_grads), (logits, grads) = outputs
    torch.testing.assert_close(logits, ref_logits, atol=1e-4, rtol=1e-4)
    for name, grad in ref_grads.items():
        scale = max(grad.abs().max().item(), 1e-6)
        torch.testing.assert_close(grads[name], grad, atol=1e-4 * scale, rtol=1e-4, msg=name)


def test_a_kernel_that_runs_out_of_scratch_memory_raises_a_clear_error(kernel, monkeypatch):
    q, k, v = _split(_fused_qkv((1, 9, 1, 16), seed=31).detach(), 1, 16)
    monkeypatch.setattr(kernel, "_fn", lambda *args: abi.NO_MEMORY)
    with pytest.raises(MemoryError, match="ran out of memory.*attention_kernel to 'torch'"):
        kernel(q, k, v)
    monkeypatch.setattr(kernel, "_fn", lambda *args: abi.UNSUPPORTED)
    with pytest.raises(RuntimeError, match="refused shape"):
        kernel.run(q, k, v)


def test_the_entry_points_are_bound_with_the_abi_tables_signatures(kernel):
    """No signature is spelled by hand in FusedAttention: each comes from kernels.abi."""
    bound = {"hrm_attention_forward": kernel._fn, "hrm_attention_backward": kernel._back}
    if kernel.has_bfloat16:
        bound[abi.BF16_FORWARD] = kernel._fn16
    for name, fn in bound.items():
        assert tuple(fn.argtypes) == abi.SIGNATURES[name].argtypes, name
        assert fn.restype is abi.SIGNATURES[name].restype, name


def test_a_library_with_another_abi_version_is_refused(library, monkeypatch):
    """Whoever hands FusedAttention a library, one built for another ABI is never called."""
    monkeypatch.setattr(abi, "ABI_VERSION", abi.ABI_VERSION + 1)
    with pytest.raises(ValueError, match=f"ABI version {abi.ABI_VERSION - 1} .* needs version {abi.ABI_VERSION}"):
        FusedAttention(library)
