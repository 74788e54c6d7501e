"""State-dict names and shapes (official-compatible), parameter counts, embeddings, dtypes."""

from __future__ import annotations

import math

import pytest
import torch

from hrm_studio.errors import ConfigError
from hrm_studio.model import HRM, HRMConfig, count_parameters
from .model_helpers import SEED_CONFIG, make_batch, tiny_config, tiny_model

SEED_STATE_DICT = {
    "inner.H_init": (64,),
    "inner.L_init": (64,),
    "inner.embed_tokens.embedding_weight": (12, 64),
    "inner.lm_head.weight": (12, 64),
    "inner.q_head.weight": (2, 64),
    "inner.q_head.bias": (2,),
    "inner.puzzle_emb.weights": (2, 32),
    "inner.H_level.layers.0.self_attn.qkv_proj.weight": (192, 64),
    "inner.H_level.layers.0.self_attn.o_proj.weight": (64, 64),
    "inner.H_level.layers.0.mlp.gate_up_proj.weight": (512, 64),
    "inner.H_level.layers.0.mlp.down_proj.weight": (64, 256),
    "inner.L_level.layers.0.self_attn.qkv_proj.weight": (192, 64),
    "inner.L_level.layers.0.self_attn.o_proj.weight": (64, 64),
    "inner.L_level.layers.0.mlp.gate_up_proj.weight": (512, 64),
    "inner.L_level.layers.0.mlp.down_proj.weight": (64, 256),
}

IMPROVED_CONFIG = dict(
    SEED_CONFIG, batch_size=4, puzzle_emb_ndim=64, H_cycles=3, L_cycles=3, H_layers=2, L_layers=2,
    hidden_size=128, num_heads=8, expansion=2.5, halt_max_steps=8, halt_exploration_prob=0.15,
)
ARC_CONFIG = dict(
    SEED_CONFIG, batch_size=768, puzzle_emb_ndim=512, num_puzzle_identifiers=1000, H_layers=4, L_layers=4,
    hidden_size=512, num_heads=8, expansion=4, halt_max_steps=16, forward_dtype="bfloat16",
)


def test_seed_config_state_dict_keys_and_shapes_match_the_official_model() -> None:
    model = HRM(HRMConfig(**SEED_CONFIG))
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == SEED_STATE_DICT


def test_state_dict_excludes_rope_caches_and_puzzle_locals() -> None:
    model = tiny_model()
    model.train()
    batch = make_batch(model.config)
    model(model.initial_carry(batch), batch)  # sets the puzzle embedding's locals
    keys = set(model.state_dict())
    assert not any("rotary" in k or "cos_cached" in k or "local" in k for k in keys)
    # ... and the puzzle embedding table is a buffer, not a parameter.
    assert "inner.puzzle_emb.weights" in keys
    assert "inner.puzzle_emb.weights" not in dict(model.named_parameters())


def test_state_dict_round_trips_strictly() -> None:
    a, b = tiny_model(seed=1), tiny_model(seed=2)
    b.load_state_dict(a.state_dict(), strict=True)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)


def test_learned_positions_add_embed_pos_and_drop_rope() -> None:
    config = tiny_config(pos_encodings="learned", puzzle_emb_ndim=20)  # 20 > hidden 16 -> 2 positions
    model = HRM(config)
    assert model.inner.puzzle_emb_len == 2
    sd = model.state_dict()
    assert tuple(sd["inner.embed_pos.embedding_weight"].shape) == (config.seq_len + 2, config.hidden_size)
    assert model.inner.rotary_emb is None
    assert "inner.embed_pos.embedding_weight" not in HRM(tiny_config()).state_dict()


def test_no_puzzle_embedding_when_ndim_is_zero() -> None:
    model = HRM(tiny_config(puzzle_emb_ndim=0))
    assert model.inner.puzzle_emb_len == 0 and model.puzzle_emb is None
    assert not any(k.startswith("inner.puzzle_emb") for k in model.state_dict())
    batch = make_batch(model.config)
    _, out = model(model.initial_carry(batch), batch)
    assert out["logits"].shape == (3, 8, 6)


