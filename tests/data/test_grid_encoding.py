"""grid.py: tight and canvas encodings, EOS frame, labels."""

import numpy as np
import pytest

from hrm_studio.data.grid import (
    COLOUR_OFFSET,
    EOS,
    IGNORE,
    PAD,
    crop_to_content,
    decode_sequence,
    encode_grid,
    encode_grids,
    encoded_shape,
    make_labels,
)

GRID = np.arange(25).reshape(5, 5) % 10 + COLOUR_OFFSET  # colour tokens 2..11


def test_token_constants_match_the_official_arc_encoding():
    assert (PAD, EOS, COLOUR_OFFSET, IGNORE) == (0, 1, 2, -100)


def test_tight_5x5_is_6x6_with_eos_row_column_and_corner():
    seq = encode_grid(GRID, "tight")
    assert seq.dtype == np.int32 and seq.shape == (36,)
    block = decode_sequence(seq, (6, 6))
    np.testing.assert_array_equal(block[:5, :5], GRID)
    assert (block[5, :] == EOS).all()  # row under the grid, corner included
    assert (block[:, 5] == EOS).all()  # column right of the grid
    assert (seq == EOS).sum() == 11


def test_canvas_puts_the_tight_block_top_left_of_a_pad_canvas():
    seq = encode_grid(GRID, "canvas", canvas_size=30)
    assert seq.dtype == np.int32 and seq.shape == (900,)
    block = decode_sequence(seq, (30, 30))
    np.testing.assert_array_equal(
        block[:6, :6], decode_sequence(encode_grid(GRID, "tight"), (6, 6))
    )
    outside = np.ones((30, 30), bool)
    outside[:6, :6] = False
    assert (block[outside] == PAD).all()


def test_without_eos_tight_is_the_bare_grid_and_canvas_has_no_eos():
    sudoku = np.arange(16).reshape(4, 4) % 4 + 2
    np.testing.assert_array_equal(encode_grid(sudoku, "tight", eos=False), sudoku.reshape(-1))
    canvas = decode_sequence(encode_grid(sudoku, "canvas", canvas_size=8, eos=False), (8, 8))
    np.testing.assert_array_equal(canvas[:4, :4], sudoku)
    assert not (canvas == EOS).any()
    assert (canvas[4:, :] == PAD).all() and (canvas[:, 4:] == PAD).all()


def test_rectangular_grid_frame():
    grid = np.full((2, 3), 5)
    block = decode_sequence(encode_grid(grid, "tight"), (3, 4))
    assert (block[2, :] == EOS).all() and (block[:, 3] == EOS).all()
    assert (block[:2, :3] == 5).all()


def test_batch_encoding_equals_one_by_one():
    grids = np.random.default_rng(0).integers(2, 12, size=(7, 4, 4))
    for enc in ("tight", "canvas"):
        batch = encode_grids(grids, enc, canvas_size=10)
        for i in range(7):
            np.testing.assert_array_equal(batch[i], encode_grid(grids[i], enc, canvas_size=10))


def test_grid_too_big_for_canvas_is_refused():
    with pytest.raises(ValueError, match="canvas"):
        encode_grid(np.full((30, 30), 2), "canvas", canvas_size=30)  # 31 with its frame
    assert encoded_shape((30, 30), "canvas", 30, eos=False) == (30, 30)
    with pytest.raises(ValueError, match="encoding"):
        encode_grid(GRID, "wide")


def test_make_labels_ignores_pad_only():
    seq = encode_grid(GRID, "canvas")
    labels = make_labels(seq)
    assert labels.dtype == np.int32
    assert (labels[seq == PAD] == IGNORE).all()
    np.testing.assert_array_equal(labels[seq != PAD], seq[seq != PAD])  # EOS stays scored
    assert (seq != IGNORE).all()  # the input is not modified


def test_decode_rejects_wrong_size_and_crop_recovers_grid():
    with pytest.raises(ValueError):
        decode_sequence(np.zeros(36), (5, 5))
    block = decode_sequence(make_labels(encode_grid(GRID, "canvas")), (30, 30))
    np.testing.assert_array_equal(crop_to_content(block), GRID)
