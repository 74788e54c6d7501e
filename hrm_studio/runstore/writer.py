"""RunWriter: every write a training run makes to its run folder, and what a failed one means.

One place for what used to be written out at each write: the folder is created (or reopened)
once; every later write first checks that the folder is still there and, if it vanished
(deleted, moved, an unmounted drive), writes back everything the run holds — settings, task,
history, status — says so in a notice, and retries the write once. A write that still fails
becomes one sentence: what could not be written, what is still safe, and how to continue.

What the run holds comes from a `snapshot` callable, so the writer never keeps a copy that
could fall behind. Checkpoints are not written here (that needs torch): their saving is
handed in as a callable, through `save_checkpoint` or `persist`. No torch, no Qt.

With `tensorboard` on, each recorded epoch also goes into the run's TensorBoard event file
(tensorboard_log.py); that copy is a convenience, so its failure is one notice, never a stop.
"""

from __future__ import annotations

import errno
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from hrm_studio.errors import UserError
from hrm_studio.runstore import owner
from hrm_studio.runstore.keys import CheckpointKind, RunState
from hrm_studio.runstore.run_dir import (RunDir, RunFolderError, claim_new_run_dir, default_runs_root,
                                         write_failure)
from hrm_studio.runstore.tensorboard_log import LiveEventLog


@dataclass(frozen=True)
class RunSnapshot:
    """Everything a run folder holds but weights, as the run has it now."""

    config: dict[str, Any]
    task: dict[str, Any]
    history: list[dict[str, Any]]
    epoch: int
    epochs: int
    best: float | None


NoticeCallback = Callable[[str, str], None]  # (kind, message)


def _vanished(exc: BaseException) -> bool:
    """A write failed because its folder is gone (also when a writer already turned it into a sentence)."""
    return isinstance(exc, FileNotFoundError) or getattr(exc, "errno", None) == errno.ENOENT


