"""Pause, resume, stop and checkpoint requests, from any thread, honoured between two steps.

Calls may come in any order. A stop always wins: a pause that arrives after it is ignored,
and a run held by a pause that slipped in while it was being stopped still ends.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Callable, Iterator


class RunControl:
    """The control half of a Trainer: what other threads may ask of a run while it trains."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._unpaused = threading.Event()
        self._unpaused.set()
        self._save_requests: "queue.Queue[str]" = queue.Queue()

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

        Requests that arrive after `fit()` has returned are not served; the checkpoint the run
        saved where it ended holds that state already.
        """
        self._save_requests.put(str(path))

    def _checkpoint_requests(self) -> Iterator[str]:
        """The paths asked for since the last call, oldest first."""
        while True:
            try:
                yield self._save_requests.get_nowait()
            except queue.Empty:
                return

    def _hold_between_steps(self, serve: Callable[[], None]) -> float | None:
        """`serve()` waiting requests, then hold while paused (serving them meanwhile): the seconds
        held, or None when the run must stop."""
        serve()
        held = 0.0
        if not self._unpaused.is_set():
            paused_at = time.perf_counter()
            while not self._unpaused.wait(0.05) and not self._stop.is_set():
                serve()
            held = time.perf_counter() - paused_at
        return None if self._stop.is_set() else held
