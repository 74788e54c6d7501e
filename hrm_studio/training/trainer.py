"""Trainer: one Qt-free training loop that the CLI and the GUI both drive.

How an epoch runs. Like the official code, training streams puzzles through a fixed
batch of rows: every optimiser step is one ACT segment, and a row whose puzzle halted
takes the next puzzle of the epoch. Unlike the official code, no puzzle is skipped or
repeated: an epoch is exactly one pass over every training puzzle, and rows left empty
at the end of an epoch never count in any metric or in the Q losses.

Control. `pause()`, `resume()`, `stop()` and `request_checkpoint()` may be called from any
thread, in any order; the loop honours them between two optimiser steps (within one
batch). A stop always wins: a pause that arrives after it is ignored.

Nothing lost. Every finished epoch is appended to metrics.jsonl and saved as
checkpoints/last.pt, each write atomic, so a run killed at any instant resumes from its
last complete epoch to the same end. A NaN/inf loss or gradient stops the run *before*
the bad update is applied. A full disk, a vanished run folder or an unwritable one is
reported in one sentence that says what is still safe and how to continue.
"""

from __future__ import annotations

import math
import queue
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from hrm_studio.config import RunConfig
from hrm_studio.data import PuzzleSet, TaskData
from hrm_studio.errors import CheckpointError, ConfigError, UserError
from hrm_studio.model import count_parameters
from hrm_studio.training import checkpoint as ckpt
from hrm_studio.training import curriculum as cur
from hrm_studio.runstore import owner
from hrm_studio.training.data_source import check_memory, load_data, shape_of
from hrm_studio.events import (CheckpointSaved, EpochEnd, Evaluated, Event, EventCallback,
                                        Failed, Finished, Notice, PredictionsReady, Progress, Started)
from hrm_studio.evaluation.metrics import EpochAccumulator, summarise_predictions
from hrm_studio.training.model_factory import attention_kernel, build_head, hrm_config
from hrm_studio.evaluation.predict import Predictions, evaluate
from hrm_studio.runstore.prediction_set import PredictionSet, build_prediction_set, predictions_path
from hrm_studio.runstore.run_dir import (RunDir, RunFolderError, claim_new_run_dir, default_runs_root,
                                         resolve_resume, write_failure)
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


