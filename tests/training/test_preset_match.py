"""Weights' shapes name the preset they were trained with, and the messages name both numbers and the fix."""

from __future__ import annotations

from hrm_studio.presets import preset_config
from hrm_studio.training.preset_match import fits_weights, identifier_words, matching_presets, preset_advice

# What checkpoint.shapes_from_weights reads from the seed's hrm_final_model.pth (one shared identifier + blank).
SEED_SHAPES = {"vocab_size": 12, "hidden_size": 64, "num_puzzle_identifiers": 2, "puzzle_emb_ndim": 32,
               "H_layers": 1, "L_layers": 1}


def test_the_seed_weights_match_the_seed_presets_and_not_the_defaults():
    assert matching_presets(SEED_SHAPES)[0] == "seed"
    assert "copy-increment" not in matching_presets(SEED_SHAPES)
    assert fits_weights(preset_config("seed"), SEED_SHAPES)
    assert not fits_weights(preset_config("copy-increment"), SEED_SHAPES)
    assert matching_presets({**SEED_SHAPES, "hidden_size": 65}) == []


def test_the_advice_names_the_preset_for_the_window_and_the_command_line():
    advice = preset_advice(SEED_SHAPES)
    assert "'seed' preset (Seed reproduction)" in advice and "--preset seed" in advice
    assert "--config" in preset_advice({**SEED_SHAPES, "hidden_size": 65})


def test_identifier_counts_are_said_in_words_that_cannot_read_as_a_contradiction():
    assert identifier_words(3, 2) == ("the puzzles use 3 puzzle identifiers (0 to 2) but the weights hold only 2 "
                                      "(0 to 1)")
