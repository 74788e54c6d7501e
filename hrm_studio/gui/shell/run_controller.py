"""RunController: owns the training thread and says what state the run is in.

The window asks it to start, pause, resume, stop or save, and listens to `event` (the
Trainer's dataclasses, re-emitted on the GUI thread) and `state_changed`. It is the only
place that creates, joins and deletes the training QThread, so a closing window can
always stop the worker cleanly with `shutdown()`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from hrm_studio.gui.shell.process_group_worker import ProcessGroupWorker
from hrm_studio.gui.shell.training_worker import StartRequest, TrainingWorker
from hrm_studio.gui.widgets.worker_thread import WorkerThread
from hrm_studio.events import Started

IDLE, STARTING, RUNNING, PAUSED, STOPPING = "idle", "starting", "running", "paused", "stopping"


class RunController(QObject):
    event = Signal(object)
    state_changed = Signal(str)
    ended = Signal(object)   # the run's last event (Finished / Failed), after the thread has ended

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job: WorkerThread | None = None
        self._worker: TrainingWorker | ProcessGroupWorker | None = None
        self._state = IDLE

    # ----- state ---------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @property
    def active(self) -> bool:
        return self._state != IDLE

    @property
    def worker(self) -> TrainingWorker | ProcessGroupWorker | None:
        return self._worker

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    # ----- commands ------------------------------------------------------------------------
    def start(self, request: StartRequest) -> None:
        if self.active:
            raise RuntimeError("a run is already going")
        # More than one process: a child process group the worker follows through the run folder.
        worker = TrainingWorker(request) if request.config.train.processes <= 1 else ProcessGroupWorker(request)
        worker.event.connect(self._on_event)
        self._job, self._worker = WorkerThread(self, "hrm-training", worker, self._on_thread_finished), worker
        self._set_state(STARTING)
        self._job.start()

    def pause(self) -> None:
        if self._worker is not None and self._state in (STARTING, RUNNING):
            self._worker.pause()
            self._set_state(PAUSED)

    def resume(self) -> None:
        if self._worker is not None and self._state == PAUSED:
            self._worker.resume()
            self._set_state(RUNNING)

    def stop(self) -> None:
        if self._worker is not None and self._state not in (IDLE, STOPPING):
            self._worker.stop()
            self._set_state(STOPPING)

    def save_checkpoint(self, path: str | Path) -> bool:
        """Ask the running trainer to save between two steps; False when no run is going."""
        if self._worker is None or self._state == IDLE:
            return False
        self._worker.request_checkpoint(path)
        return True

    def set_live(self, name: str, value: Any) -> None:
        if self._worker is not None:
            self._worker.set_live(name, value)

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Stop any run and wait for its thread; True when nothing is left running."""
        return self._job is None or self._job.shutdown(timeout_ms)

    # ----- from the worker thread (queued onto this, the GUI thread) -----------------------
    @Slot(object)
    def _on_event(self, event: Any) -> None:
        if isinstance(event, Started) and self._state == STARTING:
            self._set_state(RUNNING)
        self.event.emit(event)

    @Slot()
    def _on_thread_finished(self) -> None:
        job, worker = self._job, self._worker
        if job is None:
            return
        job.release()
        self._job = self._worker = None
        self._set_state(IDLE)
        self.ended.emit(worker.last if worker is not None else None)
