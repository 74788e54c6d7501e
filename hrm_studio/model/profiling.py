"""Names for stretches of a training step that torch's profiler cannot name by itself.

`make bench` profiles (benchmarks/official.py) read them: the Q-target pass as a whole, and the fused
attention kernel's no-grad calls (ctypes calls, invisible to the profiler otherwise). Entering a
``record_function`` costs ~16 µs even with no profiler running, so a range is only opened while one is.
"""

from __future__ import annotations

import contextlib
from typing import ContextManager

import torch

Q_TARGET_PASS = "q_target_pass"
KERNEL_NO_GRAD = "_KernelAttention (no grad)"


def profiled(name: str) -> ContextManager[object]:
    """A profiler range called `name` while torch's profiler runs; otherwise nothing at all."""
    if torch.autograd._profiler_enabled():
        return torch.profiler.record_function(name)
    return contextlib.nullcontext()
