"""Grid ⇄ token sequence.

HRM reads a puzzle as one flat row-major sequence of token ids. Token 0 is PAD
(outside the puzzle, never scored), token 1 is EOS (the edge of an ARC grid), and
ARC colour c is token c + 2. Sudoku and maze grids carry their own tokens and no
EOS frame (``eos=False``).

Two layouts:

* ``"tight"``  – the grid plus, when ``eos``, an EOS row under it and an EOS column
  right of it (the corner too): a 5×5 grid becomes 6×6 = 36 tokens. Short sequences
  make small models learn much faster on a CPU.
* ``"canvas"`` – the same block placed at the top-left of a ``canvas_size`` ×
  ``canvas_size`` PAD canvas (900 tokens for 30), the official ARC / seed layout.

Note: the official ARC builder leaves the corner cell (under the EOS column, right
of the EOS row) as PAD; the seed and HRM Studio mark it EOS.
"""

from __future__ import annotations

import numpy as np

PAD = 0
EOS = 1
COLOUR_OFFSET = 2
IGNORE = -100

ENCODINGS = ("tight", "canvas")

# One short label per colour-task token id, for display.
COLOUR_VOCAB_LABELS: tuple[str, ...] = ("PAD", "EOS") + tuple(str(c) for c in range(10))


def encoded_shape(
    grid_shape: tuple[int, int], encoding: str, canvas_size: int = 30, eos: bool = True
) -> tuple[int, int]:
    """Rows and columns of the encoded 2-D block for a grid of ``grid_shape``."""
    rows, cols = grid_shape
    frame = 1 if eos else 0
    if encoding == "tight":
        return rows + frame, cols + frame
    if encoding == "canvas":
        if rows + frame > canvas_size or cols + frame > canvas_size:
            raise ValueError(
                f"a {rows}x{cols} grid{' with its EOS frame' if eos else ''} "
                f"does not fit a {canvas_size}x{canvas_size} canvas"
            )
        return canvas_size, canvas_size
    raise ValueError(f"unknown encoding {encoding!r}; use one of {ENCODINGS}")


def encode_grids(
    grids: np.ndarray, encoding: str, canvas_size: int = 30, eos: bool = True
) -> np.ndarray:
    """Encode a stack of same-shaped token grids [N, rows, cols] → int32 [N, seq_len]."""
    grids = np.asarray(grids)
    if grids.ndim != 3:
        raise ValueError(f"expected a stack of 2-D grids, got shape {grids.shape}")
    n, rows, cols = grids.shape
    out_rows, out_cols = encoded_shape((rows, cols), encoding, canvas_size, eos)
    out = np.full((n, out_rows, out_cols), PAD, dtype=np.int32)
    out[:, :rows, :cols] = grids
    if eos:
        out[:, rows, : cols + 1] = EOS
        out[:, : rows + 1, cols] = EOS
    return out.reshape(n, out_rows * out_cols)


def encode_grid(
    tokens_2d: np.ndarray, encoding: str, canvas_size: int = 30, eos: bool = True
) -> np.ndarray:
    """Encode one 2-D grid of token ids as a flat int32 sequence (see module docstring)."""
    tokens_2d = np.asarray(tokens_2d)
    if tokens_2d.ndim != 2:
        raise ValueError(f"expected a 2-D grid, got shape {tokens_2d.shape}")
    return encode_grids(tokens_2d[None], encoding, canvas_size, eos)[0]


def decode_sequence(seq: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Turn a flat sequence back into its 2-D (rows, cols) block for display."""
    seq = np.asarray(seq)
    rows, cols = shape
    if seq.ndim != 1 or seq.size != rows * cols:
        raise ValueError(f"a sequence of {seq.size} tokens cannot be shown as {rows}x{cols}")
    return seq.reshape(rows, cols)


def crop_to_content(block: np.ndarray) -> np.ndarray:
    """Drop the PAD canvas and EOS frame around a decoded grid (what a person wants to see).

    Works on inputs, outputs and labels alike: PAD, EOS and IGNORE count as "outside".
    """
    block = np.asarray(block)
    inside = (block != PAD) & (block != EOS) & (block != IGNORE)
    if not inside.any():
        return block[:0, :0]
    rows = np.flatnonzero(inside.any(axis=1))
    cols = np.flatnonzero(inside.any(axis=0))
    return block[: rows[-1] + 1, : cols[-1] + 1]


def make_labels(encoded_output: np.ndarray) -> np.ndarray:
    """Labels for an encoded output: the tokens themselves, PAD → IGNORE (not scored)."""
    labels = np.array(encoded_output, dtype=np.int32, copy=True)
    labels[labels == PAD] = IGNORE
    return labels
