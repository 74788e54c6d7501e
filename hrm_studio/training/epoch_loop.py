"""One training epoch: every training puzzle once, streamed through a fixed batch of rows.

After each optimiser step the weights' moving average (ema.py), when the run keeps one, takes
its step too.

Like the official code, every optimiser step is one ACT segment, and a row whose puzzle
halted takes the next puzzle of the epoch. Unlike the official code, no puzzle is skipped or
repeated: an epoch is exactly one pass over every training puzzle, and rows left empty at the
end of an epoch never count in any metric or in the Q losses. A NaN/inf loss or gradient is
refused *before* the bad update reaches the weights.
"""

from __future__ import annotations

import math
import time
from typing import Any, NoReturn, Protocol

import numpy as np
import torch

from hrm_studio.config import RunConfig
from hrm_studio.data import PuzzleSet
from hrm_studio.evaluation.metrics import EpochAccumulator
from hrm_studio.training.distributed import Exchange
from hrm_studio.training.ema import WeightEMA
from hrm_studio.training.schedule import lr_factor
from hrm_studio.training.train_state import TrainState

PROGRESS_INTERVAL_S = 0.25


def epoch_seed(seed: int, epoch: int) -> int:
    """Each epoch reseeds torch, so a resumed run draws the same exploration as a straight one."""
    return (seed * 1_000_003 + epoch * 7919) % (2**63 - 1)


class StepDriver(Protocol):
    """What the loop asks of the run between and after its steps."""

    state: TrainState  # its global_step (steps applied so far) sets the warm-up in steps

    def before_step(self) -> float | None:
        """Serve what waits between two steps and hold while paused: the seconds held, None to stop."""

    def after_step(self) -> None:
        """One optimiser step was applied."""

    def progress(self, epoch: int, acc: EpochAccumulator, total: int, elapsed: float) -> None:
        """A few times a second: how far the epoch is (`elapsed` excludes pauses)."""

    def refuse_update(self, epoch: int, what: str) -> NoReturn:
        """Raise: the step's gradients were dropped because `what` (e.g. "loss became nan")."""


def with_empty_row(puzzles: PuzzleSet) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The split as tensors plus one all-padding row at index N for empty batch rows."""
    seq = puzzles.inputs.shape[1]
    inputs = np.concatenate([puzzles.inputs, np.zeros((1, seq), puzzles.inputs.dtype)]).astype(np.int32)
    labels = np.concatenate([puzzles.labels, np.full((1, seq), -100, puzzles.labels.dtype)]).astype(np.int64)
    ids = np.concatenate([puzzles.puzzle_identifiers, np.zeros(1, puzzles.puzzle_identifiers.dtype)])
    return torch.from_numpy(inputs), torch.from_numpy(labels), torch.from_numpy(ids.astype(np.int32))


def gradients_finite(params: list[torch.Tensor], emb: Any, grad_clip: float) -> bool:
    """Clip (when asked) and say whether every gradient is finite, puzzle embedding included."""
    grads = [p.grad for p in params if p.grad is not None]
    if grad_clip > 0:
        norm = torch.nn.utils.clip_grad_norm_(params, grad_clip)
    else:
        norm = torch.nn.utils.get_total_norm(grads) if grads else torch.zeros(())
    if not bool(torch.isfinite(norm)):
        return False
    local = getattr(emb, "local_weights", None)
    return local is None or local.grad is None or bool(torch.isfinite(local.grad).all())


class BatchStream:
    """An epoch's puzzles in a shuffled order, handed to batch rows as their puzzles halt."""

    def __init__(self, puzzles: PuzzleSet, tensors: tuple[torch.Tensor, ...], batch_size: int,
                 order: np.ndarray) -> None:
        self.size = len(puzzles)
        self.rows = min(batch_size, self.size)
        self._tensors = tensors
        self._order = order
        self.row_puzzle = np.full(self.rows, -1, dtype=np.int64)  # the puzzle in each row, -1: empty
        self._halted = np.ones(self.rows, dtype=bool)
        self._next = 0

    @property
    def fraction_started(self) -> float:
        return self._next / self.size

    def next_batch(self) -> dict[str, torch.Tensor] | None:
        """Give each halted row the next puzzle (or leave it empty); None when every row is empty."""
        free = np.flatnonzero(self._halted)
        take = min(len(free), self.size - self._next)
        self.row_puzzle[free[:take]] = self._order[self._next:self._next + take]
        self.row_puzzle[free[take:]] = -1
        self._next += take
        if (self.row_puzzle < 0).all():
            return None
        inputs, labels, ids = self._tensors
        gather = torch.from_numpy(np.where(self.row_puzzle < 0, self.size, self.row_puzzle))
        return {"inputs": inputs[gather], "labels": labels[gather], "puzzle_identifiers": ids[gather]}

    def advance(self, halted: np.ndarray) -> np.ndarray:
        """After a step, every row's halted flag: empty rows count as halted, so they take a
        puzzle if one is left."""
        self._halted = halted | (self.row_puzzle < 0)
        return self._halted


