"""WorkerThread: one worker QObject on a QThread of its own, from start to release.

Training runs and sweeps both need the same life cycle: move the worker to a new thread,
start it, quit the thread when the worker says it is done, and on shutdown stop the worker,
wait, then delete both on the GUI thread. One owner keeps those steps (and their order)
in one place; the controllers keep only what is theirs: states and signals.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QThread


class WorkerThread:
    """Owns ``worker`` (a QObject with a ``run`` slot, a ``done`` signal and a ``stop()`` method)
    and the QThread it runs on. ``on_finished`` is called on the GUI thread once the thread has
    ended, whether it ended by itself or through :meth:`shutdown`."""

    def __init__(self, parent: QObject, name: str, worker: Any, on_finished: Callable[[], None]) -> None:
        thread = QThread(parent)
        thread.setObjectName(name)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: the GUI thread may be blocked in shutdown() waiting for this thread to end.
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(on_finished)
        self.thread, self.worker = thread, worker
        self._on_finished = on_finished

    def start(self) -> None:
        self.thread.start()

    def shutdown(self, timeout_ms: int) -> bool:
        """Stop the worker and wait for the thread; True (after ``on_finished``) when it ended."""
        self.worker.stop()
        if not self.thread.wait(timeout_ms):
            return False
        self._on_finished()
        return True

    def release(self) -> None:
        """Join the ended thread and delete both objects (call once, from ``on_finished``)."""
        self.thread.wait()
        self.worker.deleteLater()
        self.thread.deleteLater()
