"""make_task across every task: determinism, held-out puzzles unseen, mix, noise, options."""

import json
import time

import numpy as np
import pytest

from hrm_studio.data import TASKS, TaskInfo, TaskOptions, make_task
from hrm_studio.data.grid import EOS, IGNORE
from hrm_studio.errors import ConfigError

SMALL = {name: (40, 10) for name in TASKS}
SMALL["sudoku-9x9"] = (8, 4)
SMALL["sudoku-9x9-hard"] = (1, 1)  # ~0.1 s a minimal puzzle
SMALL["maze-hard"] = (4, 2)


def options(task, seed=0, **kw):
    train, test = SMALL[task]
    return TaskOptions(task, train, test, seed=seed, **kw)


def same(a, b):
    return all(
        np.array_equal(getattr(a, k), getattr(b, k))
        for k in ("inputs", "labels", "puzzle_identifiers", "patterns")
    )


def test_every_task_is_registered_with_its_description():
    assert set(TASKS) == {
        "copy",
        "increment",
        "copy-increment",
        "flip",
        "rotate",
        "recolor",
        "sudoku-4x4",
        "sudoku-9x9",
        "sudoku-9x9-hard",
        "maze",
        "maze-hard",
    }
    for name, spec in TASKS.items():
        assert spec.name == name and spec.description and spec.pattern_names
        assert spec.display in ("colour", "sudoku", "maze")
        assert spec.default_grid_size in spec.grid_sizes
    assert TASKS["copy-increment"].pattern_names == ("copy", "increment")
    assert TASKS["sudoku-4x4"].default_blanks == 8 and TASKS["sudoku-9x9"].default_blanks == 40
    assert TASKS["maze"].default_grid_size == 9 and TASKS["copy"].default_grid_size == 5


@pytest.mark.parametrize("task", sorted(TASKS))
def test_same_seed_same_data_other_seed_other_data(task):
    a, b, c = make_task(options(task)), make_task(options(task)), make_task(options(task, seed=1))
    assert same(a.train, b.train) and same(a.test, b.test)
    assert a.info == b.info
    assert not np.array_equal(a.train.inputs, c.train.inputs)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_held_out_inputs_are_unseen_and_distinct(task):
    data = make_task(options(task))
    train = {row.tobytes() for row in data.train.inputs}
    test = {row.tobytes() for row in data.test.inputs}
    assert len(train) == len(data.train) and len(test) == len(data.test)
    assert not train & test


@pytest.mark.parametrize("task", sorted(TASKS))
def test_info_fits_the_arrays_and_survives_json(task):
    data = make_task(options(task))
    info = data.info
    assert info.grid_shape[0] * info.grid_shape[1] == info.seq_len == data.train.seq_len
    assert len(info.vocab_labels) == info.vocab_size
    assert len(info.identifier_names) == info.num_puzzle_identifiers
    assert info.identifier_names[0] == "<blank>"
    data.train.validate(info.vocab_size, info.num_puzzle_identifiers)
    data.test.validate(info.vocab_size, info.num_puzzle_identifiers)
    assert set(data.train.pattern_names) <= set(info.pattern_names)
    again = TaskInfo.from_dict(json.loads(json.dumps(info.to_dict())))
    assert again == info


def test_examples_are_grouped_by_pattern():
    data = make_task(TaskOptions("copy-increment", 20, 6))
    assert data.train.patterns.tolist() == ["copy"] * 10 + ["increment"] * 10


def test_pattern_mix_sets_exact_shares():
    data = make_task(
        TaskOptions("copy-increment", 100, 40, pattern_mix={"copy": 3, "increment": 1})
    )
    assert (data.train.patterns == "copy").sum() == 75
    assert (data.test.patterns == "copy").sum() == 30
    only = make_task(TaskOptions("copy-increment", 30, 5, pattern_mix={"copy": 1.0}))
    assert set(only.train.patterns) == set(only.test.patterns) == {"copy"}
    assert only.info.pattern_names == ["copy"]
    odd = make_task(TaskOptions("copy-increment", 7, 3))
    assert sorted(np.unique(odd.train.patterns, return_counts=True)[1]) == [3, 4]