def viewer_sample_indices(patterns: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Sorted indices of min(size, N) puzzles for the live viewer, every pattern represented.

    Patterns take turns (first-appearance order), each drawing its puzzles in a shuffled
    order, so a rare pattern is not lost in a small sample. Its own numpy generator, seeded
    from the run's seed: the same seed gives the same sample, and torch's RNG (which the
    training draws from) is not touched.
    """
    patterns = np.asarray(patterns).astype(str)
    n = len(patterns)
    size = max(0, min(int(size), n))
    order = np.random.default_rng([seed, 0x7669_6577]).permutation(n)  # "view"
    names = list(dict.fromkeys(patterns.tolist()))
    turn = np.empty(n, np.int64)      # how many of the same pattern come before it in `order`
    which = np.empty(n, np.int64)     # the pattern's place in `names`
    for k, name in enumerate(names):
        members = order[patterns[order] == name]
        turn[members] = np.arange(len(members))
        which[members] = k
    by_turn = np.lexsort((which, turn))  # first every pattern's first puzzle, then the second, …
    return np.sort(by_turn[:size]).astype(np.int64)


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
        self._fitting = threading.Lock()  # one fit() at a time
        self._wall_start: float | None = None
        self._created = 0.0
        self._notices: list[str] = []
        self._viewer_latest: dict[str, PredictionSet] = {}  # split → newest, saved when the run ends
        self._viewer_train: tuple[int, np.ndarray, PuzzleSet] | None = None  # (size, indices, puzzles)

    # ----- control (any thread) -------------------------------------------------------------
    def pause(self) -> None:
        """Hold training before the next step. Ignored once the run has been told to stop."""
        if not self._stop.is_set():
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
        """Save the current state to `path` between two steps (works while paused too).

        Requests that arrive after `fit()` has returned are not served; the run's final.pt
        holds that state already.
        """
        self._save_requests.put(str(path))

    # ----- setup ---------------------------------------------------------------------------
    def resume_from(self, path: str | Path) -> None:
        """Continue a Studio checkpoint: weights, optimiser, epoch, history and best score.

        `path` may also be a run folder: its checkpoints/last.pt (the last complete epoch)
        is used, else final.pt.
        """
        path = resolve_resume(path)
        loaded = ckpt.read_weights(path)
        if loaded.payload is None:
            raise CheckpointError(f"{path} holds weights only (no optimiser or history), so it cannot be "
                                  f"resumed; start a new run from its weights instead.")
        check_resume_payload(loaded.payload, path)
        saved = stored_config(loaded.payload, path)
        for section in ("model", "data"):
            if getattr(saved, section) != getattr(self.config, section):
                raise CheckpointError(f"{path} was trained with different {section} settings; resume "
                                      f"it with the settings stored in the checkpoint.")
        self._resume_payload = loaded.payload

    @classmethod
    def resuming(cls, path: str | Path, on_event: EventCallback | None = None, *,
                 epochs: int | None = None) -> "Trainer":
        """A Trainer that continues `path` (a run folder or a checkpoint) with its stored settings,
        writing into the run folder the checkpoint belongs to; `epochs` may extend the run."""
        checkpoint = resolve_resume(path)
        loaded = ckpt.read_weights(checkpoint)
        if loaded.payload is None:
            raise CheckpointError(f"{checkpoint} holds weights only (no optimiser or history), so it cannot be "
                                  f"resumed; start a new run from its weights instead.")
        config = stored_config(loaded.payload, checkpoint)
        if epochs is not None:
            config.set("epochs", epochs)
        folder = checkpoint.resolve().parent
        trainer = cls(config, folder.parent if folder.name == "checkpoints" else None, on_event)
        trainer.resume_from(checkpoint)
        return trainer

    def load_weights(self, path: str | Path) -> None:
        """Start a new run from these weights (optimiser and history start fresh)."""
        self._init_weights = ckpt.read_weights(path)

    # ----- events --------------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        if self._on_event is not None:
            self._on_event(event)

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
            run_path = str(self.run_dir.path) if self.run_dir else ""
            if self.run_dir is not None:
                try:
                    self._write_status("failed", message=message)
                except (OSError, UserError):
                    pass
            self._emit(Failed(message=message, traceback=traceback.format_exc(), epoch=self.state.epoch,
                              run_dir=run_path))
            raise
        finally:
            self._fitting.release()

    def _fit(self) -> FitResult:
        cfg = self.config
        t = cfg.train
        if t.num_threads:
            torch.set_num_threads(t.num_threads)
        if self._data is None:
            self._data = load_data(cfg, check=True)  # refuses what would not fit before generating
        else:
            check_memory(cfg, shape_of(self._data))
        data = self._data
        info = data.info
        self._train_set, self._test_set = data.train, data.test
        self._curriculum = cur.plan_for(cfg)
        self._level: tuple[int, PuzzleSet, PuzzleSet | None] | None = None  # difficulty, train, held-out
        if self._curriculum is not None and self._resume_payload is None:
            self._load_level(self._curriculum.start)  # one that cannot be made is refused before anything is written

        vocab = ids = None
        init = self._init_weights
        if init is not None:
            told = ckpt.shapes_from_weights(init.state_dict)
            ckpt.check_config_against_weights(cfg, init.state_dict, init.path or "the checkpoint")
            ckpt.check_weights_cover_data(init.state_dict, info, init.path or "the checkpoint")
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
        with self._writing(self.run_dir.path):
            self._write_everything()
        self._emit(Started(run_dir=str(self.run_dir.path), config=cfg.to_dict(),
                           num_parameters=count_parameters(head.model), train_size=len(data.train),
                           test_size=len(data.test), task=info.to_dict(), start_epoch=state.epoch))
        kernel_note = attention_kernel(t.attention_kernel)[1]  # the build is cached: this only reads why
        if kernel_note:
            self._emit(Notice(kind="attention_kernel_unavailable", message=kernel_note, epoch=state.epoch,
                              run_dir=str(self.run_dir.path)))
        if self._resume_payload is None or not self.run_dir.checkpoint("last").is_file():
            self._save("last")  # the starting point: a run stopped or killed in its first epoch resumes here

        self._train_tensors = _with_empty_row(data.train)
        self._task_info = info.to_dict()
        reason = "completed"
        wall_start = time.perf_counter() - state.wall_offset
        self._wall_start = wall_start
        last_pred: Predictions | None = None
        epoch = state.epoch
        while epoch < t.epochs:  # re-read each epoch: `epochs` may be changed while the run goes on
            epoch += 1
            if self._stop.is_set():
                reason = "stopped"
                break
            difficulty = self._curriculum_level(epoch)
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
                self._viewer_latest["test"] = build_prediction_set(
                    "test", epoch, np.arange(len(data.test)), data.test, pred, self._task_info, complete=True)
                held_out = summarise_predictions(pred, data.test.patterns)
                row.update(held_out)
                row["eval_seconds"] = time.perf_counter() - eval_started
                self._emit(Evaluated(epoch=epoch, split="test", metrics=held_out))
                if self._level is not None and self._level[2] is not None:
                    level_pred = evaluate(head, self._level[2], batch_size=max(t.batch_size, 64),
                                          should_stop=self._stop.is_set)
                    if level_pred is None:
                        reason = "stopped"
                        break
                    row[cur.EXACT_KEY] = float(level_pred.exact[:, -1].mean())
            if difficulty is not None:
                row[cur.DIFFICULTY_KEY] = difficulty
            row["wall_seconds"] = time.perf_counter() - wall_start
            state.epoch = epoch
            state.history.append(row)
            self._record_epoch(row)
            self._emit(EpochEnd(epoch=epoch, epochs=t.epochs, metrics=dict(row)))
            stop_reason = self._after_epoch(row)
            self._save("last")  # the whole epoch, so a run killed from here on resumes after it
            self._serve_save_requests()
            ending = bool(stop_reason) or epoch >= t.epochs
            if ending or (t.viewer_interval > 0 and epoch % t.viewer_interval == 0):
                self._refresh_viewer(epoch)
            if stop_reason:
                reason = stop_reason
                break
        if self._stop.is_set() and reason == "completed":
            reason = "stopped"
        state.wall_offset = time.perf_counter() - wall_start
        self._save("final")
        self._serve_save_requests()
        self._save_viewer_predictions()
        with self._writing(self.run_dir.status_path):
            self._ensure_run_dir()
            self._write_status("finished" if reason != "stopped" else "stopped", reason=reason)
        self._emit(Finished(reason=reason, epochs_done=state.epoch, best_metric=state.best_value,
                            run_dir=str(self.run_dir.path), history=list(state.history)))
        return FitResult(reason, state.history, self.run_dir.path, state.best_value, last_pred)

    def _make_run_dir(self) -> RunDir:
        """Create (or reopen) the run folder; refuse one another live process is writing."""
        path = self._run_dir_arg
        if path is None:
            path = claim_new_run_dir(default_runs_root(), self.config.data.task)
            self._run_dir_arg = path   # a second fit() of this Trainer continues in the same folder
        run = RunDir(path)
        status = run.read_status()
        if (status.get("state") == "running" and not owner.is_this_process(status)
                and owner.writer_alive(status)):
            raise RunFolderError(f"The run folder {run.path} is being written by another HRM Studio process "
                                 f"(pid {status.get('pid')}) right now; wait for it to finish or stop it, or "
                                 f"choose another folder with --out.")
        run.create()
        run.remove_temp_files()  # left by a writer that was killed mid-write
        created = status.get("created")
        resuming = self._resume_payload is not None
        self._created = float(created) if resuming and isinstance(created, (int, float)) else time.time()
        return run

    # ----- the run folder ----------------------------------------------------------------------
    def _write_status(self, state: str, **extra: Any) -> None:
        """status.json; while running it names this process so readers can tell a dead run."""
        assert self.run_dir is not None
        s = self.state
        fields: dict[str, Any] = {"epoch": s.epoch, "epochs": self.config.train.epochs, "best": s.best_value,
                                  "created": self._created}
        if self._notices:
            fields["notices"] = list(self._notices)
        if state == "running":
            fields.update(owner.this_process())
        fields.update(extra)
        self.run_dir.write_status(state, **fields)

    def _write_everything(self) -> None:
        """Config, task, the whole history and the running status: all a reader needs but weights."""
        assert self.run_dir is not None and self._data is not None
        run = self.run_dir
        run.write_config(self.config.to_dict())
        run.write_task(self._data.info.to_dict())
        run.reset_metrics(self.state.history)
        run.write_history(self.state.history)
        self._write_status("running")

    def _ensure_run_dir(self) -> bool:
        """If the run folder vanished (deleted, moved, an unmounted drive), write it again.

        Everything the trainer holds goes back: settings, task, history, status; the
        checkpoint being saved follows. best.pt comes back at the next improvement (its
        weights are not held in memory). Returns whether it had to.
        """
        run = self.run_dir
        assert run is not None
        if run.config_path.is_file() and run.checkpoints.is_dir():
            return False
        run.create()
        epoch = self.state.epoch
        message = (f"The run folder {run.path} disappeared while training (deleted or moved?); HRM Studio "
                   f"wrote it again with the settings and the history up to epoch {epoch}, and keeps saving "
                   f"checkpoints there (best.pt returns at the next improvement).")
        self._notices.append(message)
        self._write_everything()
        self._emit(Notice(kind="run_dir_recreated", message=message, epoch=epoch, run_dir=str(run.path)))
        return True

    def _resume_advice(self) -> str:
        """What is still safe on disk, and the command that continues from it."""
        if self.run_dir is None:
            return ""
        if self.run_dir.resume_checkpoint() is None:
            return "No checkpoint had been saved yet; free some space (or fix the folder) and start the run again."
        return (f"Checkpoints already saved are unchanged; free some space (or fix the folder), then continue "
                f"with: hrm-studio train --resume {self.run_dir.path}")

    @contextmanager
    def _writing(self, what: str | Path) -> Iterator[None]:
        """Turn a failed write into one sentence: what failed, what is safe, what to do."""
        try:
            yield
        except RunFolderError as exc:
            raise RunFolderError(f"{exc} {self._resume_advice()}") from None
        except OSError as exc:
            raise RunFolderError(f"{write_failure(exc, what)} {self._resume_advice()}") from None

    def _persist(self, what: str | Path, write: Callable[[], None]) -> None:
        """Run `write`; if the folder vanished just before, write it again and retry once."""
        with self._writing(what):
            self._ensure_run_dir()
            try:
                write()
            except FileNotFoundError:
                self._ensure_run_dir()
                write()

    def _record_epoch(self, row: dict[str, Any]) -> None:
        """Append the epoch's row (already in state.history), then history.json and the status."""
        assert self.run_dir is not None
        run = self.run_dir
        with self._writing(run.metrics_path):
            if self._ensure_run_dir():
                return  # written again from state.history, this row included
            try:
                run.append_metrics(row)
            except FileNotFoundError:  # vanished between the check and the append
                self._ensure_run_dir()
                return
        self._persist(run.history_path, lambda: run.write_history(self.state.history))
        self._persist(run.status_path, lambda: self._write_status("running"))

    # ----- the prediction viewer ---------------------------------------------------------------
    def _refresh_viewer(self, epoch: int) -> None:
        """Emit PredictionsReady for the held-out split (when this epoch evaluated it) and for
        the fixed training sample (evaluated now).

        Runs after the epoch's row, checkpoint and RNG state are settled, and evaluation draws
        no random numbers, so the history is the same with the viewer on or off.
        """
        test = self._viewer_latest.get("test")
        if test is not None and test.epoch == epoch:
            self._emit(PredictionsReady(epoch=epoch, split="test", predictions=test))
        assert self._data is not None
        t, train = self.config.train, self._data.train  # the run's own puzzles, also under a curriculum
        size = min(t.viewer_sample, len(train))
        if self._viewer_train is None or self._viewer_train[0] != size:  # viewer_sample may change live
            indices = viewer_sample_indices(train.patterns, size, t.seed)
            self._viewer_train = (size, indices, train.subset(indices))
        _, indices, sample = self._viewer_train
        assert self.head is not None
        pred = evaluate(self.head, sample, batch_size=max(t.batch_size, 64), should_stop=self._stop.is_set)
        if pred is None:
            return  # stopping: the person asked for the run to end, not for more predictions
        ps = build_prediction_set("train", epoch, indices, sample, pred, self._task_info,
                                  complete=size == len(train))
        self._viewer_latest["train"] = ps
        self._emit(PredictionsReady(epoch=epoch, split="train", predictions=ps))

    def _save_viewer_predictions(self) -> None:
        """Write the newest predictions of each split under predictions/, so a reopened run shows
        them without evaluating again. A failure costs only that convenience, so it is a Notice."""
        assert self.run_dir is not None
        for split, ps in self._viewer_latest.items():
            path = predictions_path(self.run_dir.path, split)
            try:
                self._ensure_run_dir()
                try:
                    ps.save(path)
                except FileNotFoundError:  # the folder vanished between the check and the write
                    self._ensure_run_dir()
                    ps.save(path)
            except (OSError, UserError) as exc:
                why = write_failure(exc, path) if isinstance(exc, OSError) else str(exc)
                message = (f"{why.rstrip('.')}, so the prediction viewer's {split} predictions were not saved. "
                           f"The run and its checkpoints are safe; opening the run evaluates the model again.")
                self._emit(Notice(kind="predictions_not_saved", message=message, epoch=self.state.epoch,
                                  run_dir=str(self.run_dir.path)))

    # ----- curriculum --------------------------------------------------------------------------
    def _curriculum_level(self, epoch: int) -> int | None:
        """Point the epoch's training puzzles at the curriculum's difficulty (None: no curriculum).

        Puzzles are made again only when the difficulty changes; at the target they are the
        run's own, so the end of a curriculum run trains on exactly a plain run's puzzles.
        """
        plan = self._curriculum
        if plan is None:
            return None
        difficulty = cur.difficulty_at(plan, epoch, self.state.history)
        if self._level is None or self._level[0] != difficulty:
            self._load_level(difficulty)
        assert self._level is not None
        if self._train_set is not self._level[1]:
            self._train_set = self._level[1]
            self._train_tensors = _with_empty_row(self._train_set)
        return difficulty

    def _load_level(self, difficulty: int) -> None:
        """Make the puzzles of one curriculum level (with a held-out split there for "threshold")."""
        plan = self._curriculum
        assert plan is not None and self._data is not None
        if difficulty == plan.target:
            self._level = (difficulty, self._data.train, None)
            return
        threshold = plan.mode == "threshold"
        level = cur.make_level(self.config, plan, difficulty, with_test=threshold)
        self._level = (difficulty, level.train, level.test if threshold else None)

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
        params = [p for p in head.model.parameters() if p.requires_grad]
        head.train()
        carry = None
        started = time.perf_counter()
        paused_for = 0.0
        last_progress = 0.0
        while True:
            # Before every step, the first of an epoch included: a pause that arrived during the
            # previous step or the epoch's end (evaluation, checkpoints) holds training here.
            self._serve_save_requests()
            if not self._unpaused.is_set():
                paused_at = time.perf_counter()
                self._wait_while_paused()
                paused_for += time.perf_counter() - paused_at
            if self._stop.is_set():
                return None, 0.0
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
            loss_value = float(result.loss.detach())
            if not math.isfinite(loss_value):
                self._refuse_update(epoch, f"loss became {loss_value}")
            (result.loss / rows).backward()
            if not self._gradients_finite(params, emb, t.grad_clip):
                self._refuse_update(epoch, "gradients became NaN or infinite")
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            if emb is not None:
                emb.sign_sgd_step(t.puzzle_emb_lr * factor, t.puzzle_emb_weight_decay)
            self.state.global_step += 1
            carry = result.carry
            empty = torch.from_numpy(row_puzzle < 0)
            carry.halted = carry.halted | empty
            halted = carry.halted.numpy().copy()
            acc.add(loss_value, {k: float(v) for k, v in result.metrics.items()},
                    {k: v.numpy() for k, v in result.rows.items() if k != "predictions"}, row_puzzle)

            now = time.perf_counter()
            if now - last_progress >= PROGRESS_INTERVAL_S:
                last_progress = now
                elapsed = now - started - paused_for
                self._emit(Progress(epoch=epoch, epochs=t.epochs, puzzles_done=acc.count, puzzles_total=n,
                                    samples_per_second=acc.segments / max(elapsed, 1e-9),
                                    elapsed_seconds=now - wall_start))
        return acc, time.perf_counter() - started - paused_for

    def _wait_while_paused(self) -> None:
        while not self._unpaused.wait(0.05) and not self._stop.is_set():
            self._serve_save_requests()

    @staticmethod
    def _gradients_finite(params: list[torch.Tensor], emb: Any, grad_clip: float) -> bool:
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

    def _refuse_update(self, epoch: int, what: str) -> None:
        """Drop the step's gradients and stop: the bad update never reaches the weights."""
        assert self.head is not None and self.run_dir is not None
        self.optimizer.zero_grad(set_to_none=True)
        emb = getattr(self.head.model.inner, "puzzle_emb", None)
        if emb is not None:
            emb.zero_local_grad()
        t, run = self.config.train, self.run_dir
        lower = f"--set lr={t.lr / 4:g}"
        last = run.checkpoint("last")
        step = self.state.global_step + 1
        if self.state.epoch > 0 and last.is_file():
            advice = (f"the last complete epoch ({self.state.epoch}) is kept in {last}: continue with "
                      f"'hrm-studio train --resume {run.path} {lower}' (a lower learning rate) or add "
                      f"'--set grad_clip=1'.")
        else:
            advice = (f"no epoch had finished, so start again with a lower learning rate ({lower}) or with "
                      f"--set grad_clip=1.")
        raise TrainingError(f"The {what} in epoch {epoch} (step {step}), so training stopped before that "
                            f"update was applied; {advice}")

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
        wall = s.wall_offset if self._wall_start is None else time.perf_counter() - self._wall_start
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
            "wall_seconds": wall,
            "rng": {"torch": torch.get_rng_state()},
        }

    def _save(self, kind: str, path: str | Path | None = None) -> Path:
        """Save a checkpoint atomically; the previous file of that name stays until this one is whole."""
        assert self.run_dir is not None
        target = Path(path) if path is not None else self.run_dir.checkpoint(kind)
        if path is None:
            self._persist(target, lambda: ckpt.save_checkpoint(target, self._payload()))
        else:
            ckpt.save_checkpoint(target, self._payload())  # a place the person chose: its own message
        self._emit(CheckpointSaved(path=str(target), kind=kind, epoch=self.state.epoch))
        return target

    def _serve_save_requests(self) -> None:
        """Save requested checkpoints; one that cannot be written is reported, training goes on."""
        while True:
            try:
                path = self._save_requests.get_nowait()
            except queue.Empty:
                return
            try:
                self._save("manual", path)
            except UserError as exc:
                self._emit(Notice(kind="checkpoint_not_saved", message=str(exc), epoch=self.state.epoch,
                                  run_dir=str(self.run_dir.path) if self.run_dir else ""))

    def _restore(self, payload: dict[str, Any]) -> None:
        assert self.head is not None
        ckpt.load_into(self.head.model, ckpt.strip_prefixes(payload["model"]), "the checkpoint")
        check_optimizer_state(payload["optimizer"], self.optimizer)
        try:
            self.optimizer.load_state_dict(payload["optimizer"])
        except (KeyError, ValueError, TypeError, RuntimeError) as exc:
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


