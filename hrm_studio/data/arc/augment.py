"""ARC augmentations: a dihedral transform composed with a permutation of colours 1-9.

An augmentation is named ``{task}_t{k}_{p0…p9}`` — ``k`` the dihedral transform, ``p`` the
colour map written as 10 digits (``p[c]`` is the new colour of ``c``; ``p0`` is always 0,
black stays) — the name the official builder's notebook-compatible version uses, so the
official ``arc_eval.ipynb`` can invert it. The un-augmented puzzle is named plainly by its
task id (no ``_``), as upstream does.

Dihedral transforms k (as upstream ``dataset/common.py``): 0 identity, 1 rot90, 2 rot180,
3 rot270, 4 flip left-right, 5 flip up-down, 6 transpose, 7 anti-transpose. The inverse of 1
is 3 and of 3 is 1; the rest are their own inverse. Colour maps commute with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from hrm_studio.errors import DatasetError

DIHEDRAL_COUNT = 8
DIHEDRAL_INVERSE = (0, 3, 2, 1, 4, 5, 6, 7)
_IDENTITY_COLOURS = tuple(range(10))
_NAME = re.compile(r"^(?P<task>.+)_t(?P<k>[0-7])_(?P<perm>[0-9]{10})$")
# Dihedral transforms as views; equal to upstream's np.rot90 / fliplr / flipud / .T forms (tested).
_VIEWS = (
    lambda g: g,  # identity
    lambda g: g.T[::-1],  # rot90 (counter-clockwise)
    lambda g: g[::-1, ::-1],  # rot180
    lambda g: g.T[:, ::-1],  # rot270
    lambda g: g[:, ::-1],  # flip left-right
    lambda g: g[::-1],  # flip up-down
    lambda g: g.T,  # transpose
    lambda g: g[::-1, ::-1].T,  # anti-transpose
)


def dihedral(grid: np.ndarray, k: int) -> np.ndarray:
    """Dihedral transform ``k`` (0-7, see module docstring) of a 2-D grid, as a view (slices, not
    ``np.rot90``: the build calls this millions of times)."""
    if not 0 <= k < DIHEDRAL_COUNT:
        raise ValueError(f"dihedral transform {k} is not one of 0-7")
    return _VIEWS[k](np.asarray(grid))


def inverse_dihedral(grid: np.ndarray, k: int) -> np.ndarray:
    """Undo ``dihedral(·, k)``."""
    return dihedral(grid, DIHEDRAL_INVERSE[k])


@dataclass(frozen=True)
class Augmentation:
    """Dihedral transform ``k`` and colour map ``colours`` (``colours[c]`` = new colour of c)."""

    k: int = 0
    colours: tuple[int, ...] = _IDENTITY_COLOURS

    def __post_init__(self) -> None:
        if not 0 <= self.k < DIHEDRAL_COUNT:
            raise ValueError(f"dihedral transform {self.k} is not one of 0-7")
        if sorted(self.colours) != list(_IDENTITY_COLOURS):
            raise ValueError(f"colour map {self.colours} is not a permutation of 0-9")

    @property
    def is_identity(self) -> bool:
        return self.k == 0 and self.colours == _IDENTITY_COLOURS

    def name(self, task_id: str) -> str:
        """The puzzle name: the task id itself for the identity, else ``{task}_t{k}_{p0…p9}``."""
        if self.is_identity:
            return task_id
        return f"{task_id}_t{self.k}_{''.join(str(c) for c in self.colours)}"

    def apply(self, grid: np.ndarray) -> np.ndarray:
        """The augmented grid (colours 0-9 in, colours 0-9 out)."""
        return np.asarray(self.colours, dtype=np.uint8)[dihedral(grid, self.k)]

    def undo(self, grid: np.ndarray) -> np.ndarray:
        """Map an augmented-frame grid of colours back to the task's frame (same dtype)."""
        grid = np.asarray(grid)
        inverse = np.argsort(np.asarray(self.colours)).astype(grid.dtype)
        return np.ascontiguousarray(inverse[inverse_dihedral(grid, self.k)])


def parse_puzzle_name(name: str) -> tuple[str, Augmentation]:
    """``{task}_t{k}_{p0…p9}`` → (task, its augmentation); a name without ``_`` is un-augmented.

    DatasetError for any other name with ``_``: it is not an ARC build's puzzle name.
    """
    match = _NAME.match(name)
    if match is not None:
        colours = tuple(int(d) for d in match["perm"])
        if sorted(colours) == list(_IDENTITY_COLOURS):
            return match["task"], Augmentation(int(match["k"]), colours)
    elif "_" not in name and name:
        return name, Augmentation()
    raise DatasetError(
        f"The puzzle name {name!r} is not an ARC task id or an augmentation name "
        f"'{{task}}_t{{k}}_{{colours}}'; was this data set built from ARC tasks?"
    )


def undo_augmentation(name: str, grid: np.ndarray) -> tuple[str, np.ndarray]:
    """The task a puzzle name belongs to and ``grid`` mapped back to that task's frame."""
    task_id, aug = parse_puzzle_name(name)
    return task_id, aug.undo(grid)


def random_augmentation(rng: np.random.Generator) -> Augmentation:
    """A uniformly random dihedral transform and permutation of colours 1-9 (0 stays)."""
    k = int(rng.integers(DIHEDRAL_COUNT))
    colours = (0, *(int(c) for c in rng.permutation(9) + 1))
    return Augmentation(k, colours)
