"""ARC augmentations: dihedral transforms and their inverses, colour maps, invertible names."""

from __future__ import annotations

import numpy as np
import pytest

from hrm_studio.data.arc import Augmentation, dihedral, inverse_dihedral, parse_puzzle_name, undo_augmentation
from hrm_studio.errors import UserError

GRID = np.arange(6, dtype=np.uint8).reshape(2, 3)  # not square, so every transform differs


def test_the_eight_dihedral_transforms_are_upstreams_and_distinct() -> None:
    expected = [GRID, np.rot90(GRID, 1), np.rot90(GRID, 2), np.rot90(GRID, 3), np.fliplr(GRID),
                np.flipud(GRID), GRID.T, np.fliplr(np.rot90(GRID, 1))]
    for k, want in enumerate(expected):
        assert np.array_equal(dihedral(GRID, k), want), k
    assert len({dihedral(GRID, k).tobytes() + bytes(dihedral(GRID, k).shape) for k in range(8)}) == 8


@pytest.mark.parametrize("k", range(8))
def test_inverse_dihedral_undoes_each_transform(k: int) -> None:
    assert np.array_equal(inverse_dihedral(dihedral(GRID, k), k), GRID)


def test_a_name_round_trips_and_undoes_the_augmentation() -> None:
    aug = Augmentation(7, (0, 3, 1, 2, 9, 8, 7, 6, 5, 4))
    name = aug.name("00576224")
    assert name == "00576224_t7_0312987654"
    task, parsed = parse_puzzle_name(name)
    assert task == "00576224" and parsed == aug
    moved = aug.apply(GRID)
    assert moved.shape == (3, 2) and not np.array_equal(moved, GRID.T)
    back_task, back = undo_augmentation(name, moved.astype(np.int64))
    assert back_task == "00576224" and back.dtype == np.int64 and np.array_equal(back, GRID)


def test_the_identity_is_named_by_the_task_id_alone() -> None:
    assert Augmentation().name("007bbfb7") == "007bbfb7"
    task, aug = parse_puzzle_name("007bbfb7")
    assert task == "007bbfb7" and aug.is_identity


@pytest.mark.parametrize("name", ["a_b", "abc_t8_0123456789", "abc_t1_0123456788", "abc_t1_012345678", ""])
def test_names_that_are_not_arc_puzzle_names_are_refused(name: str) -> None:
    with pytest.raises(UserError, match="not an ARC task id or an augmentation name"):
        parse_puzzle_name(name)
