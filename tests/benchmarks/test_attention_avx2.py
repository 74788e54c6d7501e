"""The attention benchmark's ceiling rows: the kernel's counted FLOP/s and the linear layers' FLOP/s,
each divided by the matmul peak measured in the same process."""

from __future__ import annotations

import math

import pytest

from benchmarks.attention_avx2 import (
    POSITIONS,
    SHAPES,
    _ceiling_figures,
    linear_share_of_peak,
)


def test_ceiling_rows_divide_the_counted_flops_by_the_time_and_the_peak() -> None:
    peak = 100e9
    passes = {"forward": {"kernel": 0.004, "sdpa": 0.006}, "forward + backward": {"kernel": 0.02, "sdpa": 0.03}}
    rows = {f["name"]: f for f in _ceiling_figures("seed", passes, {"peak": peak, "linear": {"seed": 90e9}})}
    batch, heads, dim = SHAPES["seed"]
    scores = batch * heads * POSITIONS ** 2
    forward = rows["attention seed, forward: fused kernel's counted FLOP/s ÷ fp32 matmul peak"]
    both = rows["attention seed, forward + backward: fused kernel's counted FLOP/s ÷ fp32 matmul peak"]
    assert forward["value"] == pytest.approx(4 * dim * scores / 0.004 / peak)
    assert both["value"] == pytest.approx(12 * dim * scores / 0.02 / peak)
    assert rows["linear layers at the seed shapes: FLOP/s ÷ fp32 matmul peak"]["value"] == pytest.approx(0.9)
    assert all(f["met"] is None and f["target"] == "" for f in rows.values())  # figures, not targets


def test_the_linear_rate_is_a_finite_positive_flop_rate() -> None:
    rate = linear_share_of_peak(batch=1, hidden=16, inter=16, reps=2)
    assert math.isfinite(rate) and rate > 1e6
