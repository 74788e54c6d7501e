"""puzzle_set.py: subsets, batching and validation."""

import numpy as np
import pytest

from hrm_studio.data import PuzzleSet
from hrm_studio.errors import ConfigError, DatasetError


def make_set(n=10, seq_len=4, vocab=6):
    rng = np.random.default_rng(1)
    inputs = rng.integers(0, vocab, size=(n, seq_len)).astype(np.int32)
    labels = inputs.copy()
    labels[:, 0] = -100
    return PuzzleSet(
        inputs=inputs,
        labels=labels,
        puzzle_identifiers=(np.arange(n) % 2 + 1).astype(np.int32),
        patterns=np.array(["b" if i % 3 else "a" for i in range(n)]),
    )


def test_len_subset_and_pattern_names():
    s = make_set()
    assert len(s) == 10 and s.seq_len == 4
    assert s.pattern_names == ["a", "b"]  # first-seen order
    sub = s.subset([3, 1])
    np.testing.assert_array_equal(sub.inputs, s.inputs[[3, 1]])
    np.testing.assert_array_equal(sub.patterns, ["a", "b"])
    sub.inputs[0, 0] = 99
    assert s.inputs[3, 0] != 99  # a copy, not a view


def test_batches_cover_every_example_once_and_last_is_short():
    s = make_set(n=10)
    plain = list(s.batches(4))
    assert [len(b) for b in plain] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(plain), np.arange(10))
    shuffled = list(s.batches(4, rng=np.random.default_rng(0)))
    assert [len(b) for b in shuffled] == [4, 4, 2]
    order = np.concatenate(shuffled)
    assert sorted(order.tolist()) == list(range(10)) and order.tolist() != list(range(10))
    again = np.concatenate(list(s.batches(4, rng=np.random.default_rng(0))))
    np.testing.assert_array_equal(order, again)
    with pytest.raises(ConfigError, match="batch_size"):
        next(s.batches(0))


def test_empty_set():
    e = PuzzleSet.empty(36)
    assert len(e) == 0 and e.seq_len == 36 and list(e.batches(8)) == []
    e.validate(12, 2)


def test_validate_accepts_good_data():
    make_set().validate(vocab_size=6, num_identifiers=3)


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda s: setattr(s, "inputs", s.inputs.astype(np.float32)), "inputs"),
        (lambda s: s.inputs.__setitem__((0, 1), 6), "inputs"),
        (lambda s: s.inputs.__setitem__((0, 1), -1), "inputs"),
        (lambda s: s.labels.__setitem__((2, 2), 7), "labels"),
        (lambda s: s.labels.__setitem__((2, 2), -5), "labels"),
        (lambda s: setattr(s, "labels", s.labels[:, :3]), "labels"),
        (
            lambda s: setattr(s, "puzzle_identifiers", s.puzzle_identifiers[:9]),
            "puzzle_identifiers",
        ),
        (lambda s: s.puzzle_identifiers.__setitem__(4, 3), "identifier"),
        (lambda s: setattr(s, "patterns", s.patterns[:5]), "patterns"),
    ],
)
def test_validate_names_the_field_at_fault(change, field):
    s = make_set()
    change(s)
    with pytest.raises(DatasetError, match=field) as info:
        s.validate(vocab_size=6, num_identifiers=3, source="my.npy")
    assert "my.npy" in str(info.value)
