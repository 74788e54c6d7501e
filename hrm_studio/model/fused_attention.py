"""Attention through HRM Studio's fused C kernels (forward and backward).

The kernels (``hrm_studio/kernels/attention.c``) compute ``softmax(q kᵀ/√d) v`` in float32 and
its gradients, equal to torch's to float32 rounding. On 901 positions × head size 16 (the
seed models on the 30×30 canvas) forward + backward take ~0.7× the time of torch's CPU flash
attention (measured; see benchmarks/). Whatever the kernels do not cover (another dtype, a
head size that is not a multiple of 16, keys of another length) goes to
``scaled_dot_product_attention`` unchanged. This module does no file I/O: the library comes
in already loaded (see :mod:`hrm_studio.kernels.build`).
"""

from __future__ import annotations

import ctypes
from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["FusedAttention"]

_Strides = ctypes.c_long * 3


def _strides(t: torch.Tensor) -> Any:
    return _Strides(t.stride(0), t.stride(1), t.stride(2))


class _KernelAttention(torch.autograd.Function):
    """q, k, v ``[batch, seq, heads, head_dim]`` (strided views are fine) → out, same layout."""

    @staticmethod
    def forward(ctx: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, kernel: "FusedAttention") -> torch.Tensor:
        out, lse = kernel.run(q, k, v)
        ctx.save_for_backward(q, k, v, out, lse)
        ctx.kernel = kernel
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> Any:
        q, k, v, out, lse = ctx.saved_tensors
        kernel: FusedAttention = ctx.kernel
        if q.dtype == torch.float32:
            return (*kernel.run_backward(q, k, v, out, lse, grad_out), None)
        # bfloat16: the float32 backward on the upcast values (exact), gradients rounded back.
        grads = kernel.run_backward(q.float(), k.float(), v.float(), out.float(), lse, grad_out.float())
        return (*(g.to(q.dtype) for g in grads), None)


class FusedAttention:
    """Callable ``(q, k, v) → out`` over ``[batch, seq, heads, head_dim]`` tensors.

    Holds the loaded library's entry point; one instance serves every Attention module of a
    model. Threads follow ``torch.get_num_threads()`` at each call, like torch's kernels.
    """

    def __init__(self, library: ctypes.CDLL) -> None:
        fn = library.hrm_attention_forward
        fn.restype = ctypes.c_int
        fn.argtypes = [ctypes.c_void_p] * 3 + [ctypes.c_long] * 4 + [_Strides] * 3 + [
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_float, ctypes.c_int]
        self._fn = fn
        back = library.hrm_attention_backward
        back.restype = ctypes.c_int
        back.argtypes = [ctypes.c_void_p] * 5 + [_Strides] * 5 + [ctypes.c_void_p] * 4 + [ctypes.c_long] * 4 + [
            ctypes.c_float, ctypes.c_int]
        self._back = back
        # The bfloat16 forward exists only where the compiler targeted a CPU with AVX512-BF16.
        self._fn16 = None
        if int(library.hrm_attention_has_bf16()):
            fn16 = library.hrm_attention_forward_bf16
            fn16.restype = ctypes.c_int
            fn16.argtypes = fn.argtypes
            self._fn16 = fn16

    @property
    def has_bfloat16(self) -> bool:
        return self._fn16 is not None

    def supports(self, q: torch.Tensor) -> bool:
        """Float32 (or bfloat16 where the CPU has AVX512-BF16) on the CPU, head size a multiple
        of 16 up to 128, head_dim contiguous."""
        d = q.shape[-1]
        dtype_ok = q.dtype == torch.float32 or (q.dtype == torch.bfloat16 and self._fn16 is not None)
        return dtype_ok and q.device.type == "cpu" and d % 16 == 0 and d <= 128 and q.stride(-1) == 1

    def run(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch, seq, heads, dim = q.shape
        out = torch.empty((batch, seq, heads, dim), dtype=q.dtype)
        lse = torch.empty((batch, heads, seq), dtype=torch.float32)
        fn = self._fn if q.dtype == torch.float32 else self._fn16
        assert fn is not None, "bfloat16 attention needs a CPU with AVX512-BF16"
        code = fn(q.data_ptr(), k.data_ptr(), v.data_ptr(), batch, seq, heads, dim,
                        _strides(q), _strides(k), _strides(v), out.data_ptr(), lse.data_ptr(),
                        dim ** -0.5, torch.get_num_threads())
        if code != 0:
            raise RuntimeError(f"the fused attention kernel refused shape {tuple(q.shape)}")
        return out, lse

    def run_backward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, out: torch.Tensor,
                     lse: torch.Tensor, grad_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gradients of q, k, v (``[batch, seq, heads, head_dim]``, contiguous) from the output's."""
        batch, seq, heads, dim = q.shape
        if grad_out.stride(-1) != 1:
            grad_out = grad_out.contiguous()
        dq, dk, dv = (torch.empty((batch, seq, heads, dim), dtype=q.dtype) for _ in range(3))
        code = self._back(q.data_ptr(), k.data_ptr(), v.data_ptr(), out.data_ptr(), grad_out.data_ptr(),
                          _strides(q), _strides(k), _strides(v), _strides(out), _strides(grad_out),
                          lse.data_ptr(), dq.data_ptr(), dk.data_ptr(), dv.data_ptr(), batch, seq, heads, dim,
                          dim ** -0.5, torch.get_num_threads())
        if code != 0:
            raise RuntimeError(f"the fused attention backward refused shape {tuple(q.shape)}")
        return dq, dk, dv

    def __call__(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        if not (self.supports(q) and q.numel() > 0 and k.shape == v.shape == q.shape
                and k.stride(-1) == 1 and v.stride(-1) == 1 and k.dtype == v.dtype == q.dtype):
            return F.scaled_dot_product_attention(
                q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)
        if torch.is_grad_enabled() and (q.requires_grad or k.requires_grad or v.requires_grad):
            return _KernelAttention.apply(q, k, v, self)
        return self.run(q, k, v)[0]
