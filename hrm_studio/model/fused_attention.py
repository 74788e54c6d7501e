"""Attention through HRM Studio's fused C kernels (RoPE, forward and backward in one pass each).

The kernels (``hrm_studio/kernels/attention.c``) compute ``softmax(q kᵀ/√d) v`` and its
gradients, equal to torch's to float32 rounding, and apply RoPE to q and k as they read them
(so no rotated copies are made). On 901 positions × head size 16 (the seed models on the
30×30 canvas) forward + backward take ~0.7× the time of torch's CPU flash attention in
float32 on AVX-512 and ~0.65× on AVX2 (its 8-lane path), and the bfloat16 forward ~0.5×
(measured; see benchmarks/, ``python -m benchmarks attention``). Whatever the kernels do
not cover (another dtype, a head size that is not a multiple of 16, keys of another length)
goes through :func:`~hrm_studio.model.layers.rotate_pairs` and ``scaled_dot_product_attention``
unchanged. This module does no file I/O: the library comes in already loaded (see
:mod:`hrm_studio.kernels.build`).
"""

from __future__ import annotations

import ctypes
from typing import Any, Optional

import torch
import torch.nn.functional as F

from ..kernels import abi
from .layers import CosSin, rotate_pairs
from .profiling import KERNEL_NO_GRAD, profiled

__all__ = ["FusedAttention"]


def _strides(t: torch.Tensor) -> Any:
    return abi.Strides(t.stride(0), t.stride(1), t.stride(2))


def _ptr(t: Optional[torch.Tensor]) -> Optional[int]:
    return None if t is None else t.data_ptr()


Tables = tuple[Optional[torch.Tensor], Optional[torch.Tensor]]


def _check(code: int, which: str, q: torch.Tensor) -> None:
    """Turn the C entry points' status (:mod:`hrm_studio.kernels.abi`) into an error (their
    outputs are incomplete then)."""
    if code == abi.NO_MEMORY:
        raise MemoryError(f"the fused attention {which} ran out of memory for its scratch buffers "
                          f"(shape {tuple(q.shape)}); lower batch_size or set attention_kernel to 'torch'")
    if code != abi.OK:
        raise RuntimeError(f"the fused attention {which} refused shape {tuple(q.shape)}")


class _KernelAttention(torch.autograd.Function):
    """q, k, v ``[batch, seq, heads, head_dim]`` (strided views are fine; q and k before RoPE,
    in pair order, when tables are given) → out, same layout."""

    @staticmethod
    def forward(ctx: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, cos: Optional[torch.Tensor],
                sin: Optional[torch.Tensor], kernel: "FusedAttention") -> torch.Tensor:
        out, lse = kernel.run(q, k, v, (cos, sin))
        ctx.save_for_backward(q, k, v, out, lse, cos, sin)
        ctx.kernel = kernel
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> Any:
        q, k, v, out, lse, cos, sin = ctx.saved_tensors
        kernel: FusedAttention = ctx.kernel
        if q.dtype == torch.float32:
            return (*kernel.run_backward(q, k, v, out, lse, grad_out, (cos, sin)), None, None, None)
        # bfloat16: the float32 backward on the upcast values, gradients rounded back. q and k are
        # rotated here and rounded to bfloat16 first, exactly as the forward saw them: rotating the
        # float32 copies instead would shift the scores against the forward's log-sum-exp.
        full = None if cos is None else (torch.cat((cos, cos), -1), torch.cat((sin, sin), -1))
        if full is not None:
            q, k = rotate_pairs(q, *full), rotate_pairs(k, *full)
        dq, dk, dv = kernel.run_backward(q.float(), k.float(), v.float(), out.float(), lse, grad_out.float())
        if full is not None:  # back through RoPE: the rotation by the opposite angle
            dq, dk = rotate_pairs(dq, full[0], -full[1]), rotate_pairs(dk, full[0], -full[1])
        return dq.to(q.dtype), dk.to(q.dtype), dv.to(q.dtype), None, None, None