class EpochLoop:
    """Trains `head` one epoch at a time on the puzzles it was last pointed at."""

    def __init__(self, head: torch.nn.Module, optimizer: torch.optim.Optimizer, config: RunConfig,
                 driver: StepDriver, *, ema: WeightEMA | None = None, exchange: Exchange | None = None) -> None:
        self._head, self._optimizer, self._driver, self._ema = head, optimizer, driver, ema
        # The device, and in a run over several processes this one's rows and the step's collectives:
        self._x = exchange if exchange is not None else Exchange(torch.device("cpu"))
        self._config = config  # read each epoch and step: settings may change while the run goes on
        self._emb = getattr(head.model.inner, "puzzle_emb", None)
        self._params = [p for p in head.model.parameters() if p.requires_grad]
        self._puzzles: PuzzleSet | None = None
        self._tensors: tuple[torch.Tensor, ...] = ()

    def train_on(self, puzzles: PuzzleSet) -> None:
        """The split the next epochs train on (tensors are made again only when it changes)."""
        if puzzles is not self._puzzles:
            self._puzzles, self._tensors = puzzles, with_empty_row(puzzles)

    def run(self, epoch: int) -> tuple[EpochAccumulator | None, float]:
        """Train one epoch: its sums and its seconds (pauses excluded); None when stopped inside it."""
        t, head, puzzles = self._config.train, self._head, self._puzzles
        assert puzzles is not None
        torch.manual_seed(epoch_seed(t.seed, epoch))
        stream = BatchStream(puzzles, self._tensors, t.batch_size,
                             np.random.default_rng([t.seed, epoch]).permutation(len(puzzles)))
        acc = EpochAccumulator(puzzles.patterns)
        mine = self._x.split_rows(head.model, stream.rows)
        head.train()
        carry = None
        started = time.perf_counter()
        paused_for = last_progress = 0.0
        while True:
            held = self._driver.before_step()  # the first step of an epoch included
            if held is None:
                return None, 0.0
            paused_for += held
            batch = stream.next_batch()
            if batch is None:
                return acc, time.perf_counter() - started - paused_for
            batch = self._x.local(batch, mine)
            if carry is None:
                carry = head.initial_carry(batch)
            result, loss_value = self._step(epoch, stream, carry, batch)
            metrics, rows, halted = self._x.gather(result)
            carry = result.carry
            carry.halted = self._x.mine(stream.advance(halted), mine)
            acc.add(loss_value, metrics, rows, stream.row_puzzle)
            now = time.perf_counter()
            if now - last_progress >= PROGRESS_INTERVAL_S:
                last_progress = now
                self._driver.progress(epoch, acc, stream.size, now - started - paused_for)

    def _step(self, epoch: int, stream: BatchStream, carry: Any, batch: dict[str, torch.Tensor]) -> tuple[Any, float]:
        """One ACT segment and its optimiser step, refused before the update if anything is not finite."""
        t, optimizer = self._config.train, self._optimizer
        factor = lr_factor(epoch - 1 + stream.fraction_started, t, self._driver.state.global_step + 1)
        for group in optimizer.param_groups:
            group["lr"] = t.lr * factor
        result = self._head(carry, batch)
        loss_value = self._x.sum_loss(result.loss.detach())  # the whole global batch's
        if not math.isfinite(loss_value):
            self._refuse(epoch, f"loss became {loss_value}")
        (result.loss / stream.rows).backward()
        self._x.sync_gradients(self._params, self._emb)
        if not gradients_finite(self._params, self._emb, t.grad_clip):
            self._refuse(epoch, "gradients became NaN or infinite")
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if self._ema is not None:
            self._ema.update(self._head.model)
        if self._emb is not None:
            self._emb.sign_sgd_step(t.puzzle_emb_lr * factor, t.puzzle_emb_weight_decay)
        self._driver.after_step()
        return result, loss_value

    def _refuse(self, epoch: int, what: str) -> NoReturn:
        """Drop the step's gradients, then let the run stop: the bad update never reaches the weights."""
        self._optimizer.zero_grad(set_to_none=True)
        if self._emb is not None:
            self._emb.zero_local_grad()
        self._driver.refuse_update(epoch, what)
