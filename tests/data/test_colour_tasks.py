"""copy, increment, copy-increment, flip, rotate, recolor: labels are the right function of the inputs."""

import numpy as np
import pytest

from hrm_studio.data import TaskOptions, make_task
from hrm_studio.data.grid import EOS, IGNORE, decode_sequence
from hrm_studio.data.tasks.geometry import rotate_clockwise
from hrm_studio.data.tasks.recolor import recolor_permutation

COLOUR_TASKS = ["copy", "increment", "copy-increment", "flip", "rotate", "recolor"]


def grids(puzzles, side=5):
    """Inputs and labels of a tight-encoded split as [N, side, side] grids (frame dropped)."""
    shape = (side + 1, side + 1)
    ins = np.stack([decode_sequence(s, shape)[:side, :side] for s in puzzles.inputs])
    outs = np.stack([decode_sequence(s, shape)[:side, :side] for s in puzzles.labels])
    return ins, outs


@pytest.mark.parametrize("task", COLOUR_TASKS)
def test_shapes_dtypes_vocab_and_frame(task):
    data = make_task(TaskOptions(task, 60, 20, seed=3))
    info = data.info
    assert (info.vocab_size, info.seq_len, info.grid_shape, info.display) == (
        12,
        36,
        (6, 6),
        "colour",
    )
    assert info.vocab_labels == ["PAD", "EOS"] + [str(c) for c in range(10)]
    for split, n in ((data.train, 60), (data.test, 20)):
        assert split.inputs.shape == split.labels.shape == (n, 36)
        assert (
            split.inputs.dtype == split.labels.dtype == split.puzzle_identifiers.dtype == np.int32
        )
        assert split.puzzle_identifiers.shape == split.patterns.shape == (n,)
        blocks = split.inputs.reshape(n, 6, 6)
        assert (blocks[:, 5, :] == EOS).all() and (blocks[:, :, 5] == EOS).all()
        assert ((blocks[:, :5, :5] >= 2) & (blocks[:, :5, :5] <= 11)).all()
        label_blocks = split.labels.reshape(n, 6, 6)
        assert (label_blocks[:, 5, :] == EOS).all()  # the frame is scored, nothing ignored
        assert not (split.labels == IGNORE).any()
        split.validate(info.vocab_size, info.num_puzzle_identifiers)
    assert set(data.train.patterns) <= set(info.pattern_names)


def test_copy_labels_equal_inputs_and_use_all_ten_colours():
    data = make_task(TaskOptions("copy", 200, 10))
    np.testing.assert_array_equal(data.train.labels, data.train.inputs)
    ins, _ = grids(data.train)
    assert set(np.unique(ins)) == set(range(2, 12))


def test_increment_adds_one_on_cells_and_never_wraps():
    data = make_task(TaskOptions("increment", 200, 10))
    ins, outs = grids(data.train)
    assert ins.max() <= 10 and ins.min() == 2  # inputs use colours 0-8 only
    np.testing.assert_array_equal(outs, ins + 1)


def test_copy_increment_tags_each_pattern_and_gives_it_its_own_identifier():
    data = make_task(TaskOptions("copy-increment", 100, 40))
    info = data.info
    assert info.identifier_names == ["<blank>", "copy", "increment"]
    assert info.num_puzzle_identifiers == 3 and info.ceiling == 1.0
    for split in (data.train, data.test):
        ins, outs = grids(split)
        copy = split.patterns == "copy"
        inc = split.patterns == "increment"
        assert copy.sum() == inc.sum() == len(split) // 2  # 50/50 by default
        np.testing.assert_array_equal(outs[copy], ins[copy])
        np.testing.assert_array_equal(outs[inc], ins[inc] + 1)
        assert (split.puzzle_identifiers[copy] == 1).all()
        assert (split.puzzle_identifiers[inc] == 2).all()


def test_shared_identifier_puts_everything_on_identifier_one_with_the_seed_ceiling():
    data = make_task(TaskOptions("copy-increment", 100, 20, shared_identifier=True))
    info = data.info
    assert info.num_puzzle_identifiers == 2 and info.identifier_names[0] == "<blank>"
    assert (data.train.puzzle_identifiers == 1).all() and (data.test.puzzle_identifiers == 1).all()
    assert info.ceiling == pytest.approx(1 - 0.5 * 0.9**25)
    assert info.ceiling == pytest.approx(0.964, abs=5e-4)
    mixed = make_task(
        TaskOptions(
            "copy-increment",
            100,
            20,
            shared_identifier=True,
            pattern_mix={"copy": 4, "increment": 1},
        )
    )
    assert mixed.info.ceiling == pytest.approx(1 - min(0.2, 0.8 * 0.9**25))
    small = make_task(TaskOptions("copy-increment", 10, 2, grid_size=2, shared_identifier=True))
    assert small.info.ceiling == pytest.approx(1 - 0.5 * 0.9**4)
    # few increment puzzles: always answering "copy" on ambiguous inputs loses only those
    rare = make_task(
        TaskOptions(
            "copy-increment",
            10,
            10,
            grid_size=2,
            shared_identifier=True,
            pattern_mix={"copy": 9, "increment": 1},
        )
    )
    assert rare.info.ceiling == pytest.approx(0.9)


def test_flip_mirrors_left_to_right():
    data = make_task(TaskOptions("flip", 50, 10))
    ins, outs = grids(data.train)
    np.testing.assert_array_equal(outs, ins[:, :, ::-1])


def test_rotate_turns_clockwise():
    grid = np.array([[[2, 3], [4, 5]]])  # a b / c d → c a / d b
    np.testing.assert_array_equal(rotate_clockwise(grid), [[[4, 2], [5, 3]]])
    data = make_task(TaskOptions("rotate", 50, 10, grid_size=4))
    ins, outs = grids(data.train, side=4)
    for i, o in zip(ins, outs):
        np.testing.assert_array_equal(o[0, :], i[::-1, 0])  # top row = left column, bottom up
    np.testing.assert_array_equal(outs, np.rot90(ins, k=-1, axes=(1, 2)))


def test_recolor_uses_one_fixed_derangement_chosen_by_the_seed():
    data = make_task(TaskOptions("recolor", 100, 10, seed=5))
    ins, outs = grids(data.train)
    mapping = {}
    for a, b in zip(ins.reshape(-1), outs.reshape(-1)):
        assert mapping.setdefault(int(a), int(b)) == int(b)  # one colour → always the same colour
    assert sorted(mapping) == sorted(mapping.values()) == list(range(2, 12))  # a permutation
    assert all(a != b for a, b in mapping.items())  # every colour moves
    perm = recolor_permutation(5)
    assert all(perm[a] == b for a, b in mapping.items())
    np.testing.assert_array_equal(recolor_permutation(5), perm)
    assert any(not np.array_equal(recolor_permutation(s), perm) for s in range(6, 9))
