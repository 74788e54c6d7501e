"""JobRunner: run slow file work (open a checkpoint, export a model) off the GUI thread.

Reading a checkpoint imports torch and unpickles tensors; exporting writes hundreds of
megabytes for a real model. Either would freeze the window on the GUI thread. Each job
gets its own short-lived QThread; its result or its error comes back on the GUI thread
as a call to the callback given to `submit`. `shutdown()` waits for every job.
"""

from __future__ import annotations

import itertools
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from hrm_studio.errors import UserError


@dataclass(frozen=True)
class JobError:
    """A failed job: a sentence for the user, and the traceback for a bug."""

    message: str
    details: str = ""


class _Job(QObject):
    finished = Signal(int, bool, object)   # job id, succeeded, result or JobError

    def __init__(self, job_id: int, work: Callable[[], Any]) -> None:
        super().__init__()
        self.job_id = job_id
        self.work = work

    @Slot()
    def run(self) -> None:
        try:
            result = self.work()
        except UserError as exc:
            self.finished.emit(self.job_id, False, JobError(str(exc)))
        except Exception as exc:  # noqa: BLE001 - a bug still has to reach the window
            self.finished.emit(self.job_id, False, JobError(f"{type(exc).__name__}: {exc}",
                                                            traceback.format_exc()))
        else:
            self.finished.emit(self.job_id, True, result)


class JobRunner(QObject):
    """Runs callables on worker threads; callbacks are called on the GUI thread."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._jobs: dict[int, tuple[QThread, _Job, Callable[[Any], None], Callable[[JobError], None]]] = {}

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def submit(self, work: Callable[[], Any], on_done: Callable[[Any], None],
               on_error: Callable[[JobError], None]) -> None:
        job_id = next(self._ids)
        thread = QThread(self)
        thread.setObjectName(f"hrm-job-{job_id}")
        job = _Job(job_id, work)
        job.moveToThread(thread)
        thread.started.connect(job.run)
        job.finished.connect(self._on_finished)
        job.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        self._jobs[job_id] = (thread, job, on_done, on_error)
        thread.start()
        if len(self._jobs) == 1:
            self.busy_changed.emit(True)

    @Slot(int, bool, object)
    def _on_finished(self, job_id: int, ok: bool, result: Any) -> None:
        entry = self._jobs.pop(job_id, None)
        if entry is None:
            return
        thread, job, on_done, on_error = entry
        thread.wait()
        job.deleteLater()
        thread.deleteLater()
        if not self._jobs:
            self.busy_changed.emit(False)
        (on_done if ok else on_error)(result)

    def wait(self, timeout_ms: int = 60_000) -> bool:
        """Block until every running job's thread has ended; their callbacks still come later."""
        return all(thread.wait(timeout_ms) for thread, *_ in list(self._jobs.values()))

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Wait for every job to end (their callbacks are dropped)."""
        done = True
        for job_id, (thread, job, _, _) in list(self._jobs.items()):
            done = thread.wait(timeout_ms) and done
            job.deleteLater()
            thread.deleteLater()
            self._jobs.pop(job_id, None)
        return done
