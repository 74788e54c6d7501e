"""Loss functions and the ACT loss head against values computed by hand."""

from __future__ import annotations

import math
from typing import Dict, List

import pytest
import torch
from torch import nn

from hrm_studio.errors import ConfigError
from hrm_studio.model import ACTLossHead, ACTStepResult
from hrm_studio.model.hrm import HRMCarry, HRMInnerCarry
from hrm_studio.model.losses import (
    IGNORE_LABEL_ID,
    LOSS_FUNCTIONS,
    softmax_cross_entropy,
    stablemax_cross_entropy,
)
from .model_helpers import make_batch, tiny_model


def _stablemax_nll(row: List[float], label: int) -> float:
    s = [1.0 / (1.0 - x) if x < 0 else x + 1.0 for x in row]
    return -math.log(s[label] / sum(s))


def _softmax_nll(row: List[float], label: int) -> float:
    return -(row[label] - math.log(sum(math.exp(x) for x in row)))


def _bce(logit: float, target: float) -> float:
    p = 1.0 / (1.0 + math.exp(-logit))
    return -(target * math.log(p) + (1.0 - target) * math.log(1.0 - p))


def test_stablemax_cross_entropy_by_hand() -> None:
    logits = torch.tensor([[[-1.0, 0.0, 2.0], [3.0, -2.0, 0.5]]])
    labels = torch.tensor([[2, IGNORE_LABEL_ID]])
    out = stablemax_cross_entropy(logits, labels)
    assert out.dtype == torch.float64 and out.shape == (1, 2)
    # s = [1/2, 1, 3] -> p(label 2) = 3 / 4.5
    assert out[0, 0].item() == pytest.approx(-math.log(3 / 4.5), abs=1e-12)
    assert out[0, 1].item() == 0.0


def test_softmax_cross_entropy_by_hand() -> None:
    logits = torch.tensor([[[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]]])
    labels = torch.tensor([[0, IGNORE_LABEL_ID]])
    out = softmax_cross_entropy(logits, labels)
    assert out.dtype == torch.float32 and out.shape == (1, 2)
    assert out[0, 0].item() == pytest.approx(_softmax_nll([1.0, 2.0, 0.5], 0), rel=1e-6)
    assert out[0, 1].item() == 0.0


def test_loss_function_registry_and_unknown_name() -> None:
    assert set(LOSS_FUNCTIONS) == {"stablemax_cross_entropy", "softmax_cross_entropy"}
    with pytest.raises(ConfigError):
        ACTLossHead(tiny_model(), "cross_entropy")


# A hand-made segment: 3 rows, 3 tokens, vocab 3.
LOGITS = [
    [[0.0, 2.0, -1.0], [5.0, 0.0, 0.0], [-2.0, 0.5, 1.5]],  # row 0: both labelled tokens right
    [[1.0, 0.0, 0.0], [0.0, 3.0, -0.5], [0.2, 0.1, -3.0]],  # row 1: 1 of 3 right
    [[0.3, 0.1, 0.2], [0.0, 0.0, 1.0], [1.0, 2.0, 3.0]],  # row 2: padding row, nothing labelled
]
LABELS = [[1, IGNORE_LABEL_ID, 2], [0, 0, 1], [IGNORE_LABEL_ID] * 3]
Q_HALT = [0.5, -1.0, 2.0]
Q_CONTINUE = [-0.5, 0.3, 1.0]
TARGET = [0.6, 0.2, 0.9]
HALTED = [True, False, True]
STEPS = [2, 1, 3]


