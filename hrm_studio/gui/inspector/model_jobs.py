"""ModelJobs: one loaded model answering the inspector's and the editor's questions off the GUI thread.

Why one object for both tabs: the model is loaded once (reading weights and building the
data takes far longer than asking it about one puzzle), and the analysis code attaches
recorders to it while it runs, so two questions must never run on it at the same time. Each
question belongs to a *lane* ("trace", "attention", "curve", "editor"); a new question in a
lane replaces the one waiting there and makes the one running there stale, so its answer is
dropped when it arrives (`superseded` counts those). That is how an edit cancels the answer
to the edit before it without ever waiting on the GUI thread. Questions run one at a time on
JobRunner threads and hand back plain data (numpy dataclasses), never torch objects.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from hrm_studio.data.puzzle_set import PuzzleSet
from hrm_studio.gui.predictions.prediction_jobs import PredictionSource
from hrm_studio.gui.widgets.background import JobError, JobRunner

Question = Callable[[Any], Any]          # LoadedModel → plain data (runs on a job thread)
NO_MODEL = "There is no model to ask yet: train a run, or open a checkpoint or run folder first."


@dataclass(frozen=True)
class ModelFacts:
    """What the tabs need to know about the loaded model and its puzzles (plain data)."""

    arch: str
    task: dict[str, Any]             # TaskInfo.to_dict()
    splits: dict[str, PuzzleSet]     # "train", "test"
    halt_max_steps: int
    H_cycles: int
    L_cycles: int
    H_layers: int
    L_layers: int
    num_heads: int


def model_facts(loaded: Any) -> ModelFacts:
    """ModelFacts of a LoadedModel (run on a job thread)."""
    m = loaded.config.model
    data = loaded.data
    return ModelFacts(arch=m.arch, task=data.info.to_dict(), splits={"train": data.train, "test": data.test},
                      halt_max_steps=m.halt_max_steps, H_cycles=m.H_cycles, L_cycles=m.L_cycles,
                      H_layers=m.H_layers, L_layers=m.L_layers, num_heads=m.num_heads)


@dataclass
class _Request:
    lane: str
    generation: int
    question: Question
    on_done: Callable[[Any], None]
    on_error: Callable[[JobError], None]
    source: PredictionSource


class ModelJobs(QObject):
    """Queue of questions to the model of `source()`; see the module docstring."""

    busy_changed = Signal(bool)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = JobRunner(self)
        self.source: Callable[[], PredictionSource | None] = lambda: None
        self.blocked: str | None = None      # why no question may run now (a run is training)
        self.superseded = 0                  # answers dropped because a newer question of their lane came
        self._ids = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._pending: dict[str, _Request] = {}
        self._running: _Request | None = None
        self._model: Any = None              # LoadedModel: touched only on job threads, one at a time
        self._model_key: tuple[str, str] | None = None

    @property
    def busy(self) -> bool:
        return self._running is not None or bool(self._pending)

    def available(self) -> str | None:
        """Why no question can be asked now, or None when one can."""
        if self.blocked:
            return self.blocked
        source = self.source()
        if source is None or source.checkpoint is None:
            return NO_MODEL
        return None

    def ask(self, lane: str, question: Question, on_done: Callable[[Any], None],
            on_error: Callable[[JobError], None] | None = None) -> bool:
        """Queue `question` in `lane` (replacing any waiting there); False, with `failed`, when none may run."""
        why = self.available()
        if why is not None:
            self.failed.emit(why)
            return False
        source = self.source()
        assert source is not None
        generation = next(self._ids)
        self._latest[lane] = generation
        self._pending[lane] = _Request(lane, generation, question, on_done,
                                       on_error or (lambda e: self.failed.emit(e.message)), source)
        was_busy = self.busy
        self._pump()
        if not was_busy:
            self.busy_changed.emit(True)
        return True

    def cancel(self, lane: str | None = None) -> None:
        """Drop the waiting question of `lane` (every lane when None) and the answer of the running one."""
        for name in [lane] if lane is not None else list(self._latest):
            self._latest[name] = next(self._ids)
            self._pending.pop(name, None)

    def forget_model(self) -> None:
        """The next question loads the model again (the run was trained further, or another was opened)."""
        self._model_key = None

    def wait(self, timeout_ms: int = 60_000) -> bool:
        return self.runner.wait(timeout_ms)

    def shutdown(self) -> None:
        self.cancel()
        self.runner.shutdown()
        self._running = None

    # ----- internals ----------------------------------------------------------------------------------
    def _pump(self) -> None:
        if self._running is not None or not self._pending:
            return
        request = self._pending.pop(next(iter(self._pending)))
        self._running = request
        self.runner.submit(lambda: self._work(request), lambda result: self._finished(request, True, result),
                           lambda error: self._finished(request, False, error))

    def _work(self, request: _Request) -> Any:
        """On a job thread: load the model when the source changed, then ask."""
        return request.question(self._model_for(request.source))

    def _model_for(self, source: PredictionSource) -> Any:
        from hrm_studio.training.model_loading import load_model

        key = (str(source.checkpoint), json.dumps(source.config.to_dict(), sort_keys=True, default=str))
        if self._model_key != key or self._model is None:
            self._model = None
            self._model = load_model(source.checkpoint, source.config)
            self._model_key = key
        return self._model

    def _finished(self, request: _Request, ok: bool, result: Any) -> None:
        self._running = None
        if self._latest.get(request.lane) != request.generation:
            self.superseded += 1
        elif ok:
            request.on_done(result)
        else:
            request.on_error(result)
        self._pump()
        if not self.busy:
            self.busy_changed.emit(False)


def puzzle_row(puzzles: PuzzleSet, index: int) -> tuple[np.ndarray, int, np.ndarray]:
    """(inputs, identifier, labels) of example `index`."""
    return (puzzles.inputs[index].copy(), int(puzzles.puzzle_identifiers[index]), puzzles.labels[index].copy())


def must_load_model(jobs: ModelJobs, tab: Any, known_source: object, loaded: bool, empty: str) -> bool:
    """Whether a tab that follows `jobs` must (re)load the model now.

    Shared by the Reasoning tab and the Puzzle editor: with no model (or one busy training) the tab
    says why and stays idle; with the model it already holds it does nothing.
    """
    why = jobs.available()
    if why is not None:
        tab.set_available(False, empty if why == NO_MODEL else why)
        return False
    return not (loaded and jobs.source() == known_source)
