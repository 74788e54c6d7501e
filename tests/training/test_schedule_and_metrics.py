"""Learning-rate schedule shape and the metric helpers."""

from __future__ import annotations

import numpy as np
import pytest

from hrm_studio.config import TrainConfig
from hrm_studio.evaluation.metrics import EpochAccumulator
from hrm_studio.training.schedule import lr_factor


def test_warmup_then_cosine_to_the_minimum_ratio():
    t = TrainConfig(epochs=10, lr_warmup_epochs=2.0, lr_schedule="cosine", lr_min_ratio=0.1)
    assert lr_factor(0.0, t) == 0.0
    assert lr_factor(1.0, t) == pytest.approx(0.5)
    assert lr_factor(2.0, t) == pytest.approx(1.0)
    assert lr_factor(6.0, t) == pytest.approx(0.1 + 0.9 * 0.5)
    assert lr_factor(10.0, t) == pytest.approx(0.1)


def test_constant_schedule_after_warmup():
    t = TrainConfig(epochs=10, lr_warmup_epochs=0.0, lr_schedule="constant")
    assert lr_factor(0.0, t) == lr_factor(9.5, t) == 1.0


def test_accumulator_counts_halted_real_rows_only():
    acc = EpochAccumulator(np.array(["copy", "increment", "copy"]))
    rows = {"valid": np.array([True, True, False, True]), "has_labels": np.array([True, True, True, False]),
            "token_correct": np.array([4, 2, 0, 0]), "token_count": np.array([4, 4, 4, 0]),
            "exact": np.array([True, False, False, True]), "steps": np.array([1, 2, 1, 1]),
            "q_halt_logits": np.array([1.0, -1.0, 0.0, 5.0])}
    # Row 3 is padding (puzzle -1): it never counts even though 'valid' says so.
    acc.add(2.0, {"count": 2.0}, rows, np.array([0, 1, 2, -1]))
    s = acc.summary()
    assert s["puzzles"] == 2
    assert s["token_accuracy"] == pytest.approx((1.0 + 0.5) / 2)
    assert s["exact_match_accuracy"] == pytest.approx(0.5)
    assert s["copy_accuracy"] == 1.0 and s["increment_accuracy"] == 0.0
    assert s["q_halt_accuracy"] == 1.0
    assert s["mean_act_steps"] == pytest.approx(1.5)
    assert s["loss"] == pytest.approx(2.0 / 3)  # per labelled row-segment


def test_warmup_in_steps_counts_from_the_first_step_as_upstream():
    t = TrainConfig(epochs=10, lr_warmup_steps=4, lr_schedule="constant")
    assert [lr_factor(0.0, t, step) for step in (1, 2, 4, 9)] == [0.25, 0.5, 1.0, 1.0]
    assert lr_factor(0.0, t) == 1.0  # no step known: past the warm-up
    cosine = TrainConfig(epochs=10, lr_warmup_steps=4, lr_schedule="cosine", lr_min_ratio=0.1)
    assert lr_factor(5.0, cosine, 2) == pytest.approx(0.5 * (0.1 + 0.9 * 0.5))


def test_a_warmup_in_both_epochs_and_steps_is_refused_naming_both():
    from hrm_studio.config import RunConfig
    from hrm_studio.errors import ConfigError
    from hrm_studio.validation import validate

    config = RunConfig()
    config.apply_overrides(["lr_warmup_epochs=0.5", "lr_warmup_steps=100"])
    with pytest.raises(ConfigError, match=r"lr_warmup_steps: Warm-up is set twice, 0.5 epochs and 100 steps"):
        validate(config)