class _ScriptedModel(nn.Module):
    """Stands in for HRM: returns a fixed segment so the head can be checked by hand."""

    def __init__(
        self, with_target: bool = True, rows: slice = slice(None), halted: List[bool] = HALTED, q_halt: List[float] = Q_HALT
    ) -> None:
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))
        self.rows, self.with_target, self.halted, self.q_halt = rows, with_target, halted, q_halt

    def initial_carry(self, batch: Dict[str, torch.Tensor]) -> str:
        return "initial"

    def forward(self, carry, batch):
        r = self.rows
        labels = torch.tensor(LABELS)[r]
        z = torch.zeros(labels.shape[0], 1, 1)
        new_carry = HRMCarry(
            inner_carry=HRMInnerCarry(z, z),
            steps=torch.tensor(STEPS, dtype=torch.int32)[r],
            halted=torch.tensor(self.halted)[r],
            current_data={"labels": labels},
        )
        outputs = {
            "logits": torch.tensor(LOGITS)[r] + self.dummy,
            "q_halt_logits": torch.tensor(self.q_halt)[r] + self.dummy,
            "q_continue_logits": torch.tensor(Q_CONTINUE)[r] + self.dummy,
        }
        if self.with_target:
            outputs["target_q_continue"] = torch.tensor(TARGET)[r]
        return new_carry, outputs


def _hand_lm_loss(nll, rows) -> float:
    total = 0.0
    for r in rows:
        terms = [nll(LOGITS[r][t], LABELS[r][t]) for t in range(3) if LABELS[r][t] != IGNORE_LABEL_ID]
        total += sum(terms) / len(terms) if terms else 0.0
    return total


@pytest.mark.parametrize("loss_type,nll", [("stablemax_cross_entropy", _stablemax_nll), ("softmax_cross_entropy", _softmax_nll)])
def test_act_loss_head_by_hand(loss_type: str, nll) -> None:
    head = ACTLossHead(_ScriptedModel(), loss_type)  # type: ignore[arg-type]
    result = head(head.initial_carry({}), {})
    assert isinstance(result, ACTStepResult)

    lm = _hand_lm_loss(nll, [0, 1, 2])  # per-row mean over labelled tokens, summed
    q_halt = _bce(Q_HALT[0], 1.0) + _bce(Q_HALT[1], 0.0)  # row 2 (no labels) excluded
    q_cont = _bce(Q_CONTINUE[0], TARGET[0]) + _bce(Q_CONTINUE[1], TARGET[1])
    assert result.metrics["lm_loss"].item() == pytest.approx(lm, rel=1e-6)
    assert result.metrics["q_halt_loss"].item() == pytest.approx(q_halt, rel=1e-6)
    assert result.metrics["q_continue_loss"].item() == pytest.approx(q_cont, rel=1e-6)
    assert result.loss.item() == pytest.approx(lm + 0.5 * (q_halt + q_cont), rel=1e-6)
    assert result.loss.requires_grad and result.loss.ndim == 0

    # Official metrics, summed over halted rows with labels: only row 0 here.
    m = {k: v.item() for k, v in result.metrics.items()}
    assert m["count"] == 1
    assert m["accuracy"] == pytest.approx(1.0)
    assert m["exact_accuracy"] == 1
    assert m["q_halt_accuracy"] == 1  # q_halt 0.5 >= 0 and the row is exact
    assert m["steps"] == 2
    assert all(not v.requires_grad for v in result.metrics.values())


def test_metrics_accuracy_is_a_per_row_fraction() -> None:
    # Make every row count: then accuracy = 1 (row 0) + 1/3 (row 1); the padding row still not.
    head = ACTLossHead(_ScriptedModel(halted=[True, True, True]), "softmax_cross_entropy")  # type: ignore[arg-type]
    result = head(None, {})  # type: ignore[arg-type]
    m = {k: v.item() for k, v in result.metrics.items()}
    assert m["count"] == 2
    assert m["accuracy"] == pytest.approx(1.0 + 1.0 / 3.0)
    assert m["exact_accuracy"] == 1
    assert m["q_halt_accuracy"] == 2  # row 1: q_halt -1 < 0 and the row is wrong
    assert m["steps"] == 3


def test_q_halt_accuracy_counts_a_zero_logit_as_predicting_halt() -> None:
    # Row 0 (the only counted row) is exact; q_halt = 0 means sigmoid 0.5, read as "halt".
    head = ACTLossHead(_ScriptedModel(q_halt=[0.0, 0.0, 0.0]), "softmax_cross_entropy")  # type: ignore[arg-type]
    assert head(None, {}).metrics["q_halt_accuracy"].item() == 1  # type: ignore[arg-type]
    head = ACTLossHead(_ScriptedModel(q_halt=[-0.01, 0.0, 0.0]), "softmax_cross_entropy")  # type: ignore[arg-type]
    assert head(None, {}).metrics["q_halt_accuracy"].item() == 0  # type: ignore[arg-type]