class RunWriter:
    """Writes one run's folder while it trains. Create it with `open`."""

    def __init__(self, run: RunDir, snapshot: Callable[[], RunSnapshot], *, created: float,
                 on_notice: NoticeCallback | None = None, tensorboard: bool = False) -> None:
        self.run = run
        self.created = created
        self.notices: list[str] = []  # kept in status.json, so a reader sees them too
        self._snapshot = snapshot
        self._on_notice = on_notice
        self._events = LiveEventLog(run, created, self._tensorboard_failed) if tensorboard else None

    @classmethod
    def open(cls, path: str | Path | None, task: str, snapshot: Callable[[], RunSnapshot], *,
             resuming: bool, on_notice: NoticeCallback | None = None, tensorboard: bool = False) -> "RunWriter":
        """Create (or reopen) the run folder — a new one in the user data folder when `path` is None —
        and refuse one that another live process is writing. A resumed run keeps its creation time.
        `tensorboard`: also keep the run's TensorBoard event files."""
        run = RunDir(Path(path) if path is not None else claim_new_run_dir(default_runs_root(), task))
        status = run.read_status()
        if (status.get("state") == RunState.RUNNING and not owner.is_this_process(status)
                and owner.writer_alive(status)):
            raise RunFolderError(f"The run folder {run.path} is being written by another HRM Studio process "
                                 f"(pid {status.get('pid')}) right now; wait for it to finish or stop it, or "
                                 f"choose another folder with --out.")
        run.create()
        run.remove_temp_files()  # left by a writer that was killed mid-write
        created = status.get("created")
        kept = resuming and isinstance(created, (int, float)) and not isinstance(created, bool)
        return cls(run, snapshot, created=float(created) if kept else time.time(), on_notice=on_notice,
                   tensorboard=tensorboard)

    # ----- what the run writes ------------------------------------------------------------------
    def start(self) -> None:
        """Config, task, the whole history and the running status: all a reader needs but weights."""
        with self.writing(self.run.path):
            self._write_everything()

    def record_epoch(self, row: dict[str, Any]) -> None:
        """Append the epoch's row (already in the snapshot's history), then the history and the status."""
        run = self.run
        with self.writing(run.metrics_path):
            if self._ensure_folder():
                return  # written again from the snapshot's history, this row included
            try:
                run.append_metrics(row)
            except FileNotFoundError:  # vanished between the check and the append
                self._ensure_folder()
                return
        if self._events is not None:
            self._events.add(row)
        self.persist(run.history_path, lambda: run.write_history(self._snapshot().history))
        self.persist(run.status_path, lambda: self.write_status(RunState.RUNNING))

    def save_checkpoint(self, kind: CheckpointKind, write: Callable[[Path], Any]) -> Path:
        """Write the run's checkpoint of this kind with `write(path)`; returns the path."""
        target = self.run.checkpoint(kind)
        self.persist(target, lambda: write(target))
        return target

    def finish(self, state: RunState, **extra: Any) -> None:
        """The run's last status (finished or stopped, with the reason)."""
        self._close_events()
        self.persist(self.run.status_path, lambda: self.write_status(state, **extra))

    def fail(self, message: str) -> None:
        """Mark the run failed, if the folder can still be written; the failure itself is reported elsewhere."""
        self._close_events()
        try:
            self.write_status(RunState.FAILED, message=message)
        except (OSError, UserError):
            pass

    def write_status(self, state: RunState, **extra: Any) -> None:
        """status.json; while running it names this process so readers can tell a dead run."""
        snap = self._snapshot()
        fields: dict[str, Any] = {"epoch": snap.epoch, "epochs": snap.epochs, "best": snap.best,
                                  "created": self.created}
        if self.notices:
            fields["notices"] = list(self.notices)
        if state == RunState.RUNNING:
            fields.update(owner.this_process())
        fields.update(extra)
        self.run.write_status(state, **fields)

    # ----- writing safely ---------------------------------------------------------------------
    def persist(self, what: str | Path, write: Callable[[], Any]) -> None:
        """Run `write`; if the folder vanished just before, write it again and retry once. A failure
        raises RunFolderError in one sentence that says what is still safe."""
        with self.writing(what):
            self._ensure_folder()
            try:
                write()
            except (OSError, RunFolderError) as exc:
                if not _vanished(exc) or not self._ensure_folder():
                    raise
                write()

    def try_persist(self, what: str | Path, write: Callable[[], Any]) -> str | None:
        """`persist` for a file the run can do without: None when written, else why not (one sentence,
        without the advice on continuing, which does not apply)."""
        try:
            self._ensure_folder()
            try:
                write()
            except FileNotFoundError:  # the folder vanished between the check and the write
                self._ensure_folder()
                write()
        except OSError as exc:
            return write_failure(exc, what)
        except UserError as exc:
            return str(exc)
        return None

    @contextmanager
    def writing(self, what: str | Path) -> Iterator[None]:
        """Turn a failed write into one sentence: what failed, what is safe, what to do."""
        try:
            yield
        except RunFolderError as exc:
            raise RunFolderError(f"{exc} {self.resume_advice()}") from None
        except OSError as exc:
            raise RunFolderError(f"{write_failure(exc, what)} {self.resume_advice()}") from None

    def resume_advice(self) -> str:
        """What is still safe on disk, and the command that continues from it."""
        if self.run.resume_checkpoint() is None:
            return "No checkpoint had been saved yet; free some space (or fix the folder) and start the run again."
        return (f"Checkpoints already saved are unchanged; free some space (or fix the folder), then continue "
                f"with: hrm-studio train --resume {self.run.path}")

    # ----- a vanished folder --------------------------------------------------------------------
    def _write_everything(self) -> None:
        snap, run = self._snapshot(), self.run
        run.write_config(snap.config)
        run.write_task(snap.task)
        run.reset_metrics(snap.history)
        run.write_history(snap.history)
        self.write_status(RunState.RUNNING)
        if self._events is not None:
            self._events.restart(snap.history)  # the event files mirror the history (see tensorboard_log.py)

    # ----- TensorBoard ----------------------------------------------------------------------------
    def _tensorboard_failed(self, message: str) -> None:
        if self._on_notice is not None:
            self._on_notice("tensorboard_not_written", message)

    def _close_events(self) -> None:
        if self._events is not None:
            self._events.close()

    def _ensure_folder(self) -> bool:
        """If the run folder vanished, write it again; returns whether it had to.

        Everything the run holds goes back: settings, task, history, status; the checkpoint
        being saved follows. The best checkpoint returns at the next improvement (its weights
        are not held in memory).
        """
        run = self.run
        if run.config_path.is_file() and run.checkpoints.is_dir():
            return False
        run.create()
        epoch = self._snapshot().epoch
        message = (f"The run folder {run.path} disappeared while training (deleted or moved?); HRM Studio "
                   f"wrote it again with the settings and the history up to epoch {epoch}, and keeps saving "
                   f"checkpoints there ({run.checkpoint(CheckpointKind.BEST).name} returns at the next "
                   f"improvement).")
        self.notices.append(message)
        self._write_everything()
        if self._on_notice is not None:
            self._on_notice("run_dir_recreated", message)
        return True
