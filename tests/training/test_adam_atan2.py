"""Adam-atan2 against two steps computed by hand from the published rule (a = b = 1, decoupled decay)."""

from __future__ import annotations

import math

import pytest
import torch

from hrm_studio.config import TrainConfig
from hrm_studio.training.adam_atan2 import AdamAtan2
from hrm_studio.training.schedule import build_optimizer


def _by_hand(p0, grads, lr, beta1, beta2, decay):
    """p ← p·(1 − lr·wd); m, v ← EMAs of g, g²; p ← p − lr·atan2(m / (1 − β1ᵗ), sqrt(v / (1 − β2ᵗ)))."""
    p, m, v = list(p0), [0.0] * len(p0), [0.0] * len(p0)
    for t, g in enumerate(grads, start=1):
        for i, gi in enumerate(g):
            p[i] *= 1 - lr * decay
            m[i] = beta1 * m[i] + (1 - beta1) * gi
            v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
            p[i] -= lr * math.atan2(m[i] / (1 - beta1 ** t), math.sqrt(v[i] / (1 - beta2 ** t)))
    return p


def test_two_steps_match_the_published_update_rule():
    start, grads = [1.0, -2.0, 0.5, 3.0], [[0.1, -0.3, 0.0, 2.0], [-0.2, -0.1, 0.0, 1e-6]]
    param = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
    opt = AdamAtan2([param], lr=0.01, betas=(0.9, 0.95), weight_decay=0.1)
    for g in grads:
        param.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    assert param.tolist() == pytest.approx(_by_hand(start, grads, 0.01, 0.9, 0.95, 0.1), rel=1e-12, abs=1e-15)
    # The first step of any non-zero gradient moves by lr·π/4 (m̂ = g, sqrt(v̂) = |g|); a zero one only decays.
    first = AdamAtan2([torch.nn.Parameter(torch.tensor([0.0, 5.0]))], lr=0.5, weight_decay=0.0)
    first.param_groups[0]["params"][0].grad = torch.tensor([1e-8, 0.0])
    first.step()
    assert first.param_groups[0]["params"][0].tolist() == pytest.approx([-0.5 * math.pi / 4, 5.0])


def test_the_setting_builds_it_with_the_runs_betas_and_decay():
    model = torch.nn.Linear(2, 2)
    opt = build_optimizer(model, TrainConfig(optimizer="adam_atan2", lr=3e-4, beta1=0.8, beta2=0.9,
                                             weight_decay=1.0))
    assert isinstance(opt, AdamAtan2)
    assert opt.param_groups[0]["betas"] == (0.8, 0.9) and opt.param_groups[0]["weight_decay"] == 1.0