def test_padding_row_only_changes_the_q_losses_relative_to_official() -> None:
    with_pad = ACTLossHead(_ScriptedModel(), "stablemax_cross_entropy")(None, {})  # type: ignore[arg-type]
    without = ACTLossHead(_ScriptedModel(rows=slice(0, 2)), "stablemax_cross_entropy")(None, {})  # type: ignore[arg-type]
    # The padding row adds nothing anywhere in our head ...
    for key in ("lm_loss", "q_halt_loss", "q_continue_loss", "count", "accuracy", "exact_accuracy"):
        assert with_pad.metrics[key].item() == pytest.approx(without.metrics[key].item())
    assert with_pad.loss.item() == pytest.approx(without.loss.item())
    # ... whereas the official head would have added its "exactly right" BCE terms.
    official_extra = 0.5 * (_bce(Q_HALT[2], 1.0) + _bce(Q_CONTINUE[2], TARGET[2]))
    official_total = without.loss.item() + official_extra
    assert official_total - with_pad.loss.item() == pytest.approx(official_extra)
    assert official_extra > 0.1


def test_no_q_continue_loss_without_target() -> None:
    head = ACTLossHead(_ScriptedModel(with_target=False), "softmax_cross_entropy")  # type: ignore[arg-type]
    result = head(None, {})  # type: ignore[arg-type]
    assert "q_continue_loss" not in result.metrics
    lm = _hand_lm_loss(_softmax_nll, [0, 1, 2])
    q_halt = _bce(Q_HALT[0], 1.0) + _bce(Q_HALT[1], 0.0)
    assert result.loss.item() == pytest.approx(lm + 0.5 * q_halt, rel=1e-6)


def test_per_row_outputs() -> None:
    result = ACTLossHead(_ScriptedModel(), "stablemax_cross_entropy")(None, {})  # type: ignore[arg-type]
    rows = result.rows
    assert rows["valid"].tolist() == [True, False, False]
    assert rows["has_labels"].tolist() == [True, True, False]
    assert rows["token_correct"].tolist() == [2, 1, 0]
    assert rows["token_count"].tolist() == [2, 3, 0]
    assert rows["exact"].tolist() == [True, False, False]  # a padding row is not "exact"
    assert rows["steps"].tolist() == STEPS
    assert rows["q_halt_logits"].tolist() == pytest.approx(Q_HALT)
    assert rows["q_continue_logits"].tolist() == pytest.approx(Q_CONTINUE)
    assert rows["predictions"].tolist() == [[1, 0, 2], [0, 1, 0], [0, 2, 2]]
    assert all(not v.requires_grad for v in rows.values())
    assert all(not v.requires_grad for v in result.outputs.values())
    assert set(result.outputs) == {"logits", "q_halt_logits", "q_continue_logits", "target_q_continue"}


def test_loss_head_on_the_real_model_trains_and_exposes_model_keys() -> None:
    model = tiny_model()
    head = ACTLossHead(model, "stablemax_cross_entropy")
    assert all(k.startswith("model.inner.") for k in head.state_dict())
    head.train()
    batch = make_batch(model.config)
    result = head(head.initial_carry(batch), batch)
    assert set(result.metrics) == {"count", "accuracy", "exact_accuracy", "q_halt_accuracy", "steps",
                                   "lm_loss", "q_halt_loss", "q_continue_loss"}
    result.loss.backward()
    assert model.inner.lm_head.weight.grad is not None
    assert model.inner.q_head.bias.grad is not None
    head.eval()
    with torch.no_grad():
        carry = head.initial_carry(batch)
        segments = 0
        while True:
            result = head(carry, batch)
            carry, segments = result.carry, segments + 1
            if result.all_halted:
                break
    assert segments == model.config.halt_max_steps
    assert "q_continue_loss" not in result.metrics
    assert result.metrics["count"].item() == 3
