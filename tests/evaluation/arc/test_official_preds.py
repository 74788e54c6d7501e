"""The official `_all_preds` file: written as the notebook needs it, read back unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from hrm_studio.data import read_dataset
from hrm_studio.data.arc import build_arc_dataset, parse_puzzle_name
from hrm_studio.errors import UserError
from hrm_studio.evaluation.arc.official_preds import (
    OfficialPreds,
    official_preds_path,
    read_official_preds,
    write_official_preds,
)
from hrm_studio.evaluation.arc.protocol import answers_from_tasks, crop_prediction, score_arc
from tests.data.arc.arc_helpers import tiny_tasks


@pytest.fixture(scope="module")
def test_split(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("arc") / "arc"
    build_arc_dataset([t for t in tiny_tasks() if t.subset == "evaluation"], out, num_aug=2, seed=3)
    data = read_dataset(out)
    return data.test, data.info.identifier_names


def _preds(test, seed: int = 0) -> OfficialPreds:
    """Noisy predictions over the test split plus two padding rows (identifier 0), as upstream pads."""
    rng = np.random.default_rng(seed)
    labels = np.where(test.labels == -100, 0, test.labels)
    guess = np.where(rng.random(labels.shape) < 0.002, rng.integers(0, 12, labels.shape), labels)
    pad = np.zeros((2, 900), dtype=np.int64)
    return OfficialPreds.from_predictions(
        inputs=np.concatenate([test.inputs, pad]),
        labels=np.concatenate([test.labels, pad - 100]),
        puzzle_identifiers=np.concatenate([test.puzzle_identifiers, [0, 0]]),
        predictions=np.concatenate([guess, pad]),
        q_halt_logits=rng.normal(size=len(labels) + 2),
    )


def test_the_file_round_trips_with_padding_and_int64_inputs(test_split, tmp_path: Path) -> None:
    test, names = test_split
    preds = _preds(test)
    path = write_official_preds(tmp_path / "step_5", preds)
    assert path == official_preds_path(tmp_path / "step_5") == tmp_path / "step_5_all_preds.0"
    raw = torch.load(path, weights_only=True)
    assert raw["inputs"].dtype == torch.int64 and raw["labels"].dtype == torch.int64
    back = read_official_preds(path)
    for key in ("inputs", "labels", "puzzle_identifiers", "logits"):
        assert np.array_equal(getattr(back, key), getattr(preds, key)), key
    assert np.allclose(back.q_halt_logits, preds.q_halt_logits.astype(np.float32))
    assert len(back.inputs) == len(test) + 2  # padding kept in the file
    answers = answers_from_tasks(tiny_tasks())
    direct = score_arc(preds.arc_predictions(names), answers).to_json()
    assert score_arc(back.arc_predictions(names), answers).to_json() == direct
    assert direct["num_predictions"] == len(test)  # padding skipped when scoring


def test_the_notebooks_input_matching_works_on_the_file(test_split, tmp_path: Path) -> None:
    """arc_eval.ipynb hashes int64 grids: each un-augmented input must equal its task's input."""
    test, names = test_split
    back = read_official_preds(write_official_preds(tmp_path / "ckpt", _preds(test)))
    originals: dict[str, set[bytes]] = {}
    rows = [(names[i], inp) for i, inp in zip(back.puzzle_identifiers, back.inputs) if i != 0]
    for name, inp in rows:
        if "_" not in name:
            originals.setdefault(name, set()).add(crop_prediction(inp).tobytes())
    for name, inp in rows:
        task, aug = parse_puzzle_name(name)
        restored = aug.undo(crop_prediction(inp))
        assert restored.dtype == np.int64 and restored.tobytes() in originals[task]


def test_a_file_that_is_not_a_predictions_file_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk_all_preds.0"
    junk.write_text("not a torch file")
    with pytest.raises(UserError, match="cannot be read safely|not a predictions file"):
        read_official_preds(junk)
    torch.save({"inputs": torch.zeros(2, 900)}, junk)
    with pytest.raises(UserError, match="does not hold the tensors"):
        read_official_preds(junk)
    with pytest.raises(UserError, match="does not exist"):
        read_official_preds(tmp_path / "missing_all_preds.0")
