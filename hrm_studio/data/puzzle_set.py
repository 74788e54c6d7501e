"""PuzzleSet: the examples of one split, as plain numpy arrays.

One row per example. The official format groups examples into puzzles and groups;
HRM Studio flattens that on read (every example carries its puzzle's identifier)
because training and the viewer work example by example.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from hrm_studio.data.grid import IGNORE
from hrm_studio.errors import ConfigError, DatasetError


@dataclass(eq=False)
class PuzzleSet:
    """Inputs, labels, puzzle identifiers and pattern tags of N examples.

    inputs:             int32 [N, seq_len] token ids
    labels:             int32 [N, seq_len] token ids, IGNORE (-100) = not scored
    puzzle_identifiers: int32 [N] row of the puzzle embedding for each example
    patterns:           str   [N] pattern name (per-pattern metrics, viewer filters)
    """

    inputs: np.ndarray
    labels: np.ndarray
    puzzle_identifiers: np.ndarray
    patterns: np.ndarray

    @classmethod
    def empty(cls, seq_len: int) -> PuzzleSet:
        """A split with no examples (e.g. test_size 0) that still knows its width."""
        return cls(
            inputs=np.zeros((0, seq_len), np.int32),
            labels=np.zeros((0, seq_len), np.int32),
            puzzle_identifiers=np.zeros(0, np.int32),
            patterns=np.zeros(0, dtype=str),
        )

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def seq_len(self) -> int:
        return int(self.inputs.shape[1])

    @property
    def pattern_names(self) -> list[str]:
        """Distinct pattern names, in the order they first appear."""
        return list(dict.fromkeys(self.patterns.tolist()))

    def subset(self, indices: Sequence[int] | np.ndarray) -> PuzzleSet:
        """The examples at ``indices`` (copies, so the result can be changed freely)."""
        idx = np.asarray(indices, dtype=np.intp)
        return PuzzleSet(
            inputs=self.inputs[idx].copy(),
            labels=self.labels[idx].copy(),
            puzzle_identifiers=self.puzzle_identifiers[idx].copy(),
            patterns=self.patterns[idx].copy(),
        )

    def batches(
        self, batch_size: int, rng: np.random.Generator | None = None
    ) -> Iterator[np.ndarray]:
        """Index arrays covering every example once; shuffled when ``rng`` is given.

        The last batch may be shorter: every real puzzle counts, no padding rows.
        """
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, not {batch_size}.")
        order = rng.permutation(len(self)) if rng is not None else np.arange(len(self))
        for start in range(0, len(self), batch_size):
            yield order[start : start + batch_size]

    def validate(self, vocab_size: int, num_identifiers: int, source: str = "puzzle set") -> None:
        """Raise DatasetError if shapes, dtypes or value ranges do not fit the model.

        ``source`` names the file or split in the message so the user knows where to look.
        """
        arrays = {
            "inputs": self.inputs,
            "labels": self.labels,
            "puzzle_identifiers": self.puzzle_identifiers,
        }
        for name, arr in arrays.items():
            if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "iu":
                kind = getattr(arr, "dtype", type(arr).__name__)
                raise DatasetError(f"{source}: {name} must hold integers, not {kind}.")
        if self.inputs.ndim != 2:
            raise DatasetError(
                f"{source}: inputs must be a 2-D [examples, seq_len] array, "
                f"not shape {self.inputs.shape}."
            )
        n = self.inputs.shape[0]
        if self.labels.shape != self.inputs.shape:
            raise DatasetError(
                f"{source}: labels have shape {self.labels.shape} but inputs have "
                f"{self.inputs.shape}; they must match."
            )
        if self.puzzle_identifiers.shape != (n,):
            raise DatasetError(
                f"{source}: puzzle_identifiers have shape {self.puzzle_identifiers.shape} "
                f"but there are {n} examples; give one identifier per example."
            )
        if np.shape(self.patterns) != (n,):
            raise DatasetError(
                f"{source}: patterns have shape {np.shape(self.patterns)} "
                f"but there are {n} examples; give one pattern name per example."
            )
        if n == 0:
            return
        bad = (self.inputs < 0) | (self.inputs >= vocab_size)
        if bad.any():
            value = int(self.inputs[bad][0])
            raise DatasetError(
                f"{source}: inputs hold token {value}, outside the vocabulary "
                f"0..{vocab_size - 1}; fix the file or raise vocab_size."
            )
        bad = ((self.labels < 0) | (self.labels >= vocab_size)) & (self.labels != IGNORE)
        if bad.any():
            value = int(self.labels[bad][0])
            raise DatasetError(
                f"{source}: labels hold token {value}, outside the vocabulary "
                f"0..{vocab_size - 1} (and not the ignore label {IGNORE})."
            )
        ids = self.puzzle_identifiers
        bad = (ids < 0) | (ids >= num_identifiers)
        if bad.any():
            value = int(ids[bad][0])
            raise DatasetError(
                f"{source}: puzzle identifier {value} is outside 0..{num_identifiers - 1}; "
                f"num_puzzle_identifiers must exceed every identifier."
            )
