"""Trainer: one Qt-free training loop that the CLI and the GUI both drive.

How an epoch runs. Like the official code, training streams puzzles through a fixed
batch of rows: every optimiser step is one ACT segment, and a row whose puzzle halted
takes the next puzzle of the epoch. Unlike the official code, no puzzle is skipped or
repeated: an epoch is exactly one pass over every training puzzle, and rows left empty
at the end of an epoch never count in any metric or in the Q losses.

Control. `pause()`, `resume()`, `stop()` and `request_checkpoint()` may be called from any
thread; the loop honours them between two optimiser steps (within one batch).
"""

from __future__ import annotations

import math
import queue
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hrm_studio.config import RunConfig
from hrm_studio.data import PuzzleSet, TaskData
from hrm_studio.errors import CheckpointError, UserError
from hrm_studio.model import count_parameters
from hrm_studio.training import checkpoint as ckpt
from hrm_studio.training.data_source import load_data
from hrm_studio.training.events import (CheckpointSaved, EpochEnd, Evaluated, Event, EventCallback,
                                        Failed, Finished, Progress, Started)
from hrm_studio.training.metrics import EpochAccumulator, summarise_predictions
from hrm_studio.training.model_factory import build_head, hrm_config
from hrm_studio.training.predict import Predictions, evaluate
from hrm_studio.training.run_dir import RunDir, default_runs_root, new_run_name
from hrm_studio.training.schedule import build_optimizer, lr_factor

TIMING_KEYS = ("epoch_seconds", "samples_per_second", "puzzles_per_second", "wall_seconds",
               "eval_seconds")
PROGRESS_INTERVAL_S = 0.25


class TrainingError(UserError):
    """Training cannot go on (e.g. the loss became NaN); the run keeps what it had."""


@dataclass
class FitResult:
    reason: str
    history: list[dict[str, Any]]
    run_dir: Path
    best_metric: float | None
    last_predictions: Predictions | None = None


@dataclass
class _State:
    epoch: int = 0
    global_step: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    best_value: float | None = None
    best_epoch: int = 0
    bad_evals: int = 0
    wall_offset: float = 0.0


def epoch_seed(seed: int, epoch: int) -> int:
    """Each epoch reseeds torch, so a resumed run draws the same exploration as a straight one."""
    return (seed * 1_000_003 + epoch * 7919) % (2**63 - 1)


