"""The run directory: everything one run produces, enough on its own to reopen it.

Layout::

    <run>/config.json            the RunConfig (nested: model, data, train)
    <run>/task.json              what the data looked like (vocabulary, patterns, grid shape)
    <run>/metrics.jsonl          one JSON object per epoch, appended and flushed as it ends
    <run>/history.json           the whole history as a JSON list (rewritten each epoch)
    <run>/status.json            running / finished / stopped / failed, with the reason; while
                                 running also the writer's pid and host (see owner.py)
    <run>/checkpoints/last.pt    the state after the last complete epoch (rewritten every epoch;
                                 written first at the start, as epoch 0)
    <run>/checkpoints/best.pt    the weights with the best held-out score so far
    <run>/checkpoints/final.pt   the state when the run ended (or was stopped)
    <run>/tensorboard/events.out.tfevents.*   the history as TensorBoard event files (a copy,
                                 when the tensorboard setting is on; see tensorboard_log.py)

Every file except metrics.jsonl is replaced atomically (atomic.py), and metrics.jsonl only
ever grows by whole, fsynced lines, so a run killed at any instant reopens: its history up
to the last finished epoch, and last.pt holding that epoch (or the one before it).
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import platformdirs

from hrm_studio.errors import CheckpointError, UserError
from hrm_studio.runstore.atomic import TEMP_SUFFIX, atomic_write_text
from hrm_studio.runstore.keys import CheckpointKind, RunState
from hrm_studio.runstore.owner import writer_alive

# The layout, spelled here and nowhere else.
CONFIG_FILE = "config.json"
TASK_FILE = "task.json"
METRICS_FILE = "metrics.jsonl"
HISTORY_FILE = "history.json"
STATUS_FILE = "status.json"
CHECKPOINTS_FOLDER = "checkpoints"
PREDICTIONS_FOLDER = "predictions"
TENSORBOARD_FOLDER = "tensorboard"
EVENT_FILE_PREFIX = "events.out.tfevents."  # TensorBoard finds its files by this part of the name
CHECKPOINT_SUFFIX = ".pt"

RESUME_ORDER = (CheckpointKind.LAST, CheckpointKind.FINAL)
# Newest weights first: where a run got to (final), its last whole epoch, its best score.
NEWEST_WEIGHTS_ORDER = (CheckpointKind.FINAL, CheckpointKind.LAST, CheckpointKind.BEST)
# What scoring a run folder means (`hrm-studio eval RUN_DIR`): its best held-out weights, else where it
# ended, else its last whole epoch.
EVALUATE_ORDER = (CheckpointKind.BEST, CheckpointKind.FINAL, CheckpointKind.LAST)
# For help texts: what "a run folder" means where a checkpoint is expected.
RESUME_WORDS = (f"its {CHECKPOINTS_FOLDER}/{CheckpointKind.LAST}{CHECKPOINT_SUFFIX} (the last complete epoch), "
                f"else {CheckpointKind.FINAL}{CHECKPOINT_SUFFIX}")


class RunFolderError(UserError):
    """The run folder cannot be written (full disk, no permission, gone); the message says what to do."""


def write_failure(exc: OSError, what: str | Path) -> str:
    """A plain sentence for an OSError met while writing `what`."""
    detail = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC or exc.errno == getattr(errno, "EDQUOT", -1):
        return f"Could not write {what}: the disk is full ({detail})."
    if exc.errno == errno.EROFS:
        return f"Could not write {what}: the disk is read-only ({detail})."
    return f"Could not write {what}: {detail}."


def default_runs_root() -> Path:
    return Path(platformdirs.user_data_dir("hrm-studio")) / "runs"


def run_name_stem(task: str, dataset_dir: str | Path = "") -> str:
    """What a new run's folder is named after: the dataset folder's name when the puzzles come from one
    (`maze-30x30-hard-1k`), else the task; only letters, digits, '.', '_' and '-'."""
    name = Path(str(dataset_dir)).expanduser().name if str(dataset_dir).strip() else task
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or task


def new_run_name(task: str) -> str:
    return f"{task}-{time.strftime('%Y%m%d-%H%M%S')}"


def _run_dir_candidates(root: Path, task: str) -> Iterator[Path]:
    """`<root>/<task>-<time>`, then the same name with -2, -3 … for runs started in the same second."""
    base = root / new_run_name(task)
    yield base
    n = 2
    while True:
        yield base.with_name(f"{base.name}-{n}")
        n += 1


def free_run_dir(root: Path, task: str) -> Path:
    """The first default run folder that does not exist yet (nothing is created)."""
    return next(path for path in _run_dir_candidates(root, task) if not path.exists())


def claim_new_run_dir(root: Path, task: str) -> Path:
    """Create the first free default run folder and return it.

    Why create it here: two runs started in the same second (two CLI processes, a sweep)
    would otherwise pick the same name; `mkdir` without exist_ok is the atomic claim.
    """
    root.mkdir(parents=True, exist_ok=True)
    for path in _run_dir_candidates(root, task):
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise AssertionError("unreachable: the candidates never end")


@dataclass(frozen=True)
class RunDir:
    path: Path

    @staticmethod
    def holds_run(path: str | Path) -> bool:
        """Whether `path` is a run folder: it has the config that reopens the run."""
        return (Path(path) / CONFIG_FILE).is_file()

    @classmethod
    def of_checkpoint(cls, checkpoint: str | Path) -> "RunDir | None":
        """`<run>/checkpoints/x.pt` → that run, when the folder above is a run folder; else None."""
        parent = Path(checkpoint).resolve().parent
        if parent.name == CHECKPOINTS_FOLDER and cls.holds_run(parent.parent):
            return cls(parent.parent)
        return None

    @classmethod
    def writing_checkpoint(cls, checkpoint: str | Path) -> "RunDir | None":
        """The run folder a checkpoint file sits in (`<run>/checkpoints/x.pt`), config or not:
        where resuming from that checkpoint goes on writing."""
        parent = Path(checkpoint).resolve().parent
        return cls(parent.parent) if parent.name == CHECKPOINTS_FOLDER else None

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def task_path(self) -> Path:
        return self.path / TASK_FILE

    @property
    def metrics_path(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def history_path(self) -> Path:
        return self.path / HISTORY_FILE

    @property
    def status_path(self) -> Path:
        return self.path / STATUS_FILE

    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINTS_FOLDER

    def checkpoint(self, kind: str) -> Path:
        return self.checkpoints / f"{kind}{CHECKPOINT_SUFFIX}"

    def existing_checkpoint(self, *kinds: str) -> Path | None:
        """The first of these checkpoints that exists (`NEWEST_WEIGHTS_ORDER` when none are named)."""
        for kind in kinds or NEWEST_WEIGHTS_ORDER:
            path = self.checkpoint(kind)
            if path.is_file():
                return path
        return None

    @property
    def tensorboard(self) -> Path:
        return self.path / TENSORBOARD_FOLDER

    def predictions_path(self, split: str) -> Path:
        """Where one split's full evaluation is saved (a PredictionSet .npz)."""
        return self.path / PREDICTIONS_FOLDER / f"{split}.npz"

    def holds_history(self) -> bool:
        """Whether any of the files a run's settings or history live in exists."""
        return any(p.is_file() for p in (self.config_path, self.metrics_path, self.history_path))

    def holds_results(self) -> bool:
        """Whether a new run written here would destroy results, whatever this run's state: a checkpoint
        or an epoch of history. (Settings and a status alone, left by a run killed before its first
        checkpoint, hold nothing to lose: such a run can only be started again.)"""
        if self.existing_checkpoint() is not None:
            return True
        try:
            return bool(self.read_history())
        except (OSError, ValueError):
            return True  # there but unreadable: keep it for a person to look at

    def evaluation_checkpoint(self) -> Path | None:
        """The checkpoint that scores this run: its best held-out weights, else final, else last."""
        return self.existing_checkpoint(*EVALUATE_ORDER)

    def resume_checkpoint(self) -> Path | None:
        """The checkpoint to continue this run from: the last whole epoch, else the final state."""
        return self.existing_checkpoint(*RESUME_ORDER)

    def read_status(self) -> dict[str, Any]:
        """status.json as a dict; {} when it is missing or unreadable."""
        try:
            data = json.loads(self.status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def state(self) -> RunState:
        """The run's state from its status file, corrected for a writer that is gone."""
        return self.state_of(self.read_status())

    @staticmethod
    def state_of(status: dict[str, Any]) -> RunState:
        """A status file's state, with the one correction a file cannot make by itself: "running"
        whose writing process is gone (killed, crashed, power lost) is INTERRUPTED."""
        state = status.get("state")
        if state == RunState.RUNNING:
            # None: written on another host or by an older version; trust the file.
            return RunState.INTERRUPTED if writer_alive(status) is False else RunState.RUNNING
        if state in tuple(RunState):
            return RunState(state)
        return RunState.INTERRUPTED  # no status file (killed within its first instant) or a damaged one

    def remove_temp_files(self) -> list[Path]:
        """Delete temp files a killed writer left behind (only call when no one else writes here)."""
        removed = []
        for folder in (self.path, self.checkpoints):
            try:
                stray = [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(TEMP_SUFFIX)]
            except OSError:
                continue
            for path in stray:
                try:
                    path.unlink()
                    removed.append(path)
                except OSError:
                    pass
        return removed

    def create(self) -> "RunDir":
        try:
            self.checkpoints.mkdir(parents=True, exist_ok=True)
            probe = self.path / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise RunFolderError(f"Cannot write the run folder {self.path}: {exc.strerror or exc}. "
                                 f"Pick a folder you can write to with --out.") from None
        return self

    def write_json(self, path: Path, data: Any) -> None:
        atomic_write_text(path, json.dumps(data, indent=2, default=_json_default) + "\n")

    def write_config(self, config: dict[str, Any]) -> None:
        self.write_json(self.config_path, config)

    def write_task(self, task: dict[str, Any]) -> None:
        self.write_json(self.task_path, task)

    def write_status(self, state: RunState | str, **extra: Any) -> None:
        self.write_json(self.status_path, {"state": state, "time": time.time(), **extra})

    def append_metrics(self, row: dict[str, Any]) -> None:
        """One line per epoch, flushed and synced so a crash keeps every finished epoch."""
        line = json.dumps(row, default=_json_default) + "\n"
        with open(self.metrics_path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def reset_metrics(self, rows: list[dict[str, Any]]) -> None:
        """Rewrite metrics.jsonl to exactly `rows` (used when resuming from an earlier epoch)."""
        text = "".join(json.dumps(r, default=_json_default) + "\n" for r in rows)
        atomic_write_text(self.metrics_path, text)

    def write_history(self, history: list[dict[str, Any]]) -> None:
        self.write_json(self.history_path, history)

    def read_history(self) -> list[dict[str, Any]]:
        """Epoch rows from metrics.jsonl (complete lines only), else history.json."""
        if self.metrics_path.exists():
            return read_metrics_lines(self.metrics_path.read_text(encoding="utf-8", errors="replace"))
        if self.history_path.exists():
            return json.loads(self.history_path.read_text(encoding="utf-8"))
        return []

    def read_config(self) -> dict[str, Any]:
        return json.loads(self.config_path.read_text(encoding="utf-8"))

    def read_task(self) -> dict[str, Any] | None:
        """task.json as a dict; None when it is missing, unreadable or not an object."""
        try:
            data = json.loads(self.task_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


def resolve_resume(path: str | Path) -> Path:
    """The checkpoint to resume from `path`: a checkpoint file, or a run folder (its last.pt, else final.pt)."""
    path = Path(path)
    if not path.is_dir():
        return path
    run = RunDir(path.parent if path.name == CHECKPOINTS_FOLDER else path)
    if not (run.config_path.exists() or run.checkpoints.is_dir()):
        raise CheckpointError(f"{path} is a folder but not an HRM Studio run folder (it has no {CONFIG_FILE} or "
                              f"{CHECKPOINTS_FOLDER}/); choose a run folder or a checkpoint file.")
    found = run.resume_checkpoint()
    if found is None:
        raise CheckpointError(f"The run folder {run.path} has no checkpoint to resume yet (no "
                              f"{run.checkpoint(CheckpointKind.LAST).relative_to(run.path)} or "
                              f"{CheckpointKind.FINAL}{CHECKPOINT_SUFFIX}): it stopped before its first checkpoint "
                              f"was written. Start it again instead.")
    return found


def event_files(folder: Path) -> list[Path]:
    """The TensorBoard event files directly in `folder`, oldest name first ([] when it is missing)."""
    try:
        return sorted(p for p in folder.iterdir() if p.name.startswith(EVENT_FILE_PREFIX) and p.is_file())
    except OSError:
        return []


def new_event_file(folder: Path, serial: int) -> Path:
    """A new event file's path in `folder`, named as TensorBoard names them (time, host, process,
    serial), so its readers find it and load the files of one folder in the order they were made."""
    return folder / f"{EVENT_FILE_PREFIX}{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{serial}"


def resolve_evaluation(path: str | Path) -> Path:
    """The checkpoint to score for `path`: a file as it is; a run folder (or its checkpoints/) means
    `evaluation_checkpoint()`. Any other folder is returned as it is, for the reader to judge."""
    path = Path(path)
    if not path.is_dir():
        return path
    run = RunDir(path.parent if path.name == CHECKPOINTS_FOLDER else path)
    if not (run.config_path.exists() or run.checkpoints.is_dir()):
        return path
    found = run.evaluation_checkpoint()
    if found is None:
        names = ", ".join(f"{kind}{CHECKPOINT_SUFFIX}" for kind in EVALUATE_ORDER)
        raise CheckpointError(f"The run folder {run.path} has no checkpoint to score yet (none of {names} in "
                              f"{CHECKPOINTS_FOLDER}/): it stopped before its first checkpoint was written.")
    return found


def read_metrics_lines(text: str) -> list[dict[str, Any]]:
    """Parse metrics.jsonl text; a half-written last line (no newline yet) is skipped."""
    rows = []
    for line in text.splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        line = line.strip()
        if not line:
            continue
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
