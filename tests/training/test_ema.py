"""EMA of the weights: evaluation and saved weights come from the shadow, training from the raw
weights, and a resumed EMA run equals an uninterrupted one."""

from __future__ import annotations

import numpy as np
import torch

from hrm_studio.evaluation.predict import evaluate
from hrm_studio.training import checkpoint as ckpt
from hrm_studio.training.ema import WeightEMA
from hrm_studio.training.trainer import Trainer, comparable
from tests.reliability.helpers import tiny


def _raw(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_the_shadow_moves_by_the_decay_and_applied_restores_the_raw_weights_exactly():
    model = torch.nn.Linear(3, 2)
    ema = WeightEMA(model, 0.75)
    before = _raw(model)
    with torch.no_grad():
        model.weight.add_(4.0)
    ema.update(model)
    assert torch.allclose(ema.shadow["weight"], before["weight"] + 1.0)  # 0.75·w + 0.25·(w + 4)
    raw = _raw(model)
    with ema.applied(model):
        assert torch.equal(model.weight, ema.shadow["weight"])
    assert all(torch.equal(model.state_dict()[k], raw[k]) for k in raw)


def test_with_a_large_lr_the_shadow_differs_and_evaluation_and_checkpoints_use_it(tmp_path):
    config = tiny(1, ema_decay=0.9, lr=0.05, train_size=32, test_size=8, attention_kernel="torch")
    trainer = Trainer(config, tmp_path / "run")
    result = trainer.fit()
    model, ema = trainer.head.model, trainer.ema
    raw = _raw(model)
    assert any(not torch.allclose(ema.shadow[k], raw[k]) for k in ema.shadow)

    test = trainer._data.test
    with ema.applied(model):
        shadowed = evaluate(trainer.head, test, batch_size=64)
    unshadowed = evaluate(trainer.head, test, batch_size=64)
    held = result.last_predictions
    assert np.array_equal(held.q_halt, shadowed.q_halt)
    assert not np.array_equal(held.q_halt, unshadowed.q_halt)

    final = torch.load(tmp_path / "run" / "checkpoints" / "final.pt", weights_only=True)
    for name, shadow in ema.shadow.items():
        assert torch.equal(final["model"][name], shadow), name          # what is evaluated and exported
        assert torch.equal(final["ema"]["raw_model"][name], raw[name]), name  # what training resumes from
    assert ckpt.read_weights(tmp_path / "run" / "checkpoints" / "best.pt").state_dict.keys() == raw.keys()


def test_an_ema_run_resumed_from_last_pt_equals_an_uninterrupted_one(tmp_path):
    """With Adam-atan2 and a warm-up in steps as well: each is state a resumed run must carry on."""
    settings = dict(ema_decay=0.9, optimizer="adam_atan2", lr_warmup_steps=5, train_size=32, test_size=8,
                    attention_kernel="torch")
    straight = Trainer(tiny(2, **settings), tmp_path / "straight")
    whole = straight.fit()

    Trainer(tiny(1, **settings), tmp_path / "resumed").fit()
    again = Trainer(tiny(2, **settings), tmp_path / "resumed")
    again.resume_from(tmp_path / "resumed" / "checkpoints" / "last.pt")
    resumed = again.fit()

    assert comparable(resumed.history) == comparable(whole.history)
    for name, shadow in straight.ema.shadow.items():
        assert torch.equal(again.ema.shadow[name], shadow), name
    for name, value in straight.head.model.state_dict().items():
        assert torch.equal(again.head.model.state_dict()[name], value), name
