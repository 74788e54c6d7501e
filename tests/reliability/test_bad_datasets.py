"""Bad dataset folders: one sentence and exit code 2 from `train` and `eval`, nothing lost.

Each case starts from a folder `hrm-studio dataset build` wrote, breaks one thing the way
a person (or a half-finished copy) would, and checks that the message names the file and
the fault, that no run folder was started and that the dataset itself was not touched.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from hrm_studio.cli import main
from tests.reliability.helpers import TINY_ARGS, one_line_error, snapshot

MODEL_ARGS = [a for a in TINY_ARGS if a not in ("--task", "copy-increment")]


@pytest.fixture(scope="module")
def good_dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "good"
    assert main(["dataset", "build", "--task", "copy-increment", "--set", "train_size=40", "--set", "test_size=10",
                 "--set", "grid_size=3", "--out", str(out)]) == 0
    return out


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _break(kind: str, ds: Path, marker: Path) -> tuple[str, list[str]]:
    """Break `ds` in one way; returns (file named in the message, words the message holds)."""
    train = ds / "train"
    if kind == "missing-file":
        (train / "copy__labels.npy").unlink()
        return "train/copy__labels.npy", ["is missing"]
    if kind == "wrong-dtype":
        np.save(train / "copy__inputs.npy", np.load(train / "copy__inputs.npy").astype(np.float32))
        return "train/copy__inputs.npy", ["must hold integers, not float32", "re-save it with an integer dtype"]
    if kind == "mismatched-lengths":
        np.save(train / "copy__labels.npy", np.load(train / "copy__labels.npy")[:-3])
        return "train/copy__labels.npy", ["has shape (17, 16)", "they must match"]
    if kind == "mismatched-offsets":
        np.save(train / "copy__puzzle_indices.npy", np.arange(10, dtype=np.int32))
        return "train/copy__puzzle_indices.npy", ["needs one more than the puzzles"]
    if kind == "out-of-vocabulary":
        arr = np.load(train / "increment__inputs.npy")
        arr[2, 5] = 99
        np.save(train / "increment__inputs.npy", arr)
        return "train/increment__inputs.npy", ["holds token 99, outside the vocabulary 0..11"]
    if kind == "label-out-of-vocabulary":
        arr = np.load(train / "copy__labels.npy")
        arr[0, 0] = -7
        np.save(train / "copy__labels.npy", arr)
        return "train/copy__labels.npy", ["holds label -7, outside the vocabulary"]
    if kind == "identifier-out-of-range":
        np.save(train / "copy__puzzle_identifiers.npy", np.full(20, 50, np.int32))
        return "train/copy__puzzle_identifiers.npy", ["holds identifier 50", "allows only 0..2"]
    if kind == "malformed-json":
        (train / "dataset.json").write_text('{"vocab_size": 12, "seq_len": ')
        return "train/dataset.json", ["is not valid JSON"]
    if kind == "json-missing-field":
        _edit_json(train / "dataset.json", lambda d: d.pop("seq_len"))
        return "train/dataset.json", ["is missing the field 'seq_len'"]
    if kind == "json-wrong-type":
        _edit_json(train / "dataset.json", lambda d: d.update(vocab_size="twelve"))
        return "train/dataset.json", ["field 'vocab_size' must be a whole number"]
    if kind == "json-seq-len-disagrees":
        _edit_json(train / "dataset.json", lambda d: d.update(seq_len=25))
        _edit_json(ds / "test" / "dataset.json", lambda d: d.update(seq_len=25))
        return "train/copy__inputs.npy", ["has sequences of 16 tokens", "seq_len 25"]
    if kind == "random-bytes-npy":
        (train / "copy__inputs.npy").write_bytes(os.urandom(300))
        return "train/copy__inputs.npy", ["is not a plain numeric .npy array"]
    if kind == "pickled-npy":
        np.save(train / "copy__inputs.npy", np.array([_RunsCode(marker)], dtype=object), allow_pickle=True)
        return "train/copy__inputs.npy", ["holds pickled objects, which HRM Studio never loads"]
    if kind == "empty-train-split":
        for path in train.glob("*.npy"):
            path.unlink()
        _edit_json(train / "dataset.json", lambda d: d.update(sets=[], total_groups=0))
        return str(ds.name), ["has no training puzzles"]
    raise AssertionError(kind)


KINDS = ["missing-file", "wrong-dtype", "mismatched-lengths", "mismatched-offsets", "out-of-vocabulary",
         "label-out-of-vocabulary", "identifier-out-of-range", "malformed-json", "json-missing-field",
         "json-wrong-type", "json-seq-len-disagrees", "random-bytes-npy", "pickled-npy", "empty-train-split"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_broken_dataset_folder_is_one_sentence_and_exit_2(good_dataset, tmp_path, capsys, kind):
    ds = tmp_path / "ds"
    shutil.copytree(good_dataset, ds)
    marker = tmp_path / "payload-ran"
    named, words = _break(kind, ds, marker)
    before = snapshot(ds)
    out = tmp_path / "run"
    assert main(["train", *MODEL_ARGS, "--set", f"dataset_dir={ds}", "--set", "epochs=1", "--out", str(out)]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert named in line, line
    for word in words:
        assert word in line, line
    assert not out.exists() or not (out / "checkpoints").exists()
    assert snapshot(ds) == before
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["missing-file", "out-of-vocabulary", "malformed-json"])
def test_eval_on_a_broken_dataset_is_refused_too(good_dataset, finished_run, tmp_path, capsys, kind):
    ds = tmp_path / "ds"
    shutil.copytree(good_dataset, ds)
    named, words = _break(kind, ds, tmp_path / "m")
    run_before = snapshot(finished_run)
    assert main(["eval", str(finished_run / "checkpoints" / "final.pt"), "--dataset", str(ds)]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert named in line and all(word in line for word in words)
    assert snapshot(finished_run) == run_before


def test_the_dataset_folder_itself_missing_or_a_file(tmp_path, capsys):
    assert main(["train", *MODEL_ARGS, "--set", f"dataset_dir={tmp_path / 'nope'}", "--out", str(tmp_path / "r")]) == 2
    assert "does not exist or is not a folder" in one_line_error(capsys.readouterr().err)
    (tmp_path / "file").write_text("x")
    assert main(["train", *MODEL_ARGS, "--set", f"dataset_dir={tmp_path / 'file'}", "--out", str(tmp_path / "r")]) == 2
    assert "does not exist or is not a folder" in one_line_error(capsys.readouterr().err)
