"""JobRunner: run slow file work (open a checkpoint, export a model) off the GUI thread.

Reading a checkpoint imports torch and unpickles tensors; exporting writes hundreds of
megabytes for a real model. Either would freeze the window on the GUI thread. Each job
gets its own short-lived thread; its result or its error comes back on the GUI thread
as a call to the callback given to `submit`. `shutdown()` waits for every job.

Why a QThread subclass that keeps its outcome, and no signal carrying it: a Python object
sent through a queued signal is copied under Qt's locks, and copying it needs the GIL. The
GUI thread holds the GIL while it deletes Qt objects, which takes the same locks, so the
two threads could wait on each other for ever (seen once in the test suite). Here the
worker only stores its outcome on the thread object and ends; Qt's own argument-less
`finished` brings the GUI thread to read it. The thread objects are children of the runner
and live on the GUI thread, so Python never deletes a Qt object that another thread uses.
"""

from __future__ import annotations

import itertools
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from hrm_studio.errors import UserError


@dataclass(frozen=True)
class JobError:
    """A failed job: a sentence for the user, and the traceback for a bug."""

    message: str
    details: str = ""


class _JobThread(QThread):
    """Runs one callable and keeps what came of it: ``ok`` and ``outcome`` (the result or a JobError)."""

    def __init__(self, job_id: int, work: Callable[[], Any], parent: QObject) -> None:
        super().__init__(parent)
        self.setObjectName(f"hrm-job-{job_id}")
        self.work: Callable[[], Any] | None = work
        self.ok = False
        self.outcome: Any = JobError("The job ended before it ran.")
        self.ran = False  # set as run() returns: Qt's isFinished() turns true only after `finished`

    def run(self) -> None:
        # The callable is dropped on the GUI thread (JobRunner._on_finished), not here: what it captured
        # may hold the last reference to a Qt object of the GUI thread.
        work = self.work
        try:
            assert work is not None
            self.outcome, self.ok = work(), True
        except UserError as exc:
            self.outcome = JobError(str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug still has to reach the window
            self.outcome = JobError(f"{type(exc).__name__}: {exc}", traceback.format_exc())
        finally:
            self.ran = True


class JobRunner(QObject):
    """Runs callables on worker threads; callbacks are called on the GUI thread."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._jobs: dict[int, tuple[_JobThread, Callable[[Any], None], Callable[[JobError], None]]] = {}

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def submit(self, work: Callable[[], Any], on_done: Callable[[Any], None],
               on_error: Callable[[JobError], None]) -> None:
        job_id = next(self._ids)
        thread = _JobThread(job_id, work, self)
        thread.finished.connect(self._on_finished)  # queued: the runner lives on the GUI thread
        self._jobs[job_id] = (thread, on_done, on_error)
        thread.start()
        if len(self._jobs) == 1:
            self.busy_changed.emit(True)

    @Slot()
    def _on_finished(self) -> None:
        # Every ended thread is collected here, whichever one's signal this is.
        for job_id in [i for i, (thread, *_) in self._jobs.items() if thread.ran]:
            thread, on_done, on_error = self._jobs.pop(job_id)
            thread.wait()  # the moments between run() returning and the thread ending
            thread.deleteLater()
            thread.work, outcome, thread.outcome = None, thread.outcome, None  # the runner keeps nothing
            if not self._jobs:
                self.busy_changed.emit(False)
            (on_done if thread.ok else on_error)(outcome)

    def wait(self, timeout_ms: int = 60_000) -> bool:
        """Block until every running job's thread has ended; their callbacks still come later."""
        return all(thread.wait(timeout_ms) for thread, *_ in list(self._jobs.values()))

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Wait for every job to end (their callbacks are dropped)."""
        done = True
        for job_id, (thread, _, _) in list(self._jobs.items()):
            done = thread.wait(timeout_ms) and done
            if thread.isFinished():
                thread.deleteLater()
                self._jobs.pop(job_id, None)
        return done
