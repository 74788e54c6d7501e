"""What a run costs: the memory estimate and its refusal, the time estimate, and how both are worded."""

from __future__ import annotations

import pytest

from hrm_studio.costs import (MEMORY_LIMIT_FRACTION, block_weights, check_memory, check_training_memory,
                              estimate_seconds, estimate_training_memory, format_bytes, format_duration,
                              positions, swiglu_width)
from hrm_studio.errors import ConfigError
from hrm_studio.training.data_source import DataShape, generated_shape
from tests.reliability.helpers import tiny


# ----- memory ------------------------------------------------------------------------------------
def test_the_memory_estimate_grows_with_what_drives_it():
    shape = DataShape(seq_len=16, vocab_size=12, num_puzzle_identifiers=3, train_size=48, test_size=12)

    def total(**overrides):
        config = tiny(1, **overrides)
        return estimate_training_memory(config, seq_len=shape.seq_len, vocab_size=shape.vocab_size,
                                        num_puzzle_identifiers=shape.num_puzzle_identifiers,
                                        train_size=shape.train_size, test_size=shape.test_size).total

    base = total()
    for name, value in (("batch_size", 64), ("hidden_size", 128), ("H_layers", 3), ("expansion", 16.0)):
        assert total(**{name: value}) > base, name
    # Cycles cost time, not memory: only the last L and H update keep activations (1-step gradient).
    assert total(H_cycles=8, L_cycles=8) == base


def test_the_memory_check_uses_the_available_memory_it_is_given():
    config = tiny(1)
    shape = generated_shape(config)
    estimate = estimate_training_memory(config, seq_len=shape.seq_len, vocab_size=shape.vocab_size,
                                        num_puzzle_identifiers=shape.num_puzzle_identifiers,
                                        train_size=shape.train_size, test_size=shape.test_size)
    check_memory(config, shape, available=int(estimate.total / MEMORY_LIMIT_FRACTION) + 1)
    with pytest.raises(ConfigError, match=r"needs about .* but only 100\.0 MB is available"):
        check_memory(config, shape, available=100 * 2**20)
    check_training_memory(estimate, available=estimate.total * 2)


def test_every_preset_fits_a_laptop_with_four_gigabytes_free():
    from hrm_studio.presets import PRESETS, preset_config

    for name in PRESETS:
        config = preset_config(name)
        check_memory(config, generated_shape(config), available=4 * 2**30)


def test_the_torch_free_swiglu_width_matches_the_model():
    from hrm_studio.model.layers import swiglu_intermediate_size

    for hidden in (8, 32, 64, 100, 512, 4096):
        for expansion in (0.5, 1.0, 2.0, 2.5, 4.0, 16.0):
            assert swiglu_width(hidden, expansion) == swiglu_intermediate_size(hidden, expansion)


def test_one_model_shape_serves_both_estimates():
    """A block's weights are what memory stores and what every token multiplies by."""
    from hrm_studio.model.layers import Attention, SwiGLU

    m = tiny(1, hidden_size=64, num_heads=4, expansion=4.0).model
    parts = [Attention(hidden_size=64, head_dim=16, num_heads=4), SwiGLU(hidden_size=64, expansion=4.0)]
    assert block_weights(m) == sum(p.numel() for part in parts for p in part.parameters())
    assert positions(m, 16) == 16 + 1  # puzzle_emb_ndim 32 takes one position of width 64


# ----- time --------------------------------------------------------------------------------------
def test_the_time_estimate_grows_with_the_work():
    def seconds(epochs=2, threads=1, **overrides):
        config = tiny(epochs, **overrides)
        return estimate_seconds(config, generated_shape(config), threads=threads)

    small = seconds()
    assert small > 0
    assert seconds(epochs=4) > small
    assert seconds(hidden_size=128) > small
    assert seconds(threads=2) < small


# ----- in words ----------------------------------------------------------------------------------
@pytest.mark.parametrize("count, text", [(512, "512 bytes"), (1536, "1.5 KB"), (100 * 2**20, "100.0 MB"),
                                         (3 * 2**40, "3.0 TB")])
def test_sizes_read_as_a_person_would_say_them(count, text):
    assert format_bytes(count) == text


@pytest.mark.parametrize("seconds, text", [(None, "unknown"), (3.21, "3.2 s"), (42.4, "42 s"), (90, "1.5 min"),
                                           (1200, "20 min"), (5400, "1.5 h")])
def test_durations_have_no_more_precision_than_an_estimate(seconds, text):
    assert format_duration(seconds) == text


# ----- per architecture --------------------------------------------------------------------------
def test_trm_costs_follow_its_one_network_and_its_gradient_through_a_whole_recursion():
    """TRM with two blocks stores what HRM with one H and one L block stores, at the same width, but
    runs 12 block passes a segment instead of 6 and back-propagates through 6 instead of 2."""
    shape = DataShape(seq_len=16, vocab_size=12, num_puzzle_identifiers=3, train_size=48, test_size=12)

    def memory(config):
        return estimate_training_memory(config, seq_len=shape.seq_len, vocab_size=shape.vocab_size,
                                        num_puzzle_identifiers=3, train_size=48, test_size=12)

    hrm = tiny(2, H_layers=1, L_layers=1, H_cycles=2, L_cycles=2)
    trm = tiny(2, arch="trm", L_layers=2, H_cycles=2, L_cycles=2, puzzle_emb_len=0)
    assert memory(trm).weights == memory(hrm).weights
    assert memory(trm).activations > memory(hrm).activations
    assert estimate_seconds(trm, shape, threads=1) > estimate_seconds(hrm, shape, threads=1)
    # TRM's latent updates keep activations (HRM's do not); H_layers is not TRM's at all.
    assert memory(tiny(2, arch="trm", L_layers=2, L_cycles=4, puzzle_emb_len=0)).activations > memory(trm).activations
    assert memory(tiny(2, arch="trm", L_layers=2, H_layers=5, L_cycles=2, puzzle_emb_len=0)) == memory(trm)
    assert positions(tiny(1, arch="trm", puzzle_emb_len=16).model, 16) == 32
    assert memory(tiny(2, arch="trm", L_layers=2, mlp_t=True, puzzle_emb_len=0)).attention == 0


@pytest.mark.parametrize("overrides", [{}, {"pos_encodings": "learned"}, {"arch": "trm", "L_layers": 2},
                                       {"arch": "trm", "mlp_t": True, "puzzle_emb_len": 3}])
def test_the_weights_the_memory_estimate_stores_are_the_built_models_parameters(overrides):
    from hrm_studio.data import TaskInfo
    from hrm_studio.model import count_parameters
    from hrm_studio.training.model_factory import build_head, model_config

    config = tiny(1, attention_kernel="torch", **overrides)
    info = TaskInfo(task="fake", vocab_size=12, seq_len=16, num_puzzle_identifiers=3, identifier_names=[],
                    pattern_names=[], grid_shape=(1, 16), vocab_labels=[], display="colour")
    model = build_head(config, model_config(config, info)).model
    estimate = estimate_training_memory(config, seq_len=16, vocab_size=12, num_puzzle_identifiers=3,
                                        train_size=1, test_size=1)
    assert estimate.weights == 5 * 4 * count_parameters(model)  # weight, gradient, two moments, temporaries
