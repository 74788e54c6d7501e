"""PredictionSet: what the viewer shows for one split — the puzzles, and what the model
predicted for each after every ACT segment — plus its file in the run directory.

Why one object: the viewer, the exports and the run directory all need the same four
things together (the examples, the per-segment predictions, the task's display facts,
and which weights produced them). Keeping them in one plain dataclass of numpy arrays
lets it cross from the worker thread to the window as an event payload and be written
as one `.npz` that loads without pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from hrm_studio.data import PuzzleSet
from hrm_studio.data.grid import IGNORE
from hrm_studio.errors import UserError
from hrm_studio.runstore.atomic import atomic_write
from hrm_studio.runstore.prediction_record import Predictions

SPLITS = ("train", "test")
FORMAT_VERSION = 1
_PREDICTION_FIELDS = tuple(f.name for f in fields(Predictions) if f.name != "logits")


@dataclass(eq=False)
class PredictionSet:
    """N puzzles of one split and the model's predictions for them, segment by segment.

    split:       "train" or "test"
    epoch:       epoch of the weights that predicted (0 = before training / unknown)
    indices:     int64 [N]: each puzzle's row in the whole split
    puzzles:     the N examples (inputs, labels, identifiers, pattern tags)
    predictions: per-segment predictions (see evaluation/predict.py)
    task:        TaskInfo.to_dict() of the dataset: grid shape, vocabulary, display kind
    complete:    True when this is the whole split, False for a live sample
    """

    split: str
    epoch: int
    indices: np.ndarray
    puzzles: PuzzleSet
    predictions: Predictions
    task: dict[str, Any]
    complete: bool

    def __len__(self) -> int:
        return len(self.puzzles)

    @property
    def steps(self) -> int:
        """ACT segments recorded per puzzle (halt_max_steps)."""
        return int(self.predictions.exact.shape[1])

    # ----- per-puzzle figures, read after the last segment (the official reading) ------------
    def token_accuracy(self, segment: int | None = None) -> np.ndarray:
        """float64 [N]: share of labelled cells right after `segment` (0-based; default last)."""
        t = self.steps - 1 if segment is None else segment
        return self.predictions.token_correct[:, t] / np.maximum(self.predictions.token_count, 1)

    def exact(self, segment: int | None = None) -> np.ndarray:
        """bool [N]: every labelled cell right after `segment` (default last)."""
        t = self.steps - 1 if segment is None else segment
        return self.predictions.exact[:, t]

    def halt_confidence(self) -> np.ndarray:
        """float64 [N]: sigmoid(q_halt) at the segment where the model halts."""
        rows = np.arange(len(self))
        q = self.predictions.q_halt[rows, self.predictions.halt_step.astype(np.intp) - 1]
        return 1.0 / (1.0 + np.exp(-q.astype(np.float64)))

    def correct_from(self) -> np.ndarray:
        """int64 [N]: first 1-based segment from which the puzzle stays exactly right, 0 if never."""
        exact = self.predictions.exact
        stays = np.logical_and.accumulate(exact[:, ::-1], axis=1)[:, ::-1]  # right here and after
        first = np.argmax(stays, axis=1) + 1
        return np.where(stays.any(axis=1), first, 0).astype(np.int64)

    def wrong_cells(self, i: int, segment: int | None = None) -> np.ndarray:
        """bool [S]: labelled cells of puzzle `i` whose prediction differs from the label."""
        t = self.steps - 1 if segment is None else segment
        labels = self.puzzles.labels[i]
        return (labels != IGNORE) & (self.predictions.predictions[i, t] != labels)

    def changed_cells(self, i: int, segment: int) -> np.ndarray:
        """bool [S]: cells whose predicted token changed from the previous segment (none at 0)."""
        pred = self.predictions.predictions[i]
        if segment <= 0:
            return np.zeros(pred.shape[1], bool)
        return pred[segment] != pred[segment - 1]

    # ----- files ---------------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write one uncompressed .npz atomically (runstore/atomic.py: temp file, fsync, replace)."""
        path = Path(path)
        meta = {"format": FORMAT_VERSION, "split": self.split, "epoch": int(self.epoch),
                "complete": bool(self.complete), "task": self.task}
        arrays: dict[str, np.ndarray] = {
            "meta": np.array(json.dumps(meta)),
            "indices": np.asarray(self.indices, np.int64),
            "inputs": self.puzzles.inputs,
            "labels": self.puzzles.labels,
            "puzzle_identifiers": self.puzzles.puzzle_identifiers,
            "patterns": np.asarray(self.puzzles.patterns, dtype=str),
        }
        for name in _PREDICTION_FIELDS:
            arrays[f"pred_{name}"] = getattr(self.predictions, name)
        atomic_write(path, lambda handle: np.savez(handle, **arrays))
        return path

    @classmethod
    def load(cls, path: str | Path) -> PredictionSet:
        """Read a file written by `save`; UserError naming the file if it is not one."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                if meta.get("format") != FORMAT_VERSION:
                    raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT_VERSION}")
                puzzles = PuzzleSet(inputs=data["inputs"], labels=data["labels"],
                                    puzzle_identifiers=data["puzzle_identifiers"], patterns=data["patterns"])
                pred = Predictions(**{name: data[f"pred_{name}"] for name in _PREDICTION_FIELDS})
                result = cls(split=str(meta["split"]), epoch=int(meta["epoch"]), indices=data["indices"],
                             puzzles=puzzles, predictions=pred, task=dict(meta["task"]),
                             complete=bool(meta["complete"]))
        except FileNotFoundError:
            raise UserError(f"No saved predictions at {path}.") from None
        except Exception as exc:  # noqa: BLE001 - any damage to the file reads the same to a person
            raise UserError(f"The saved predictions in {path} could not be read ({exc}). Delete the file; "
                            f"the viewer will evaluate the model again.") from None
        result._check(path)
        return result

    def _check(self, path: Path) -> None:
        n = len(self.puzzles)
        pred = self.predictions
        shapes_ok = (self.puzzles.labels.shape == self.puzzles.inputs.shape
                     and pred.predictions.shape[0] == n and pred.predictions.shape[2:] == self.puzzles.inputs.shape[1:]
                     and pred.exact.shape == pred.predictions.shape[:2] and len(self.indices) == n
                     and self.split in SPLITS)
        if not shapes_ok:
            raise UserError(f"The saved predictions in {path} do not fit together (shapes differ). Delete the "
                            f"file; the viewer will evaluate the model again.")


def build_prediction_set(split: str, epoch: int, indices: np.ndarray, puzzles: PuzzleSet,
                         predictions: Predictions, task: dict[str, Any], complete: bool) -> PredictionSet:
    """A PredictionSet without the logits (they are large and the viewer does not need them)."""
    if predictions.logits is not None:
        predictions = Predictions(**{name: getattr(predictions, name) for name in _PREDICTION_FIELDS})
    return PredictionSet(split=split, epoch=epoch, indices=np.asarray(indices, np.int64), puzzles=puzzles,
                         predictions=predictions, task=task, complete=complete)
