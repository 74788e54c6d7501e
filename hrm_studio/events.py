"""What a running Trainer tells the world.

Events are plain dataclasses of numbers, strings, lists, dicts and numpy arrays — never
tensors or Qt objects — so they can cross threads and be written as JSON unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # the event only carries one; importing it here would pull in torch
    from hrm_studio.runstore.prediction_set import PredictionSet


@dataclass(frozen=True)
class Started:
    """Training is about to begin: enough to label plots and the window title."""

    run_dir: str
    config: dict[str, Any]
    num_parameters: int
    train_size: int
    test_size: int
    task: dict[str, Any]
    start_epoch: int
    device: str = ""  # where it computes, for people: "CPU", "CUDA 0 (…)", "CPU × 2 processes"


@dataclass(frozen=True)
class Progress:
    """A step inside an epoch; emitted at most a few times per second."""

    epoch: int
    epochs: int
    puzzles_done: int
    puzzles_total: int
    samples_per_second: float
    elapsed_seconds: float


@dataclass(frozen=True)
class EpochEnd:
    """One row of history: train metrics, and held-out metrics when evaluated this epoch."""

    epoch: int
    epochs: int
    metrics: dict[str, Any]


@dataclass(frozen=True)
class Evaluated:
    """A full evaluation of one split finished (per-pattern numbers included)."""

    epoch: int
    split: str
    metrics: dict[str, Any]


@dataclass(frozen=True)
class CheckpointSaved:
    path: str
    kind: str  # a CheckpointKind: best, final, last or manual
    epoch: int


@dataclass(frozen=True)
class Finished:
    """The run ended normally; `reason` says why (completed, solved, early_stopped, stopped)."""

    reason: str
    epochs_done: int
    best_metric: float | None
    run_dir: str
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Failed:
    """Training raised; what the run had so far is kept on disk."""

    message: str
    traceback: str
    epoch: int
    run_dir: str


@dataclass(frozen=True)
class Notice:
    """Something the person should know that did not stop the run.

    `kind` is a stable word for code to match ("run_dir_recreated": the run folder vanished
    mid-run and was written again from what the trainer holds); `message` is for people.
    """

    kind: str
    message: str
    epoch: int
    run_dir: str


@dataclass(frozen=True)
class PredictionsReady:
    """Fresh predictions for the viewer: the whole held-out split, or the live training sample.

    The PredictionSet is numpy arrays only and is never changed after it is emitted, so the
    window may keep it. It is not written to logs whole (see event_to_dict).
    """

    epoch: int
    split: str
    predictions: "PredictionSet"


Event = (Started | Progress | EpochEnd | Evaluated | CheckpointSaved | Finished | Failed | Notice
         | PredictionsReady)
EventCallback = Callable[[Event], None]


def event_to_dict(event: Event) -> dict[str, Any]:
    """{"event": ClassName, **fields}: for logs and tests.

    PredictionsReady is summarised (how many puzzles, whether the whole split): its arrays
    are megabytes, and the run folder keeps the latest under predictions/.
    """
    if isinstance(event, PredictionsReady):
        ps = event.predictions
        return {"event": "PredictionsReady", "epoch": event.epoch, "split": event.split,
                "puzzles": len(ps), "complete": bool(ps.complete)}
    return {"event": type(event).__name__, **asdict(event)}