def stored_config(payload: dict[str, Any], path: str | Path) -> RunConfig:
    """The settings a checkpoint was trained with; a damaged or foreign set is named as such."""
    try:
        return RunConfig.from_dict(payload.get("config") or {}).validate()
    except ConfigError as exc:
        raise CheckpointError(f"The settings stored in {path} are not valid ({exc}); the file is damaged or "
                              f"was not written by HRM Studio.") from None


def check_resume_payload(payload: dict[str, Any], path: str | Path) -> None:
    """Everything `_restore` reads must have the type it expects, before anything is built."""
    def bad(what: str) -> CheckpointError:
        return CheckpointError(f"Checkpoint {path} cannot be resumed: its {what}. It is damaged or was not "
                               f"written by HRM Studio; use another checkpoint.")

    for key in ("epoch", "global_step"):
        value = payload.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad(f"'{key}' is not a whole number ≥ 0")
    history = payload.get("history", [])
    if not isinstance(history, list) or not all(isinstance(row, dict) for row in history):
        raise bad("history is not a list of rows")
    optimizer = payload.get("optimizer")
    if (not isinstance(optimizer, dict) or not isinstance(optimizer.get("state"), dict)
            or not isinstance(optimizer.get("param_groups"), list)):
        raise bad("optimiser state is missing")
    best = payload.get("best") or {}
    if not isinstance(best, dict):
        raise bad("best score is not a record")
    value = best.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise bad("best score is not a number")
    for key in ("epoch", "bad_evals"):
        item = best.get(key)
        if item is not None and (isinstance(item, bool) or not isinstance(item, int)):
            raise bad(f"best '{key}' is not a whole number")
    wall = payload.get("wall_seconds")
    if wall is not None and (isinstance(wall, bool) or not isinstance(wall, (int, float))):
        raise bad("wall time is not a number")


def check_optimizer_state(saved: dict[str, Any], optimizer: torch.optim.Optimizer) -> None:
    """Adam's moments must have their parameter's shape, or the first step would crash."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    saved_ids = [i for group in saved.get("param_groups", []) if isinstance(group, dict)
                 for i in group.get("params", [])]
    if len(saved_ids) != len(params):
        raise CheckpointError(f"The optimiser state in the checkpoint covers {len(saved_ids)} parameters but the "
                              f"model has {len(params)}; the file is damaged or for another model.")
    state = saved.get("state", {})
    for index, param in zip(saved_ids, params):
        entry = state.get(index, {})
        if not isinstance(entry, dict):
            raise CheckpointError("The optimiser state in the checkpoint is damaged.")
        for name, value in entry.items():
            if isinstance(value, torch.Tensor) and value.dim() > 0 and tuple(value.shape) != tuple(param.shape):
                raise CheckpointError(f"The optimiser state in the checkpoint does not fit: '{name}' of parameter "
                                      f"{index} has shape {list(value.shape)}, the model needs "
                                      f"{list(param.shape)}.")


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
