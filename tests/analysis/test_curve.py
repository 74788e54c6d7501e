"""The per-step curve over a split ends where evaluation ends."""

from __future__ import annotations

import numpy as np
import pytest

from hrm_studio.analysis import StepCurve, step_curve
from hrm_studio.evaluation.predict import evaluate
from hrm_studio.model import ACTLossHead

from .helpers import COMMON, puzzles, tiny


@pytest.mark.parametrize("arch", ["hrm", "trm"])
def test_last_step_of_each_segment_equals_evaluation(arch):
    model = tiny(arch, seed=3)
    head = ACTLossHead(model, "softmax_cross_entropy")
    ps = puzzles(10)
    first = evaluate(head, ps, batch_size=4)
    ps.labels[::2] = first.predictions[::2, -1]  # half the puzzles exactly right at the end
    ps.labels[:, -1] = -100
    pred = evaluate(head, ps, batch_size=4)
    curve = step_curve(model, ps, segments=COMMON["halt_max_steps"], batch_size=4)
    assert isinstance(curve, StepCurve) and curve.count == 10
    sps = COMMON["H_cycles"]
    assert curve.steps == COMMON["halt_max_steps"] * sps and curve.steps_per_segment == sps
    assert curve.exact[-1] == pred.exact[:, -1].mean() == pytest.approx(0.5)
    assert np.array_equal(curve.exact[sps - 1::sps], pred.exact.mean(axis=0))
    token = pred.token_correct / np.maximum(pred.token_count, 1)[:, None]
    assert np.allclose(curve.token_accuracy[sps - 1::sps], token.mean(axis=0), atol=1e-12)


def test_critical_step_is_the_largest_rise():
    curve = StepCurve(steps_per_segment=2, exact=np.array([0.0, 0.1, 0.7, 0.8]), token_accuracy=np.zeros(4), count=5)
    assert curve.critical_step() == 2
    flat = StepCurve(steps_per_segment=2, exact=np.array([0.5, 0.5]), token_accuracy=np.zeros(2), count=5)
    assert flat.critical_step() is None