class FusedAttention:
    """Callable ``(q, k, v, cos_sin=None) → out`` over ``[batch, seq, heads, head_dim]`` tensors.

    With ``cos_sin`` (the ``[seq, head_dim]`` tables of RotaryEmbedding), q and k are taken
    *before* RoPE, their rotation pairs adjacent (see ``layers.rope_pair_order``), and rotated
    inside the kernel. Holds the loaded library's entry points; one instance serves every
    Attention module of a model. Threads follow ``torch.get_num_threads()`` at each call.
    """

    def __init__(self, library: ctypes.CDLL) -> None:
        # Signatures come from the one ABI table; a library with another ABI would be called
        # with wrong arguments, so it is refused here too (kernels.build checks it at load).
        mismatch = abi.problem(library)
        if mismatch:
            raise ValueError(f"this attention kernel library cannot be used: {mismatch}")
        self._fn = abi.bind(library, "hrm_attention_forward")
        self._back = abi.bind(library, "hrm_attention_backward")
        # The bfloat16 forward exists only where the compiler targeted a CPU with AVX512-BF16.
        has_bf16 = int(abi.bind(library, abi.HAS_BF16_FUNCTION)())
        self._fn16 = abi.bind(library, abi.BF16_FORWARD) if has_bf16 else None

    @property
    def has_bfloat16(self) -> bool:
        return self._fn16 is not None

    def supports(self, q: torch.Tensor) -> bool:
        """Float32 (or bfloat16 where the CPU has AVX512-BF16) on the CPU, head size a multiple
        of 16 up to 128, head_dim contiguous."""
        d = q.shape[-1]
        dtype_ok = q.dtype == torch.float32 or (q.dtype == torch.bfloat16 and self._fn16 is not None)
        return dtype_ok and q.device.type == "cpu" and d % 16 == 0 and d <= 128 and q.stride(-1) == 1

    def run(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
            tables: Tables = (None, None)) -> tuple[torch.Tensor, torch.Tensor]:
        """Output and per-query log-sum-exp ``[batch, heads, seq]`` (what the backward needs)."""
        batch, seq, heads, dim = q.shape
        out = torch.empty((batch, seq, heads, dim), dtype=q.dtype)
        lse = torch.empty((batch, heads, seq), dtype=torch.float32)
        fn = self._fn if q.dtype == torch.float32 else self._fn16
        assert fn is not None, "bfloat16 attention needs a CPU with AVX512-BF16"
        code = fn(q.data_ptr(), k.data_ptr(), v.data_ptr(), batch, seq, heads, dim,
                  _strides(q), _strides(k), _strides(v), out.data_ptr(), lse.data_ptr(),
                  dim ** -0.5, _ptr(tables[0]), _ptr(tables[1]), torch.get_num_threads())
        _check(code, "forward", q)
        return out, lse

    def run_backward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, out: torch.Tensor,
                     lse: torch.Tensor, grad_out: torch.Tensor,
                     tables: Tables = (None, None)) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gradients of q, k, v (``[batch, seq, heads, head_dim]``, contiguous; for q and k before
        RoPE when tables are given) from the output's. Float32 only."""
        batch, seq, heads, dim = q.shape
        if grad_out.stride(-1) != 1:
            grad_out = grad_out.contiguous()
        dq, dk, dv = (torch.empty((batch, seq, heads, dim), dtype=q.dtype) for _ in range(3))
        code = self._back(q.data_ptr(), k.data_ptr(), v.data_ptr(), out.data_ptr(), grad_out.data_ptr(),
                          _strides(q), _strides(k), _strides(v), _strides(out), _strides(grad_out),
                          lse.data_ptr(), dq.data_ptr(), dk.data_ptr(), dv.data_ptr(), batch, seq, heads, dim,
                          dim ** -0.5, _ptr(tables[0]), _ptr(tables[1]), torch.get_num_threads())
        _check(code, "backward", q)
        return dq, dk, dv

    def __call__(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                 cos_sin: Optional[CosSin] = None) -> torch.Tensor:
        fits = (self.supports(q) and q.numel() > 0 and k.shape == v.shape == q.shape
                and k.stride(-1) == 1 and v.stride(-1) == 1 and k.dtype == v.dtype == q.dtype)
        if cos_sin is not None:
            fits = (fits and tuple(cos_sin[0].shape) == tuple(cos_sin[1].shape) == (q.shape[1], q.shape[-1])
                    and cos_sin[0].dtype == cos_sin[1].dtype == torch.float32)
        if not fits:
            if cos_sin is not None:
                q, k = rotate_pairs(q, *cos_sin), rotate_pairs(k, *cos_sin)
            return F.scaled_dot_product_attention(
                q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)
        cos = sin = None
        if cos_sin is not None:  # both halves of each table are equal: the kernel reads [seq, head_dim / 2]
            half = q.shape[-1] // 2
            cos, sin = cos_sin[0][:, :half].contiguous(), cos_sin[1][:, :half].contiguous()
        if torch.is_grad_enabled() and (q.requires_grad or k.requires_grad or v.requires_grad):
            return _KernelAttention.apply(q, k, v, cos, sin, self)
        with profiled(KERNEL_NO_GRAD):
            return self.run(q, k, v, (cos, sin))[0]