class Trainer:
    """Train one run. Construct, optionally call `load_weights`/`resume_from`, then `fit()`."""

    def __init__(self, config: RunConfig, run_dir: str | Path | None = None,
                 on_event: EventCallback | None = None, *, data: TaskData | None = None) -> None:
        self.config = config.copy().validate()
        self._on_event = on_event
        self._stop = threading.Event()
        self._unpaused = threading.Event()
        self._unpaused.set()
        self._save_requests: "queue.Queue[str]" = queue.Queue()
        self._data = data
        self._run_dir_arg = Path(run_dir) if run_dir is not None else None
        self._resume_payload: dict[str, Any] | None = None
        self._init_weights: ckpt.LoadedWeights | None = None
        self.run_dir: RunDir | None = None
        self.state = _State()
        self.head: torch.nn.Module | None = None

    # ----- control (any thread) -------------------------------------------------------------
    def pause(self) -> None:
        self._unpaused.clear()

    def resume(self) -> None:
        self._unpaused.set()

    def stop(self) -> None:
        self._stop.set()
        self._unpaused.set()

    @property
    def paused(self) -> bool:
        return not self._unpaused.is_set()

    def request_checkpoint(self, path: str | Path) -> None:
        """Save the current state to `path` between two steps (works while paused too)."""
        self._save_requests.put(str(path))

    # ----- setup ---------------------------------------------------------------------------
    def resume_from(self, path: str | Path) -> None:
        """Continue a Studio checkpoint: weights, optimiser, epoch, history and best score."""
        loaded = ckpt.read_weights(path)
        if loaded.payload is None:
            raise CheckpointError(f"{path} holds weights only (no optimiser or history), so it cannot be "
                                  f"resumed; start a new run from its weights instead.")
        saved = RunConfig.from_dict(loaded.payload.get("config") or {})
        for section in ("model", "data"):
            if getattr(saved, section) != getattr(self.config, section):
                raise CheckpointError(f"{path} was trained with different {section} settings; resume "
                                      f"it with the settings stored in the checkpoint.")
        self._resume_payload = loaded.payload

    def load_weights(self, path: str | Path) -> None:
        """Start a new run from these weights (optimiser and history start fresh)."""
        self._init_weights = ckpt.read_weights(path)

    # ----- events --------------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        if self._on_event is not None:
            self._on_event(event)

    # ----- the run -------------------------------------------------------------------------
    def fit(self) -> FitResult:
        """Train until done, solved, early-stopped or stopped. Raises after emitting Failed."""
        try:
            return self._fit()
        except BaseException as exc:
            message = str(exc) if isinstance(exc, UserError) else f"Training crashed: {type(exc).__name__}: {exc}"
            run_path = str(self.run_dir.path) if self.run_dir else ""
            if self.run_dir is not None:
                try:
                    self.run_dir.write_status("failed", message=message, epoch=self.state.epoch)
                except OSError:
                    pass
            self._emit(Failed(message=message, traceback=traceback.format_exc(), epoch=self.state.epoch,
                              run_dir=run_path))
            raise

    def _fit(self) -> FitResult:
        cfg = self.config
        t = cfg.train
        if t.num_threads:
            torch.set_num_threads(t.num_threads)
        data = self._data if self._data is not None else load_data(cfg)
        self._data = data
        info = data.info
        self._train_set, self._test_set = data.train, data.test

        vocab = ids = None
        init = self._init_weights
        if init is not None:
            told = ckpt.shapes_from_weights(init.state_dict)
            ckpt.check_config_against_weights(cfg, init.state_dict, init.path or "the checkpoint")
            vocab, ids = told.get("vocab_size"), told.get("num_puzzle_identifiers")
        self.hrm_cfg = hrm_config(cfg, info, vocab_size=vocab, num_puzzle_identifiers=ids)
        torch.manual_seed(t.seed)
        head = build_head(cfg, self.hrm_cfg)
        self.head = head
        optimizer = build_optimizer(head.model, t)
        self.optimizer = optimizer
        state = self.state
        if self._resume_payload is not None:
            self._restore(self._resume_payload)
        elif init is not None:
            ckpt.load_into(head.model, init.state_dict, init.path or "the checkpoint")

        self.run_dir = self._make_run_dir()
        self.run_dir.write_config(cfg.to_dict())
        self.run_dir.write_task(info.to_dict())
        self.run_dir.reset_metrics(state.history)
        self.run_dir.write_history(state.history)
        self.run_dir.write_status("running", epoch=state.epoch)
        self._emit(Started(run_dir=str(self.run_dir.path), config=cfg.to_dict(),
                           num_parameters=count_parameters(head.model), train_size=len(data.train),
                           test_size=len(data.test), task=info.to_dict(), start_epoch=state.epoch))

        self._train_tensors = _with_empty_row(data.train)
        reason = "completed"
        wall_start = time.perf_counter() - state.wall_offset
        last_pred: Predictions | None = None
        for epoch in range(state.epoch + 1, t.epochs + 1):
            if self._stop.is_set():
                reason = "stopped"
                break
            torch.manual_seed(epoch_seed(t.seed, epoch))
            acc, train_seconds = self._train_epoch(epoch, wall_start)
            if acc is None:
                reason = "stopped"
                break
            row: dict[str, Any] = {"epoch": epoch}
            row.update(acc.summary())
            if row.get("loss") is not None and not math.isfinite(row["loss"]):
                raise TrainingError(f"The loss became {row['loss']} in epoch {epoch}; training was stopped. "
                                    f"Lower the learning rate or turn on gradient clipping, then resume "
                                    f"from the last checkpoint.")
            row["learning_rate"] = t.lr * lr_factor(epoch, t)
            row["epoch_seconds"] = train_seconds
            row["samples_per_second"] = acc.segments / max(train_seconds, 1e-9)
            row["puzzles_per_second"] = acc.count / max(train_seconds, 1e-9)
            if epoch % t.eval_interval == 0 or epoch == t.epochs:
                eval_started = time.perf_counter()
                pred = evaluate(head, data.test, batch_size=max(t.batch_size, 64),
                                should_stop=self._stop.is_set)
                if pred is None:
                    reason = "stopped"
                    break
                last_pred = pred
                held_out = summarise_predictions(pred, data.test.patterns)
                row.update(held_out)
                row["eval_seconds"] = time.perf_counter() - eval_started
                self._emit(Evaluated(epoch=epoch, split="test", metrics=held_out))
            row["wall_seconds"] = time.perf_counter() - wall_start
            state.epoch = epoch
            state.history.append(row)
            self.run_dir.append_metrics(row)
            self.run_dir.write_history(state.history)
            self._emit(EpochEnd(epoch=epoch, epochs=t.epochs, metrics=dict(row)))
            stop_reason = self._after_epoch(row)
            self._serve_save_requests()
            if stop_reason:
                reason = stop_reason
                break
        if self._stop.is_set() and reason == "completed":
            reason = "stopped"
        state.wall_offset = time.perf_counter() - wall_start
        self._save("final")
        self._serve_save_requests()
        self.run_dir.write_status("finished" if reason != "stopped" else "stopped", reason=reason,
                                  epoch=state.epoch, best=state.best_value)
        self._emit(Finished(reason=reason, epochs_done=state.epoch, best_metric=state.best_value,
                            run_dir=str(self.run_dir.path), history=list(state.history)))
        return FitResult(reason, state.history, self.run_dir.path, state.best_value, last_pred)

    def _make_run_dir(self) -> RunDir:
        path = self._run_dir_arg
        if path is None:
            path = default_runs_root() / new_run_name(self.config.data.task)
        return RunDir(path).create()

    # ----- one epoch -------------------------------------------------------------------------
    def _train_epoch(self, epoch: int, wall_start: float) -> tuple[EpochAccumulator | None, float]:
        head, t = self.head, self.config.train
        assert head is not None
        inputs, labels, ids = self._train_tensors
        puzzles = self._train_set
        n = len(puzzles)
        rows = min(t.batch_size, n)
        order = np.random.default_rng([t.seed, epoch]).permutation(n)
        row_puzzle = np.full(rows, -1, dtype=np.int64)
        halted = np.ones(rows, dtype=bool)
        next_pos = 0
        acc = EpochAccumulator(puzzles.patterns)
        emb = getattr(head.model.inner, "puzzle_emb", None)
        head.train()
        carry = None
        started = time.perf_counter()
        paused_for = 0.0
        last_progress = 0.0
        while True:
            free = np.flatnonzero(halted)
            take = min(len(free), n - next_pos)
            row_puzzle[free[:take]] = order[next_pos:next_pos + take]
            row_puzzle[free[take:]] = -1
            next_pos += take
            if (row_puzzle < 0).all():
                break
            gather = torch.from_numpy(np.where(row_puzzle < 0, n, row_puzzle))
            batch = {"inputs": inputs[gather], "labels": labels[gather], "puzzle_identifiers": ids[gather]}
            if carry is None:
                carry = head.initial_carry(batch)
            factor = lr_factor(epoch - 1 + next_pos / n, t)
            for group in self.optimizer.param_groups:
                group["lr"] = t.lr * factor
            result = head(carry, batch)
            (result.loss / rows).backward()
            if t.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(head.model.parameters(), t.grad_clip)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            if emb is not None:
                emb.sign_sgd_step(t.puzzle_emb_lr * factor, t.puzzle_emb_weight_decay)
            self.state.global_step += 1
            carry = result.carry
            empty = torch.from_numpy(row_puzzle < 0)
            carry.halted = carry.halted | empty
            halted = carry.halted.numpy().copy()
            acc.add(float(result.loss.detach()), {k: float(v) for k, v in result.metrics.items()},
                    {k: v.numpy() for k, v in result.rows.items() if k != "predictions"}, row_puzzle)

            now = time.perf_counter()
            if now - last_progress >= PROGRESS_INTERVAL_S:
                last_progress = now
                elapsed = now - started - paused_for
                self._emit(Progress(epoch=epoch, epochs=t.epochs, puzzles_done=acc.count, puzzles_total=n,
                                    samples_per_second=acc.segments / max(elapsed, 1e-9),
                                    elapsed_seconds=now - wall_start))
            self._serve_save_requests()
            if not self._unpaused.is_set():
                paused_at = time.perf_counter()
                self._wait_while_paused()
                paused_for += time.perf_counter() - paused_at
            if self._stop.is_set():
                return None, 0.0
        return acc, time.perf_counter() - started - paused_for

    def _wait_while_paused(self) -> None:
        while not self._unpaused.wait(0.05):
            self._serve_save_requests()

    # ----- bookkeeping -----------------------------------------------------------------------
    def _after_epoch(self, row: dict[str, Any]) -> str:
        """Update the best score, save best.pt, and say whether the run should end."""
        t, state = self.config.train, self.state
        metric = t.early_stopping_metric
        value = row.get(metric)
        if value is not None:
            lower_is_better = metric.endswith("loss")
            better = (state.best_value is None
                      or (value < state.best_value if lower_is_better else value > state.best_value))
            if better:
                state.best_value, state.best_epoch, state.bad_evals = float(value), row["epoch"], 0
                self._save("best")
            else:
                state.bad_evals += 1
        exact = row.get("val_exact_match_accuracy")
        if t.stop_at_exact > 0 and exact is not None and exact >= t.stop_at_exact:
            return "solved"
        if t.early_stopping_patience and state.bad_evals >= t.early_stopping_patience:
            return "early_stopped"
        if self._stop.is_set():
            return "stopped"
        return ""

    def _payload(self) -> dict[str, Any]:
        assert self.head is not None
        s = self.state
        return {
            "model": {k: v.detach().clone() for k, v in self.head.model.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "scheduler": {"kind": self.config.train.lr_schedule, "global_step": s.global_step},
            "epoch": s.epoch,
            "global_step": s.global_step,
            "config": self.config.to_dict(),
            "task": self._data.info.to_dict() if self._data is not None else {},
            "history": list(s.history),
            "best": {"metric": self.config.train.early_stopping_metric, "value": s.best_value,
                     "epoch": s.best_epoch, "bad_evals": s.bad_evals},
            "wall_seconds": s.wall_offset,
            "rng": {"torch": torch.get_rng_state()},
        }

    def _save(self, kind: str, path: str | Path | None = None) -> Path:
        assert self.run_dir is not None
        target = Path(path) if path is not None else self.run_dir.checkpoint(kind)
        ckpt.save_checkpoint(target, self._payload())
        self._emit(CheckpointSaved(path=str(target), kind=kind, epoch=self.state.epoch))
        return target

    def _serve_save_requests(self) -> None:
        while True:
            try:
                path = self._save_requests.get_nowait()
            except queue.Empty:
                return
            self._save("manual", path)

    def _restore(self, payload: dict[str, Any]) -> None:
        assert self.head is not None
        ckpt.load_into(self.head.model, ckpt.strip_prefixes(payload["model"]), "the checkpoint")
        try:
            self.optimizer.load_state_dict(payload["optimizer"])
        except (KeyError, ValueError) as exc:
            raise CheckpointError(f"The optimiser state in the checkpoint does not fit: {exc}.") from None
        s = self.state
        s.epoch = int(payload.get("epoch", 0))
        s.global_step = int(payload.get("global_step", 0))
        s.history = [dict(r) for r in payload.get("history", [])]
        best = payload.get("best") or {}
        s.best_value = best.get("value")
        s.best_epoch = int(best.get("epoch") or 0)
        s.bad_evals = int(best.get("bad_evals") or 0)
        s.wall_offset = float(payload.get("wall_seconds") or 0.0)
        rng = (payload.get("rng") or {}).get("torch")
        if isinstance(rng, torch.Tensor):
            torch.set_rng_state(rng)


def _with_empty_row(puzzles: PuzzleSet) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The split as tensors plus one all-padding row at index N for empty batch rows."""
    seq = puzzles.inputs.shape[1]
    inputs = np.concatenate([puzzles.inputs, np.zeros((1, seq), puzzles.inputs.dtype)]).astype(np.int32)
    labels = np.concatenate([puzzles.labels, np.full((1, seq), -100, puzzles.labels.dtype)]).astype(np.int64)
    ids = np.concatenate([puzzles.puzzle_identifiers, np.zeros(1, puzzles.puzzle_identifiers.dtype)])
    return torch.from_numpy(inputs), torch.from_numpy(labels), torch.from_numpy(ids.astype(np.int32))


def comparable(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History rows without wall-clock figures: what must match between identical runs."""
    return [{k: v for k, v in row.items() if k not in TIMING_KEYS} for row in history]
