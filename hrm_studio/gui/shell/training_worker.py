"""TrainingWorker: runs one Trainer in a QThread and turns its events into a Qt signal.

Why it looks like this:
- The trainer (and with it torch) is imported inside `run()`, on the worker thread, so the
  window never waits for PyTorch; the thread count is set there too (`training.threads`),
  because OpenMP's thread setting belongs to the thread that trains.
- `pause`, `resume`, `stop` and `request_checkpoint` are plain method calls made from the
  GUI thread. They set the Trainer's thread-safe flags directly; a queued slot would only
  run after `fit()` returned. Calls that arrive while the trainer is still being built
  are remembered and applied as soon as it exists.
- Events cross threads as `Signal(object)` carrying the Trainer's own plain dataclasses.
  A failure before `fit()` starts (a bad checkpoint, say) is reported as the same
  `Failed` event a crash inside training produces.
"""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from hrm_studio.config import RunConfig
from hrm_studio.errors import UserError
from hrm_studio.events import Failed, Finished


@dataclass(frozen=True)
class StartRequest:
    """Everything a run needs: settings, where it goes, and what it starts from."""

    config: RunConfig
    run_dir: Path | None = None
    resume_from: Path | None = None
    init_weights: Path | None = None
    live: dict[str, Any] = field(default_factory=dict)


class TrainingWorker(QObject):
    """Lives in its own QThread; `run()` is connected to the thread's `started`."""

    event = Signal(object)   # a hrm_studio.events dataclass
    done = Signal(object)    # the last event: Finished or Failed

    def __init__(self, request: StartRequest) -> None:
        super().__init__()
        self.request = request
        self._lock = threading.Lock()
        self._trainer: Any = None
        self._paused = False
        self._stopped = False
        self._pending_saves: list[str] = []
        self._last: Finished | Failed | None = None

    # ----- control: called directly from the GUI thread ------------------------------------
    def pause(self) -> None:
        with self._lock:
            self._paused = True
            if self._trainer is not None:
                self._trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._paused = False
            if self._trainer is not None:
                self._trainer.resume()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self._trainer is not None:
                self._trainer.stop()

    def request_checkpoint(self, path: str | Path) -> None:
        with self._lock:
            if self._trainer is not None:
                self._trainer.request_checkpoint(path)
            else:
                self._pending_saves.append(str(path))

    def set_live(self, name: str, value: Any) -> None:
        """Change a setting the trainer re-reads every epoch (stop_at_exact, eval_interval, …)."""
        with self._lock:
            if self._trainer is not None:
                self._trainer.config.set(name, value)

    @property
    def last(self) -> Finished | Failed | None:
        """The run's closing event; read it after the thread has finished."""
        return self._last

    @property
    def global_step(self) -> int:
        trainer = self._trainer
        return int(trainer.state.global_step) if trainer is not None else 0

    # ----- the thread's work ----------------------------------------------------------------
    @Slot()
    def run(self) -> None:
        request = self.request
        try:
            from hrm_studio.training.threads import use_threads
            from hrm_studio.training.trainer import Trainer

            use_threads(request.config)

            trainer = Trainer(request.config, request.run_dir, self._forward)
            if request.resume_from is not None:
                trainer.resume_from(request.resume_from)
            if request.init_weights is not None:
                trainer.load_weights(request.init_weights)
            with self._lock:
                self._trainer = trainer
                if self._paused:
                    trainer.pause()
                if self._stopped:
                    trainer.stop()
                for path in self._pending_saves:
                    trainer.request_checkpoint(path)
                self._pending_saves.clear()
            trainer.fit()
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the window
            if not isinstance(self._last, Failed):
                message = str(exc) if isinstance(exc, UserError) else \
                    f"Training could not start: {type(exc).__name__}: {exc}"
                self._forward(Failed(message=message, traceback=traceback.format_exc(), epoch=0, run_dir=""))
        finally:
            self.done.emit(self._last)

    def _forward(self, event: Any) -> None:
        if isinstance(event, (Finished, Failed)):
            self._last = event
        self.event.emit(event)
