"""Running an ACT model segment after segment with a recorder attached.

The inspector runs the recurrent core directly (reset once, then ``segments`` calls of
``inner.forward`` on the carried state) instead of the ACT wrapper, because the wrapper halts
and resets a row at ``halt_max_steps`` and the inspector may ask for more segments. For the
first ``halt_max_steps`` segments this is exactly what the wrapper does in eval mode, call for
call, so the numbers are the model's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
import torch

from hrm_studio.errors import UserError
from hrm_studio.model.act import ACTModel, InnerCarry, RecurrentCore, SegmentRecorder
from hrm_studio.model.trm import TRM

__all__ = ["AnalysisCancelled", "SegmentOutput", "StateRecorder", "act_model", "arch_of", "make_batch", "run_segments",
           "steps_per_segment"]


class AnalysisCancelled(UserError):
    """`should_stop()` turned true between two segments; nothing was returned (the editor asks again)."""


def act_model(model: Any) -> ACTModel:
    """The ACT model itself, whether `model` is one or a loss head wrapping one (``head.model``)."""
    if isinstance(model, ACTModel):
        return model
    inner = getattr(model, "model", None)
    if isinstance(inner, ACTModel):
        return inner
    raise UserError(f"The reasoning inspector needs an HRM or TRM model, not {type(model).__name__}.")


def arch_of(model: ACTModel) -> str:
    """``"trm"`` or ``"hrm"``."""
    return "trm" if isinstance(model, TRM) else "hrm"


def steps_per_segment(model: ACTModel) -> int:
    """High-level updates in one segment: HRM's H cycles, TRM's full recursions (also H_cycles)."""
    return int(model.config.H_cycles)


def make_batch(model: ACTModel, inputs: np.ndarray, puzzle_identifiers: np.ndarray) -> dict[str, torch.Tensor]:
    """A batch in the dtypes evaluation uses (int32), on the model's device."""
    device = model.inner.H_init.device
    ins = np.ascontiguousarray(np.atleast_2d(inputs), dtype=np.int32)
    if ins.shape[1] != model.config.seq_len:
        raise UserError(f"This puzzle has {ins.shape[1]} cells but the model reads {model.config.seq_len}; "
                        "pick a puzzle of the model's task.")
    ids = np.ascontiguousarray(np.atleast_1d(puzzle_identifiers), dtype=np.int32)
    return {"inputs": torch.from_numpy(ins).to(device), "puzzle_identifiers": torch.from_numpy(ids).to(device)}


@dataclass
class SegmentOutput:
    """What one segment returned, as the ACT wrapper would have: logits and both Q values."""

    logits: torch.Tensor
    q_halt: torch.Tensor
    q_continue: torch.Tensor


@dataclass
class StateRecorder:
    """Keeps every state: ``starts`` (the carry each segment began from), ``highs`` (z_H after
    each high-level update) and ``lows`` (z_L after each low-level update), in order."""

    starts: list[InnerCarry] = field(default_factory=list)
    highs: list[torch.Tensor] = field(default_factory=list)
    lows: list[torch.Tensor] = field(default_factory=list)

    def start(self, carry: InnerCarry) -> None:
        self.starts.append(carry)

    def low(self, z_L: torch.Tensor) -> None:
        self.lows.append(z_L.detach())

    def high(self, z_H: torch.Tensor) -> None:
        self.highs.append(z_H.detach())


def initial_carry(inner: RecurrentCore, batch_size: int) -> InnerCarry:
    """Every row at the learned initial states, as the ACT wrapper's first call makes it."""
    device = inner.H_init.device
    halted = torch.ones(batch_size, dtype=torch.bool, device=device)
    return inner.reset_carry(halted, inner.empty_carry(batch_size, device=device))


@torch.inference_mode()
def run_segments(model: ACTModel, batch: dict[str, torch.Tensor], segments: int,
                 recorder: Optional[SegmentRecorder],
                 should_stop: Optional[Callable[[], bool]] = None) -> list[SegmentOutput]:
    """``segments`` segments without halting, in eval mode (the mode is restored after).
    `should_stop` is polled before each segment; once true, AnalysisCancelled is raised."""
    if segments < 1:
        raise UserError("Run at least one segment.")
    was_training = model.training
    model.eval()
    try:
        inner = model.inner
        carry = initial_carry(inner, int(batch["inputs"].shape[0]))
        outputs = []
        for _ in range(segments):
            if should_stop is not None and should_stop():
                raise AnalysisCancelled("The reasoning inspector was cancelled.")
            if isinstance(recorder, StateRecorder):
                recorder.start(carry)
            carry, logits, (q_halt, q_continue) = inner(carry, batch, recorder=recorder)
            outputs.append(SegmentOutput(logits, q_halt, q_continue))
        return outputs
    finally:
        model.train(was_training)
