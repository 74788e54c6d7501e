"""Axis ranges that change rarely, so the plots stay cheap to redraw while a run grows.

pyqtgraph re-renders an axis (ticks, labels, grid) whenever its range changes; with
autorange that is every epoch, and the re-render is most of the cost of a redraw. These
ranges instead snap to round numbers with headroom: the x axis spans the planned epochs,
accuracies span 0–100 %, and other values get a ceiling such as 2.5 or 0.002 that only
moves when the data leaves it (or shrinks well inside it).

Qt-free: the window's pyqtgraph plots and the headless report's Pillow charts both take
their ranges and tick steps from here, so the two pictures have the same axes.
"""

from __future__ import annotations

import math
from typing import Iterable

HEADROOM = 1.05
SHRINK_BELOW = 0.2   # re-fit when the data uses less than this share of the range


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ value (value > 0)."""
    return _nice_at_least(value, 1e-12)


def _nice_at_least(value: float, slack: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k not below `value` less a relative `slack`; 1 for nonsense."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for mantissa in (1.0, 2.0, 2.5, 5.0, 10.0):
        candidate = mantissa * 10.0 ** exponent
        if candidate >= value * (1 - slack):
            return candidate
    return 10.0 ** (exponent + 1)


def _finite(values: Iterable[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def y_range(values: Iterable[float], current: tuple[float, float] | None, *, percent: bool,
            log: bool) -> tuple[float, float]:
    """The y range to show; `current` is kept while the data still fits it well."""
    if percent:
        return (0.0, 100.0)
    data = _finite(values)
    if log:
        positive = [v for v in data if v > 0]
        if not positive:
            return current or (-3.0, 1.0)
        low, high = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive) * HEADROOM))
        wanted = (float(low), float(max(high, low + 1)))
        if current and current[0] <= wanted[0] and current[1] >= wanted[1] and current[1] - current[0] <= \
                wanted[1] - wanted[0] + 2:
            return current
        return wanted
    if not data:
        return current or (0.0, 1.0)
    top = max(max(data), 0.0)
    low = min(min(data), 0.0)
    if current is not None:
        fits = current[0] <= low and top <= current[1]
        roomy = top < SHRINK_BELOW * current[1] and current[1] > 0
        if fits and not roomy:
            return current
    ceiling = nice_ceiling(top * HEADROOM) if top > 0 else 1.0
    floor = -nice_ceiling(-low * HEADROOM) if low < 0 else 0.0
    return (floor, ceiling)


def x_range(values: Iterable[float], current: tuple[float, float] | None, *, planned: float | None,
            start: float) -> tuple[float, float]:
    """Epochs: from `start` to the planned last epoch. Wall time: a round ceiling that grows."""
    data = _finite(values)
    top = max(data) if data else start + 1
    if planned is not None:
        return (start, max(planned, top, start + 1))
    if current is not None and current[0] <= start and top <= current[1]:
        return current
    return (start, nice_ceiling(max(top, start + 1e-9) * 1.25))


def epoch_step(span: float) -> float:
    """Whole-epoch tick spacing giving about six labels."""
    step = 1.0
    while span / step > 8:
        for factor in (2.0, 2.5, 2.0):
            step *= factor
            if span / step <= 8:
                break
    return max(1.0, round(step))


def nice_step(span: float, target: int = 5) -> float:
    """A 1, 2, 2.5 or 5 × 10^k step dividing `span` into about `target` intervals."""
    if not math.isfinite(span) or span <= 0:
        return 1.0
    return _nice_at_least(span / max(target, 1), 1e-9)


def nice_ticks(low: float, high: float, step: float | None = None, target: int = 5) -> list[float]:
    """Tick values at multiples of `step` (a nice step for about `target` intervals when None) in [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    step = step or nice_step(high - low, target)
    first = math.ceil(low / step - 1e-9)
    ticks = []
    k = first
    while k * step <= high + step * 1e-9:
        value = k * step
        ticks.append(0.0 if abs(value) < step * 1e-9 else round(value, 12))
        k += 1
    return ticks