def test_label_noise_changes_only_training_labels_on_grid_cells():
    clean = make_task(TaskOptions("copy-increment", 200, 50, seed=7))
    noisy = make_task(TaskOptions("copy-increment", 200, 50, seed=7, label_noise=0.1))
    assert same(clean.test, noisy.test)
    np.testing.assert_array_equal(clean.train.inputs, noisy.train.inputs)
    changed = clean.train.labels != noisy.train.labels
    cells = int(((clean.train.labels >= 2) & (clean.train.labels <= 11)).sum())
    assert changed.sum() == round(0.1 * cells)
    assert ((noisy.train.labels[changed] >= 2) & (noisy.train.labels[changed] <= 11)).all()
    assert not ((clean.train.labels == EOS) & changed).any()


def test_label_noise_on_canvas_and_sudoku_stays_in_range():
    canvas = make_task(TaskOptions("copy", 50, 5, encoding="canvas", label_noise=0.2))
    assert ((canvas.train.labels == IGNORE) == (canvas.train.inputs == 0)).all()
    sudoku = make_task(TaskOptions("sudoku-4x4", 50, 5, label_noise=0.3))
    assert ((sudoku.train.labels >= 2) & (sudoku.train.labels <= 5)).all()
    clean = make_task(TaskOptions("sudoku-4x4", 50, 5))
    assert (clean.train.labels != sudoku.train.labels).sum() == round(0.3 * 50 * 16)


def test_tight_and_canvas_encodings():
    tight = make_task(TaskOptions("copy-increment", 20, 5))
    canvas = make_task(TaskOptions("copy-increment", 20, 5, encoding="canvas"))
    assert tight.info.seq_len == 36 and canvas.info.seq_len == 900
    assert canvas.info.grid_shape == (30, 30)
    block = canvas.train.inputs.reshape(20, 30, 30)
    np.testing.assert_array_equal(block[:, :6, :6].reshape(20, 36), tight.train.inputs)
    assert (canvas.train.labels[canvas.train.inputs == 0] == IGNORE).all()
    assert (canvas.train.labels == IGNORE).sum() == 20 * (900 - 36)
    small = make_task(TaskOptions("copy", 5, 1, encoding="canvas", canvas_size=8, grid_size=7))
    assert small.info.seq_len == 64


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(task="nope"), "Unknown task 'nope'.*copy-increment"),
        (dict(train_size=0), "train_size"),
        (dict(test_size=-1), "test_size"),
        (dict(train_size=2.5), "train_size"),
        (dict(seed=-1), "seed"),
        (dict(encoding="wide"), "encoding"),
        (dict(grid_size=31), "grid_size"),
        (dict(grid_size=30, encoding="canvas"), "canvas_size"),
        (dict(grid_size=8, encoding="canvas", canvas_size=8), "canvas_size"),
        (dict(pattern_mix={"bogus": 1}), "bogus"),
        (dict(pattern_mix={"copy": -1}), "pattern_mix"),
        (dict(pattern_mix={"copy": 0, "increment": 0}), "pattern_mix"),
        (dict(label_noise=1.0), "label_noise"),
        (dict(label_noise=-0.1), "label_noise"),
        (dict(blanks=3), "blanks"),
        (dict(shared_identifier="yes"), "shared_identifier"),
    ],
)
def test_bad_options_raise_config_error_naming_the_field(kwargs, words):
    base = dict(task="copy-increment", train_size=10, test_size=2)
    base.update(kwargs)
    with pytest.raises(ConfigError, match=words):
        make_task(TaskOptions(**base))


def test_too_many_puzzles_for_the_task_says_how_many_it_can():
    with pytest.raises(ConfigError, match="only 10 distinct"):
        make_task(TaskOptions("copy", 10, 1, grid_size=1))
    data = make_task(TaskOptions("copy", 8, 2, grid_size=1))  # exactly all ten
    assert len({r.tobytes() for r in np.concatenate([data.train.inputs, data.test.inputs])}) == 10


def test_test_size_zero_gives_an_empty_held_out_split():
    data = make_task(TaskOptions("copy", 5, 0))
    assert len(data.test) == 0 and data.test.seq_len == 36


def best_time(fn, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def test_generation_is_fast():
    assert best_time(lambda: make_task(TaskOptions("copy-increment", 1000, 200))) < 0.5
    assert best_time(lambda: make_task(TaskOptions("sudoku-4x4", 2000, 200))) < 1.0