@pytest.mark.parametrize(
    "config,expected",
    [(SEED_CONFIG, 132_738), (IMPROVED_CONFIG, 658_690)],
    ids=["seed", "seed-improved"],
)
def test_parameter_count(config: dict, expected: int) -> None:
    model = HRM(HRMConfig(**config))
    assert count_parameters(model) == expected
    ndim, ids = config["puzzle_emb_ndim"], config["num_puzzle_identifiers"]
    assert count_parameters(model, include_puzzle_embedding=True) == expected + ndim * ids


def test_parameter_count_official_arc_config_on_meta_device() -> None:
    with torch.device("meta"):
        model = HRM(HRMConfig(**ARC_CONFIG))
    assert model.inner.H_init.is_meta
    assert count_parameters(model) == 27_276_290


def test_initial_values_of_special_tensors() -> None:
    model = tiny_model()
    inner = model.inner
    assert torch.equal(inner.q_head.weight, torch.zeros_like(inner.q_head.weight))
    assert torch.equal(inner.q_head.bias, torch.tensor([-5.0, -5.0]))
    assert torch.equal(inner.puzzle_emb.weights, torch.zeros(4, 8))
    assert inner.H_init.shape == (16,) and not torch.equal(inner.H_init, inner.L_init)
    assert inner.H_init.abs().max() <= 2 * 1.1373 + 1e-5


def test_input_embedding_with_padded_puzzle_embedding_and_learned_positions() -> None:
    torch.manual_seed(0)
    config = tiny_config(pos_encodings="learned", puzzle_emb_ndim=20)
    inner = HRM(config).inner
    inner.eval()
    with torch.no_grad():
        inner.puzzle_emb.weights.normal_()
    batch = make_batch(config)
    with torch.no_grad():
        emb = inner.input_embeddings(batch["inputs"], batch["puzzle_identifiers"])
    hidden = config.hidden_size
    assert emb.shape == (3, config.seq_len + 2, hidden)
    puzzle = torch.zeros(3, 2 * hidden)
    puzzle[:, :20] = inner.puzzle_emb.weights[batch["puzzle_identifiers"]]  # zero-padded to 2*hidden
    tokens = inner.embed_tokens.embedding_weight[batch["inputs"]]
    raw = torch.cat((puzzle.view(3, 2, hidden), tokens), dim=1)
    expected = math.sqrt(hidden) * 0.707106781 * (raw + inner.embed_pos.embedding_weight)
    torch.testing.assert_close(emb, expected)


def test_rope_covers_puzzle_positions_too() -> None:
    model = HRM(tiny_config(puzzle_emb_ndim=40))  # 40 / 16 -> 3 puzzle positions
    assert model.inner.puzzle_emb_len == 3
    assert model.inner.rotary_emb.cos_cached.shape == (8 + 3, 8)


def test_bfloat16_forward_and_backward_run() -> None:
    from hrm_studio.model import ACTLossHead

    model = tiny_model(forward_dtype="bfloat16")
    assert model.inner.H_init.dtype == torch.bfloat16
    assert model.inner.lm_head.weight.dtype == torch.float32
    head = ACTLossHead(model, "stablemax_cross_entropy")
    head.train()
    batch = make_batch(model.config)
    result = head(head.initial_carry(batch), batch)
    assert result.outputs["logits"].dtype == torch.bfloat16
    assert result.outputs["q_halt_logits"].dtype == torch.float32
    assert result.carry.inner_carry.z_H.dtype == torch.bfloat16
    assert torch.isfinite(result.loss)
    result.loss.backward()
    grad = model.inner.L_level.layers[0].mlp.down_proj.weight.grad
    assert grad is not None and grad.dtype == torch.float32 and grad.abs().sum() > 0


@pytest.mark.parametrize(
    "overrides",
    [dict(pos_encodings="alibi"), dict(forward_dtype="float16"), dict(num_heads=3), dict(halt_max_steps=0)],
)
def test_invalid_configs_are_rejected(overrides: dict) -> None:
    with pytest.raises(ConfigError):
        tiny_config(**overrides)
