"""Trainer: one Qt-free training loop that the CLI and the GUI both drive.

It reads as its steps: `_set_up` (data, model, run folder) → for each epoch `_train_epoch` →
`_evaluate` → `_record` → `_finish`. Beside it: the epoch over streamed batches
(epoch_loop.py), pause / stop / checkpoint requests from any thread (control.py), the live
viewer (live_viewer.py), best score and early stopping (early_stopping.py), curriculum levels
(curriculum_levels.py), the averaged weights it evaluates and keeps (ema.py), the checkpoint
payload and its resume checks (checkpoint.py), and every write to the run folder
(runstore/writer.py).

Nothing lost. Every finished epoch is appended to the run's history and saved as the last
complete epoch's checkpoint, each write atomic, so a run killed at any instant resumes from
there to the same end. A NaN/inf loss or gradient stops the run *before* the bad update is
applied. A failed write is one sentence saying what is still safe and how to continue.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NoReturn

import torch

from hrm_studio.config import RunConfig
from hrm_studio.costs import check_memory
from hrm_studio.data import PuzzleSet, TaskData
from hrm_studio.errors import UserError
from hrm_studio.evaluation.metrics import EpochAccumulator, summarise_predictions
from hrm_studio.evaluation.predict import Predictions, evaluate
from hrm_studio.events import (CheckpointSaved, EpochEnd, Evaluated, Event, EventCallback, Failed, Finished,
                               Notice, Progress, Started)
from hrm_studio.model import count_parameters
from hrm_studio.runstore.keys import TIMING_KEYS, CheckpointKind, HistoryKey, RunState
from hrm_studio.runstore.run_dir import RunDir, run_name_stem
from hrm_studio.runstore.writer import RunSnapshot, RunWriter
from hrm_studio.training import arc_pass, checkpoint as ckpt, fine_tune
from hrm_studio.training.device import bfloat16_note
from hrm_studio.training.control import RunControl
from hrm_studio.training.curriculum_levels import CurriculumLevels
from hrm_studio.training.data_source import load_data, shape_of
from hrm_studio.training.distributed import Exchange, join
from hrm_studio.training.early_stopping import EndReason, reason_to_end, track_best
from hrm_studio.training.ema import WeightEMA, evaluating
from hrm_studio.training.epoch_loop import EpochLoop
from hrm_studio.training.live_viewer import LiveViewer
from hrm_studio.training.model_factory import attention_kernel, build_head, model_config
from hrm_studio.training.schedule import build_optimizer, lr_factor
from hrm_studio.training.train_state import TrainState
from hrm_studio.training.training_error import TrainingError, update_refused
from hrm_studio.validation import validate


@dataclass
class FitResult:
    reason: str
    history: list[dict[str, Any]]
    run_dir: Path
    best_metric: float | None
    last_predictions: Predictions | None = None


def comparable(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History rows without wall-clock figures: what must match between identical runs."""
    return [{k: v for k, v in row.items() if k not in TIMING_KEYS} for row in history]


