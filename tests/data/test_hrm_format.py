"""hrm_format.py: the official dataset folder, written and read back, and every bad input."""

import json

import numpy as np
import pytest

from hrm_studio.data import TaskOptions, make_task, read_dataset, write_dataset
from hrm_studio.data.grid import IGNORE
from hrm_studio.errors import DatasetError

ARRAYS = ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices")


def assert_same_split(a, b):
    for key in ("inputs", "labels", "puzzle_identifiers", "patterns"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    assert b.inputs.dtype == b.labels.dtype == b.puzzle_identifiers.dtype == np.int32


@pytest.mark.parametrize(
    "opts",
    [
        TaskOptions("copy-increment", 30, 10, label_noise=0.1),
        TaskOptions("copy-increment", 30, 10, shared_identifier=True, encoding="canvas"),
        TaskOptions("sudoku-4x4", 20, 5),
        TaskOptions("maze", 10, 3, encoding="canvas"),
    ],
    ids=["copy-increment", "shared-canvas", "sudoku", "maze-canvas"],
)
def test_round_trip_keeps_arrays_patterns_identifiers_and_info(tmp_path, opts):
    data = make_task(opts)
    write_dataset(tmp_path / "ds", data)
    back = read_dataset(tmp_path / "ds")
    assert_same_split(data.train, back.train)
    assert_same_split(data.test, back.test)
    assert back.info == data.info


def test_written_folder_follows_the_official_layout(tmp_path):
    data = make_task(TaskOptions("copy-increment", 6, 4))
    out = tmp_path / "ds"
    write_dataset(out, data)
    assert json.loads((out / "identifiers.json").read_text()) == ["<blank>", "copy", "increment"]
    assert json.loads((out / "studio_task.json").read_text())["task"] == "copy-increment"
    meta = json.loads((out / "train" / "dataset.json").read_text())
    assert meta == {
        "pad_id": 0,
        "ignore_label_id": -100,
        "blank_identifier_id": 0,
        "vocab_size": 12,
        "seq_len": 36,
        "num_puzzle_identifiers": 3,
        "total_groups": 6,
        "mean_puzzle_examples": 1.0,
        "sets": ["copy", "increment"],
    }
    files = sorted(p.name for p in (out / "train").iterdir())
    assert files == sorted(
        ["dataset.json"] + [f"{s}__{a}.npy" for s in ("copy", "increment") for a in ARRAYS]
    )
    inputs = np.load(out / "train" / "increment__inputs.npy")
    assert inputs.dtype == np.int32 and inputs.shape == (3, 36)
    np.testing.assert_array_equal(np.load(out / "train" / "copy__puzzle_indices.npy"), [0, 1, 2, 3])
    np.testing.assert_array_equal(np.load(out / "train" / "copy__group_indices.npy"), [0, 1, 2, 3])
    np.testing.assert_array_equal(
        np.load(out / "train" / "increment__puzzle_identifiers.npy"), [2, 2, 2]
    )


# ------------------------------------------------------------ official-style folder


def official_folder(root, seq_len=9, vocab=12, ignore=0):
    """Like the official ARC builder: set "all", ignore_label_id 0, puzzles with several examples."""
    (root / "train").mkdir(parents=True)
    (root / "test").mkdir()
    (root / "identifiers.json").write_text(json.dumps(["<blank>", "p1", "p2", "p3"]))
    rng = np.random.default_rng(0)
    for split, examples_per_puzzle in (("train", [2, 1, 3]), ("test", [1, 2])):
        n = sum(examples_per_puzzle)
        inputs = rng.integers(0, vocab, size=(n, seq_len))
        labels = rng.integers(0, vocab, size=(n, seq_len))
        labels[:, 0] = 0  # PAD positions, ignored in the official format
        arrays = {
            "inputs": inputs.astype(np.int32),
            "labels": labels.astype(np.int32),
            "puzzle_identifiers": np.arange(1, len(examples_per_puzzle) + 1, dtype=np.int32),
            "puzzle_indices": np.concatenate([[0], np.cumsum(examples_per_puzzle)]).astype(
                np.int32
            ),
            "group_indices": np.array([0, len(examples_per_puzzle)], dtype=np.int32),  # one group
        }
        for key, arr in arrays.items():
            np.save(root / split / f"all__{key}.npy", arr)
        meta = {
            "pad_id": 0,
            "ignore_label_id": ignore,
            "blank_identifier_id": 0,
            "vocab_size": vocab,
            "seq_len": seq_len,
            "num_puzzle_identifiers": 4,
            "total_groups": 1,
            "mean_puzzle_examples": n / len(examples_per_puzzle),
            "sets": ["all"],
        }
        (root / split / "dataset.json").write_text(json.dumps(meta))
    return root


def test_reads_official_folder_with_several_examples_per_puzzle(tmp_path):
    root = official_folder(tmp_path / "arc-like")
    raw_labels = np.load(root / "train" / "all__labels.npy")
    data = read_dataset(root)
    assert len(data.train) == 6 and len(data.test) == 3
    np.testing.assert_array_equal(data.train.puzzle_identifiers, [1, 1, 2, 3, 3, 3])
    np.testing.assert_array_equal(data.test.puzzle_identifiers, [1, 2, 2])
    np.testing.assert_array_equal(data.train.inputs, np.load(root / "train" / "all__inputs.npy"))
    assert (data.train.labels[raw_labels == 0] == IGNORE).all()  # ignore_label_id 0 → -100
    np.testing.assert_array_equal(data.train.labels[raw_labels != 0], raw_labels[raw_labels != 0])
    assert data.train.patterns.tolist() == ["all"] * 6
    info = data.info
    assert info.task == "arc-like" and info.pattern_names == ["all"]
    assert info.identifier_names == ["<blank>", "p1", "p2", "p3"]
    assert info.grid_shape == (3, 3) and info.display == "colour" and info.ceiling is None
    assert info.vocab_labels == ["PAD", "EOS"] + [str(c) for c in range(10)]


def test_infers_a_flat_grid_when_seq_len_is_not_square(tmp_path):
    data = read_dataset(official_folder(tmp_path / "ds", seq_len=10, vocab=11))
    assert data.info.grid_shape == (1, 10)
    assert data.info.vocab_labels[:2] == ["PAD", "_"] and data.info.display == "sudoku"


def test_ignore_label_minus_100_keeps_zero_labels(tmp_path):
    root = official_folder(tmp_path / "ds", ignore=-100)
    data = read_dataset(root)
    np.testing.assert_array_equal(data.train.labels, np.load(root / "train" / "all__labels.npy"))


# --------------------------------------------------------------------- bad inputs


def edit_json(path, change):
    value = json.loads(path.read_text())
    change(value)
    path.write_text(json.dumps(value))


def save(path, arr):
    np.save(path, arr)


BAD_CASES = {
    "missing identifiers": (lambda r: (r / "identifiers.json").unlink(), "identifiers.json"),
    "missing dataset.json": (lambda r: (r / "train" / "dataset.json").unlink(), "dataset.json"),
    "malformed dataset.json": (
        lambda r: (r / "test" / "dataset.json").write_text("{not json"),
        "test/dataset.json",
    ),
    "missing key": (
        lambda r: edit_json(r / "train" / "dataset.json", lambda m: m.pop("seq_len")),
        "dataset.json.*seq_len",
    ),
    "bad key type": (
        lambda r: edit_json(r / "train" / "dataset.json", lambda m: m.update(vocab_size="12")),
        "dataset.json.*vocab_size",
    ),
    "missing npy": (lambda r: (r / "train" / "all__labels.npy").unlink(), "all__labels.npy"),
    "float inputs": (
        lambda r: save(r / "train" / "all__inputs.npy", np.zeros((6, 9), np.float32)),
        "all__inputs.npy.*integers",
    ),
    "pickled objects": (
        lambda r: np.save(
            r / "train" / "all__inputs.npy", np.array([{"a": 1}] * 6), allow_pickle=True
        ),
        "all__inputs.npy",
    ),
    "not an npy": (
        lambda r: (r / "train" / "all__inputs.npy").write_bytes(b"garbage"),
        "all__inputs.npy",
    ),
    "labels shorter": (
        lambda r: save(r / "train" / "all__labels.npy", np.zeros((5, 9), np.int32)),
        "all__labels.npy",
    ),
    "wrong seq_len": (
        lambda r: save(r / "train" / "all__inputs.npy", np.zeros((6, 8), np.int32)),
        "all__inputs.npy.*seq_len",
    ),
    "puzzle indices short": (
        lambda r: save(r / "train" / "all__puzzle_indices.npy", np.array([0, 2, 6], np.int32)),
        "all__puzzle_indices.npy",
    ),
    "puzzle indices wrong end": (
        lambda r: save(r / "train" / "all__puzzle_indices.npy", np.array([0, 2, 3, 5], np.int32)),
        "all__puzzle_indices.npy",
    ),
    "group indices wrong": (
        lambda r: save(r / "test" / "all__group_indices.npy", np.array([0, 5], np.int32)),
        "test/all__group_indices.npy",
    ),
    "token out of vocab": (
        lambda r: save(r / "train" / "all__inputs.npy", np.full((6, 9), 12, np.int32)),
        "all__inputs.npy.*token 12",
    ),
    "label out of vocab": (
        lambda r: save(r / "test" / "all__labels.npy", np.full((3, 9), 40, np.int32)),
        "test/all__labels.npy.*40",
    ),
    "identifier too big": (
        lambda r: save(r / "train" / "all__puzzle_identifiers.npy", np.array([1, 2, 4], np.int32)),
        "all__puzzle_identifiers.npy.*identifier 4",
    ),
    "splits disagree": (
        lambda r: edit_json(r / "test" / "dataset.json", lambda m: m.update(seq_len=10)),
        "test/dataset.json.*seq_len",
    ),
    "identifiers.json too short": (
        lambda r: (r / "identifiers.json").write_text('["<blank>"]'),
        "identifiers.json",
    ),
    "set name escapes folder": (
        lambda r: edit_json(r / "train" / "dataset.json", lambda m: m.update(sets=["../x"])),
        "dataset.json",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_raises_dataset_error_naming_the_file(tmp_path, case):
    root = official_folder(tmp_path / "ds")
    read_dataset(root)  # fine before the damage
    damage, message = BAD_CASES[case]
    damage(root)
    with pytest.raises(DatasetError, match=message):
        read_dataset(root)


def test_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="nowhere.*does not exist"):
        read_dataset(tmp_path / "nowhere")


def test_studio_task_json_must_match_the_folder(tmp_path):
    root = tmp_path / "ds"
    write_dataset(root, make_task(TaskOptions("copy", 4, 2)))
    edit_json(root / "studio_task.json", lambda d: d.update(seq_len=900))
    with pytest.raises(DatasetError, match="studio_task.json.*seq_len"):
        read_dataset(root)
    edit_json(root / "studio_task.json", lambda d: d.pop("vocab_labels"))
    with pytest.raises(DatasetError, match="studio_task.json.*vocab_labels"):
        read_dataset(root)
    (root / "studio_task.json").write_text("[")
    with pytest.raises(DatasetError, match="studio_task.json"):
        read_dataset(root)
    (root / "studio_task.json").unlink()  # optional: inferred instead
    assert read_dataset(root).info.task == "ds"


def test_write_to_an_unwritable_place_is_a_dataset_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DatasetError, match="file"):
        write_dataset(blocker / "ds", make_task(TaskOptions("copy", 4, 2)))
