"""Debiased exponential moving average, as TensorBoard smooths curves.

A plain EMA starts at zero and drags the first points down; dividing by (1 - w^n)
removes that start-up bias, so the smoothed curve begins at the first real value.
"""

from __future__ import annotations

import math
from typing import Sequence


def debiased_ema(values: Sequence[float], weight: float) -> list[float]:
    """Smooth `values` with weight `weight` in [0, 1); NaNs pass through and are skipped."""
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), not {weight}")
    out: list[float] = []
    average = 0.0
    count = 0
    for value in values:
        if not math.isfinite(value):
            out.append(math.nan)
            continue
        count += 1
        average = weight * average + (1.0 - weight) * value
        out.append(average / (1.0 - weight ** count))
    return out
