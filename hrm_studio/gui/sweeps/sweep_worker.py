"""The sweep queue: one Sweep (the Qt-free core) run in a QThread, its events as a Qt signal.

Why it looks like TrainingWorker: torch and the trainer are imported inside `run()`, on the
worker thread, so the window never waits for PyTorch; the core sets torch's thread count
per run, on this thread. `stop()` is a plain call from the GUI thread that sets the core's
thread-safe flag (a queued slot would only run after the whole sweep), and a stop that
arrives before the Sweep exists is remembered.

SweepController owns the thread, as RunController owns the training thread, so a closing
window can always end a sweep cleanly with `shutdown()`.
"""

from __future__ import annotations

import threading
import traceback
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from hrm_studio.errors import UserError
from hrm_studio.gui.widgets.worker_thread import WorkerThread
from hrm_studio.training.sweep import SweepEnded, SweepSpec


class SweepWorker(QObject):
    """Lives in its own QThread; `run()` is connected to the thread's `started`."""

    event = Signal(object)   # a hrm_studio.training.sweep event (SweepStarted, RunEvent, RowChanged, SweepEnded)
    done = Signal(object)    # SweepEnded, or a str: why the sweep could not run

    def __init__(self, spec: SweepSpec, sweep_dir: Path) -> None:
        super().__init__()
        self.spec = spec
        self.sweep_dir = sweep_dir
        self._lock = threading.Lock()
        self._sweep: Any = None
        self._stopped = False
        self._last: SweepEnded | str | None = None

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self._sweep is not None:
                self._sweep.stop()

    @property
    def last(self) -> SweepEnded | str | None:
        return self._last

    @Slot()
    def run(self) -> None:
        try:
            from hrm_studio.training.sweep import Sweep

            sweep = Sweep(self.spec, self.sweep_dir, self._forward)
            with self._lock:
                self._sweep = sweep
                if self._stopped:
                    sweep.stop()
            sweep.run()
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the window
            self._last = str(exc) if isinstance(exc, UserError) else \
                f"The sweep stopped: {type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        finally:
            self.done.emit(self._last)

    def _forward(self, event: Any) -> None:
        if isinstance(event, SweepEnded):
            self._last = event
        self.event.emit(event)


class SweepController(QObject):
    """Starts one sweep at a time; `event` re-emits the core's events on the GUI thread."""

    event = Signal(object)
    active_changed = Signal(bool)
    ended = Signal(object)   # SweepEnded or an error message, after the thread has ended

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job: WorkerThread | None = None
        self._worker: SweepWorker | None = None
        self._stopping = False

    @property
    def active(self) -> bool:
        return self._job is not None

    @property
    def stopping(self) -> bool:
        return self._stopping

    def start(self, spec: SweepSpec, sweep_dir: Path) -> None:
        if self.active:
            raise RuntimeError("a sweep is already going")
        worker = SweepWorker(spec, sweep_dir)
        worker.event.connect(self.event)
        self._job, self._worker = WorkerThread(self, "hrm-sweep", worker, self._on_thread_finished), worker
        self._stopping = False
        self._job.start()
        self.active_changed.emit(True)

    def stop(self) -> None:
        """Stop the current run (it keeps what it has) and skip the rest."""
        if self._worker is not None and not self._stopping:
            self._stopping = True
            self._worker.stop()
            self.active_changed.emit(True)

    def shutdown(self, timeout_ms: int = 60_000) -> bool:
        """Stop the sweep and wait for its thread; True when nothing is left running."""
        return self._job is None or self._job.shutdown(timeout_ms)

    @Slot()
    def _on_thread_finished(self) -> None:
        job, worker = self._job, self._worker
        if job is None:
            return
        job.release()
        self._job = self._worker = None
        self._stopping = False
        self.active_changed.emit(False)
        self.ended.emit(worker.last if worker is not None else None)