class Trainer(RunControl):
    """Train one run. Construct (or `Trainer.resuming`), optionally `load_weights`/`resume_from`, then `fit()`.

    `pause()`, `resume()`, `stop()`, `paused` and `request_checkpoint()` (from RunControl) may be
    called from any thread while it trains.
    """

    def __init__(self, config: RunConfig, run_dir: str | Path | None = None,
                 on_event: EventCallback | None = None, *, data: TaskData | None = None) -> None:
        super().__init__()
        self.config = validate(config.copy())
        self._on_event = on_event
        self._fitting = threading.Lock()  # one fit() at a time
        self._data = data
        self._run_dir_arg = Path(run_dir) if run_dir is not None else None
        self._resume: ckpt.ResumePoint | None = None
        self._init_weights: ckpt.LoadedWeights | None = None
        self.state = TrainState()
        # Made afresh by each fit()'s set-up:
        self.model_cfg: Any = None
        self.head: torch.nn.Module | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.ema: WeightEMA | None = None  # the averaged weights a run evaluates and keeps (ema_decay > 0)
        self.writer: RunWriter | None = None
        self._exchange: Exchange | None = None  # the device; in a distributed run also the process group
        self.run_dir: RunDir | None = None
        self._loop: EpochLoop | None = None
        self._levels: CurriculumLevels | None = None
        self._viewer: LiveViewer | None = None
        self._wall_start: float | None = None
        self._last_pred: Predictions | None = None

    # ----- where the run starts -------------------------------------------------------------
    def resume_from(self, path: str | Path) -> None:
        """Continue a Studio checkpoint: weights, optimiser, epoch, history and best score.

        `path` may also be a run folder: the checkpoint of its last complete epoch is used,
        else the one saved where it ended.
        """
        point = ckpt.read_resume(path)
        ckpt.check_resume_settings(point, self.config)
        self._resume = point

    @classmethod
    def resuming(cls, path: str | Path, on_event: EventCallback | None = None, *, epochs: int | None = None,
                 settings: Callable[[RunConfig], RunConfig] | None = None,
                 run_dir: str | Path | None = None) -> "Trainer":
        """A Trainer that continues `path` (a run folder or a checkpoint) with its stored settings.

        `settings(stored)` may change them (the CLI's --preset / --config / --set), `epochs` may
        extend the run; model and data settings must stay. It writes into `run_dir`, else into
        the run folder the checkpoint belongs to.
        """
        point = ckpt.read_resume(path)
        config = point.config.copy()
        if settings is not None:
            config = settings(config)
        if epochs is not None:
            config.set("epochs", epochs)
        trainer = cls(config, run_dir if run_dir is not None else point.run_folder, on_event)
        ckpt.check_resume_settings(point, trainer.config)
        trainer._resume = point
        return trainer

    def load_weights(self, path: str | Path) -> None:
        """Start a new run from these weights (optimiser and history start fresh)."""
        self._init_weights = ckpt.read_weights(path)

    # ----- events ----------------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def _notice(self, kind: str, message: str) -> None:
        self._emit(Notice(kind=kind, message=message, epoch=self.state.epoch,
                          run_dir=str(self.run_dir.path) if self.run_dir is not None else ""))

    # ----- the run -------------------------------------------------------------------------
    def fit(self) -> FitResult:
        """Train until done, solved, early-stopped or stopped. Raises after emitting Failed.

        A second call while the first is still running raises TrainingError at once (and
        emits nothing: the first run is unaffected).
        """
        if not self._fitting.acquire(blocking=False):
            raise TrainingError("This trainer is already training; stop it and wait for it to finish before "
                                "starting it again.")
        try:
            return self._fit()
        except BaseException as exc:
            message = str(exc) if isinstance(exc, UserError) else f"Training crashed: {type(exc).__name__}: {exc}"
            if self.writer is not None:
                self.writer.fail(message)
            self._emit(Failed(message=message, traceback=traceback.format_exc(), epoch=self.state.epoch,
                              run_dir=str(self.run_dir.path) if self.run_dir is not None else ""))
            raise
        finally:
            self._fitting.release()
            if self._exchange is not None:
                self._exchange.leave()

    def _fit(self) -> FitResult:
        self._set_up()
        return self._finish(self._run_epochs())

    # ----- set-up ------------------------------------------------------------------------------
    def _set_up(self) -> None:
        """Everything before the first step; what cannot work is refused before anything is written."""
        t = self.config.train
        self._exchange = join(self.config)  # the device, and under torchrun this process's place in the group
        if t.num_threads:
            torch.set_num_threads(t.num_threads)
        data = self._load_data()
        self._levels = CurriculumLevels.for_run(self.config, data, resuming=self._resume is not None)
        self._wall_start, self._last_pred = None, None
        self._build_model(data)
        self._arc = arc_pass.ArcPassScorer.for_run(self.config, data)  # pass@2 at each evaluation on ARC data
        self._open_run_folder(data)
        if self._resume is None or self.run_dir.existing_checkpoint(CheckpointKind.LAST) is None:
            self._save(CheckpointKind.LAST)  # the starting point: a run stopped or killed in its first epoch resumes here
        self._viewer = LiveViewer(self.config, data, self._predict, self._emit)
        self._loop = EpochLoop(self.head, self.optimizer, self.config, self, ema=self.ema, exchange=self._exchange)
        self._loop.train_on(data.train)
        self._wall_start = time.perf_counter() - self.state.wall_offset

    def _load_data(self) -> TaskData:
        if self._data is None:
            self._data = load_data(self.config, check=True)  # refuses what would not fit before generating
        else:
            check_memory(self.config, shape_of(self._data))
        return self._data

    def _build_model(self, data: TaskData) -> None:
        """The model (sized by the data, or by the weights it starts from), its optimiser, and the
        state it starts from: a checkpoint's when resuming, else fresh (maybe with given weights)."""
        cfg = self.config
        self._start = fine_tune.StartingWeights.check(cfg, self._init_weights, data.info)  # other puzzles: zero rows
        self.model_cfg = model_config(cfg, data.info, **self._start.sizes())
        torch.manual_seed(cfg.train.seed)
        self.head = build_head(cfg, self.model_cfg, self._exchange.device)
        self._exchange.align(self.head.model)
        self.optimizer = build_optimizer(self.head.model, cfg.train)
        if self._resume is not None:
            self.state = ckpt.restore_training(self._resume.payload, self.head.model, self.optimizer)
        else:
            self._start.load_into(self.head.model)
        self.ema = ckpt.restore_ema(self._resume and self._resume.payload, self.head.model, cfg.train.ema_decay)

    def _open_run_folder(self, data: TaskData) -> None:
        """Create or reopen the run folder, write all but the weights into it, and announce the run."""
        stem = run_name_stem(self.config.data.task, self.config.data.dataset_dir)   # a dataset folder names the run
        self.writer = self._exchange.open_writer(lambda: RunWriter.open(  # only rank 0 writes the folder
            self._run_dir_arg, stem, self._snapshot, on_notice=self._notice, resuming=self._resume is not None,
            tensorboard=self.config.train.tensorboard), self._snapshot)
        self.run_dir = self.writer.run
        self._run_dir_arg = self.run_dir.path  # a second fit() of this Trainer continues in the same folder
        self.writer.start()
        self._emit(Started(run_dir=str(self.run_dir.path), config=self.config.to_dict(),
                           num_parameters=count_parameters(self.head.model), train_size=len(data.train),
                           test_size=len(data.test), task=data.info.to_dict(), start_epoch=self.state.epoch,
                           device=self._exchange.describe()))
        kernel_note = attention_kernel(self.config.train.attention_kernel)[1]  # the build is cached: this only reads why
        dtype_note = bfloat16_note(self.config.model.forward_dtype, self._exchange.device)
        for kind, note in (("attention_kernel_unavailable", kernel_note), (fine_tune.NOTICE_KIND, self._start.note),
                           ("bfloat16_emulated", dtype_note)):
            if note:
                self._notice(kind, note)

    def _snapshot(self) -> RunSnapshot:
        """What the run folder holds but weights, as of now (the writer asks whenever it writes)."""
        assert self._data is not None
        s = self.state
        return RunSnapshot(config=self.config.to_dict(), task=self._data.info.to_dict(), history=s.history,
                           epoch=s.epoch, epochs=self.config.train.epochs, best=s.best_value)

    # ----- epoch after epoch -------------------------------------------------------------------
    def _run_epochs(self) -> EndReason:
        """Until the last epoch (`epochs` is re-read each time: it may change while the run goes on)
        or a reason to end."""
        epoch = self.state.epoch
        while epoch < self.config.train.epochs:
            epoch += 1
            if self._stop.is_set():
                return EndReason.STOPPED
            trained = self._train_epoch(epoch)
            if trained is None:
                return EndReason.STOPPED
            row, difficulty = trained
            due = epoch % self.config.train.eval_interval == 0 or epoch == self.config.train.epochs
            if due and not self._evaluate(epoch, row):
                return EndReason.STOPPED
            reason = self._record(epoch, row, difficulty)
            if reason is not None:
                return reason
        return EndReason.COMPLETED

    def _train_epoch(self, epoch: int) -> tuple[dict[str, Any], int | None] | None:
        """One epoch's training: its history row so far and its curriculum difficulty; None when stopped."""
        t, loop = self.config.train, self._loop
        assert loop is not None
        difficulty = None
        if self._levels is not None:
            difficulty = self._levels.at(epoch, self.state.history)
            loop.train_on(self._levels.train)
        acc, seconds = loop.run(epoch)
        if acc is None:
            return None
        row: dict[str, Any] = {HistoryKey.EPOCH: epoch, **acc.summary()}
        loss = row.get(HistoryKey.LOSS)
        if loss is not None and not math.isfinite(loss):
            raise TrainingError(f"The loss became {loss} in epoch {epoch}; training was stopped. Lower the "
                                f"learning rate or turn on gradient clipping, then resume from the last checkpoint.")
        row[HistoryKey.LEARNING_RATE] = t.lr * lr_factor(epoch, t, self.state.global_step + 1)
        row[HistoryKey.EPOCH_SECONDS] = seconds
        row[HistoryKey.SAMPLES_PER_SECOND] = acc.segments / max(seconds, 1e-9)
        row[HistoryKey.PUZZLES_PER_SECOND] = acc.count / max(seconds, 1e-9)
        return row, difficulty

    def _evaluate(self, epoch: int, row: dict[str, Any]) -> bool:
        """Score the held-out split (and a threshold curriculum's level) into the row; False when stopped."""
        assert self._data is not None and self._viewer is not None
        started, test = time.perf_counter(), self._data.test
        pred = self._predict(test)
        if pred is None:
            return False
        self._last_pred = pred
        self._viewer.held_out(epoch, pred)
        held_out = {**summarise_predictions(pred, test.patterns), **self._arc.scores(test, pred)}
        row.update(held_out)
        row[HistoryKey.EVAL_SECONDS] = time.perf_counter() - started
        self._emit(Evaluated(epoch=epoch, split="test", metrics=held_out))
        level_test = self._levels.held_out if self._levels is not None else None
        if level_test is not None:
            level_pred = self._predict(level_test)
            if level_pred is None:
                return False
            row[HistoryKey.CURRICULUM_EXACT] = float(level_pred.exact[:, -1].mean())
        return True

    def _predict(self, puzzles: PuzzleSet) -> Predictions | None:
        """Every segment's answer for `puzzles` from the weights the run keeps (the EMA's when on);
        None when the run is stopping."""
        assert self.head is not None
        with evaluating(self.ema, self.head.model):
            return evaluate(self.head, puzzles, batch_size=max(self.config.train.batch_size, 64),
                            should_stop=self._stop.is_set)

    def _record(self, epoch: int, row: dict[str, Any], difficulty: int | None) -> EndReason | None:
        """Keep the epoch — its row in the history and the run folder, the best and the last complete
        epoch's checkpoints — refresh the viewer when due, and say whether the run ends here."""
        t, state = self.config.train, self.state
        assert self.writer is not None and self._viewer is not None and self._wall_start is not None
        if difficulty is not None:
            row[HistoryKey.CURRICULUM_DIFFICULTY] = difficulty
        row[HistoryKey.WALL_SECONDS] = time.perf_counter() - self._wall_start
        state.epoch = epoch
        state.history.append(row)
        self.writer.record_epoch(row)
        self._emit(EpochEnd(epoch=epoch, epochs=t.epochs, metrics=dict(row)))
        if track_best(state, row, t):
            self._save(CheckpointKind.BEST)
        reason = reason_to_end(state, row, t, stopping=self._stop.is_set())
        self._save(CheckpointKind.LAST)  # the whole epoch, so a run killed from here on resumes after it
        self._serve_save_requests()
        if self._viewer.due(epoch, ending=reason is not None or epoch >= t.epochs):
            self._viewer.refresh(epoch)
        return reason

    # ----- finish ------------------------------------------------------------------------------
    def _finish(self, reason: EndReason) -> FitResult:
        """Save where the run ended and the viewer's predictions, write the final status, say so."""
        assert self.writer is not None and self._viewer is not None and self._wall_start is not None
        if self._stop.is_set() and reason == EndReason.COMPLETED:
            reason = EndReason.STOPPED
        state, run_path = self.state, self.writer.run.path
        state.wall_offset = time.perf_counter() - self._wall_start
        self._save(CheckpointKind.FINAL)
        self._serve_save_requests()
        self._viewer.save(self.writer, state.epoch)
        ended = RunState.STOPPED if reason == EndReason.STOPPED else RunState.FINISHED
        self.writer.finish(ended, reason=reason.value)
        self._emit(Finished(reason=reason.value, epochs_done=state.epoch, best_metric=state.best_value,
                            run_dir=str(run_path), history=list(state.history)))
        return FitResult(reason.value, state.history, run_path, state.best_value, self._last_pred)

    # ----- checkpoints -----------------------------------------------------------------------
    def _payload(self) -> dict[str, Any]:
        assert self.head is not None and self.optimizer is not None and self._data is not None
        wall = self.state.wall_offset if self._wall_start is None else time.perf_counter() - self._wall_start
        return ckpt.training_payload(self.head.model, self.optimizer, self.config, self._data.info.to_dict(),
                                     self.state, wall, ema=self.ema)

    def _save(self, kind: CheckpointKind) -> Path:
        """Save one of the run's checkpoints atomically; the previous one of that kind stays until this one is whole."""
        assert self.writer is not None
        path = self.writer.save_checkpoint(kind, lambda target: ckpt.save_checkpoint(target, self._payload()))
        self._emit(CheckpointSaved(path=str(path), kind=kind.value, epoch=self.state.epoch))
        return path

    def _serve_save_requests(self) -> None:
        """Save requested checkpoints; one that cannot be written is reported, training goes on."""
        for requested in self._checkpoint_requests():
            try:
                path = ckpt.save_checkpoint(requested, self._payload())  # a place the person chose: its own message
            except UserError as exc:
                self._notice("checkpoint_not_saved", str(exc))
                continue
            self._emit(CheckpointSaved(path=str(path), kind=CheckpointKind.MANUAL, epoch=self.state.epoch))

    # ----- the epoch loop's driver (epoch_loop.StepDriver; called on the training thread) ---------
    def before_step(self) -> float | None:
        """Before every step, the first of an epoch included, so a pause that arrived during the
        previous step or the epoch's end holds training here."""
        return self._hold_between_steps(self._serve_save_requests)

    def after_step(self) -> None:
        self.state.global_step += 1

    def progress(self, epoch: int, acc: EpochAccumulator, total: int, elapsed: float) -> None:
        self._emit(Progress(epoch=epoch, epochs=self.config.train.epochs, puzzles_done=acc.count,
                            puzzles_total=total, samples_per_second=acc.segments / max(elapsed, 1e-9),
                            elapsed_seconds=time.perf_counter() - self._wall_start))

    def refuse_update(self, epoch: int, what: str) -> NoReturn:
        """Stop, saying what happened and what is safe (the loop dropped the step's gradients)."""
        assert self.run_dir is not None
        raise update_refused(self.config.train, self.run_dir, self.state, epoch, what)
