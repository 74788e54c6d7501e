"""The official predictions file ``<prefix>_all_preds.<rank>``, written and read.

Upstream ``evaluate.py`` (``save_outputs``) ``torch.save``s a dict of tensors over the test
split — ``inputs``, ``labels``, ``puzzle_identifiers``, ``logits``, ``q_halt_logits`` —
padding examples (identifier 0) included, and ``arc_eval.ipynb`` scores it with the data set's
``identifiers.json``. The notebook hashes grids with their dtype and its inverse colour map
yields int64, so ``inputs`` and ``labels`` are written as int64 (int32 inputs trip its
assertion). Read back with ``weights_only=True``: a predictions file never runs code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from hrm_studio.errors import DatasetError
from hrm_studio.evaluation.arc.protocol import ArcPrediction, predictions_from_arrays

KEYS = ("inputs", "labels", "puzzle_identifiers", "logits", "q_halt_logits")


@dataclass(frozen=True, eq=False)
class OfficialPreds:
    """The arrays of an ``_all_preds`` file (rows = test examples in order, padding included).

    inputs, labels: int64 [N, seq_len] (labels −100 = ignored); puzzle_identifiers: int32 [N];
    logits: float [N, seq_len, vocab]; q_halt_logits: float32 [N].
    """

    inputs: np.ndarray
    labels: np.ndarray
    puzzle_identifiers: np.ndarray
    logits: np.ndarray
    q_halt_logits: np.ndarray

    @classmethod
    def from_predictions(cls, inputs: np.ndarray, labels: np.ndarray, puzzle_identifiers: np.ndarray,
                         predictions: np.ndarray, q_halt_logits: np.ndarray,
                         vocab_size: int = 12) -> OfficialPreds:
        """For predicted tokens without logits: one-hot float32 logits (argmax gives the tokens back)."""
        predictions = np.asarray(predictions, dtype=np.int64)
        logits = np.zeros((*predictions.shape, vocab_size), dtype=np.float32)
        np.put_along_axis(logits, predictions[..., None], 1.0, axis=-1)
        return cls(inputs, labels, puzzle_identifiers, logits, np.asarray(q_halt_logits))

    @property
    def predictions(self) -> np.ndarray:
        """The predicted tokens: argmax of the logits, as the notebook takes them."""
        return self.logits.argmax(axis=-1)

    def arc_predictions(self, identifier_names: Sequence[str]) -> list[ArcPrediction]:
        """The non-padding rows as ArcPredictions for ``score_arc``."""
        return predictions_from_arrays(self.predictions, self.q_halt_logits, self.puzzle_identifiers,
                                       identifier_names)


def official_preds_path(prefix: str | Path, rank: int = 0) -> Path:
    """``<prefix>_all_preds.<rank>``: the name the official notebook globs for."""
    return Path(f"{prefix}_all_preds.{rank}")


def write_official_preds(prefix: str | Path, preds: OfficialPreds, rank: int = 0) -> Path:
    """``torch.save`` the dict the official notebook reads; returns the file written."""
    _check(preds, "The predictions to write")
    logits = preds.logits
    if logits.dtype not in (np.float16, np.float32):
        logits = logits.astype(np.float32)
    tensors = {
        "inputs": torch.from_numpy(np.ascontiguousarray(preds.inputs, dtype=np.int64)),
        "labels": torch.from_numpy(np.ascontiguousarray(preds.labels, dtype=np.int64)),
        "puzzle_identifiers": torch.from_numpy(
            np.ascontiguousarray(preds.puzzle_identifiers, dtype=np.int32)),
        "logits": torch.from_numpy(np.ascontiguousarray(logits)),
        "q_halt_logits": torch.from_numpy(np.ascontiguousarray(preds.q_halt_logits, dtype=np.float32)),
    }
    path = official_preds_path(prefix, rank)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(tensors, path)
    except OSError as exc:
        raise DatasetError(f"Cannot write the predictions file {path}: {exc.strerror or exc}.") from exc
    return path


def read_official_preds(path: str | Path) -> OfficialPreds:
    """Load an ``_all_preds`` file (ours or upstream's); DatasetError if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"The predictions file {path} does not exist.")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unpickling failure means: not a predictions file we can trust
        raise DatasetError(f"{path} is not a predictions file that can be read safely ({exc}).") from exc
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), torch.Tensor) for k in KEYS):
        raise DatasetError(
            f"{path} does not hold the tensors {', '.join(KEYS)} of an official predictions file."
        )
    arrays = {k: raw[k].detach().cpu() for k in KEYS}
    if arrays["logits"].dtype == torch.bfloat16:  # numpy has no bfloat16
        arrays["logits"] = arrays["logits"].float()
    preds = OfficialPreds(
        inputs=arrays["inputs"].numpy(),
        labels=arrays["labels"].numpy(),
        puzzle_identifiers=arrays["puzzle_identifiers"].numpy(),
        logits=arrays["logits"].numpy(),
        q_halt_logits=arrays["q_halt_logits"].float().numpy(),
    )
    _check(preds, str(path))
    return preds


def _check(preds: OfficialPreds, where: str) -> None:
    n = len(preds.puzzle_identifiers)
    shapes = {k: np.shape(getattr(preds, k)) for k in KEYS}
    if (len(shapes["inputs"]) != 2 or shapes["labels"] != shapes["inputs"] or shapes["inputs"][0] != n
            or shapes["logits"][:2] != shapes["inputs"] or len(shapes["logits"]) != 3
            or shapes["q_halt_logits"] != (n,) or shapes["puzzle_identifiers"] != (n,)):
        raise DatasetError(
            f"{where}: the arrays do not line up ({', '.join(f'{k} {s}' for k, s in shapes.items())}); "
            f"each needs one row per test example."
        )
