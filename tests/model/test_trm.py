"""TRM equals a reference written from the published update rule (trm-spec.md), with official keys.

The reference (trm_reference.py) is plain torch reading an upstream-style state dict, so every
comparison also checks that our parameters sit under the official names. Compared after every
segment of a training ACT loop (halting rows refilled, exploration on): logits, Q-values, the
Q-target, which rows halt, the loss and the gradient of every parameter and puzzle-embedding row.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict

import pytest
import torch

from hrm_studio.model import ACTLossHead, TRM, TRMConfig, count_parameters
from hrm_studio.training import checkpoint as ckpt

from . import trm_reference as ref

OFFICIAL_PREFIX = "_orig_mod.model."
SEGMENTS = 3

TINY = dict(batch_size=3, seq_len=10, vocab_size=7, num_puzzle_identifiers=5, puzzle_emb_ndim=16, H_cycles=2,
            L_cycles=2, L_layers=1, hidden_size=16, expansion=2.0, num_heads=2, pos_encodings="rope",
            halt_max_steps=3, halt_exploration_prob=0.5, forward_dtype="float32", puzzle_emb_len=2)

CASES = {
    "rope": dict(L_layers=2, H_cycles=3, loss="stablemax_cross_entropy"),
    "learned-ceil-prefix": dict(pos_encodings="learned", puzzle_emb_ndim=24, puzzle_emb_len=0,
                                loss="softmax_cross_entropy"),
    "none-no-puzzle-emb": dict(pos_encodings="none", puzzle_emb_ndim=0, loss="stablemax_cross_entropy"),
    "mlp_t-rope": dict(mlp_t=True, loss="stablemax_cross_entropy"),
    "mlp_t-learned": dict(mlp_t=True, pos_encodings="learned", loss="softmax_cross_entropy"),
    "q-target": dict(no_ACT_continue=False, loss="stablemax_cross_entropy"),
    "mlp_t-q-target": dict(mlp_t=True, no_ACT_continue=False, loss="softmax_cross_entropy"),
}


@pytest.fixture(autouse=True)
def _one_thread():
    """Tensors this small run fastest on one thread (several only wait on each other)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _config(**overrides: Any) -> TRMConfig:
    return TRMConfig(**{**TINY, **overrides})


def _model(config: TRMConfig, seed: int = 0) -> TRM:
    torch.manual_seed(seed)
    model = TRM(config)
    with torch.no_grad():  # Q-values of both signs, so some rows halt early and are refilled
        model.inner.q_head.weight.normal_(0.0, 0.3)
        model.inner.q_head.bias.zero_()
        if model.inner.puzzle_emb is not None:  # zero at init: give the prefix something to carry
            model.inner.puzzle_emb.weights.normal_()
    return model


def _batches(config: TRMConfig, count: int, seed: int = 1) -> list[Dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(count):
        labels = torch.randint(0, config.vocab_size, (config.batch_size, config.seq_len), generator=g)
        labels[:, -2:] = -100
        out.append({"inputs": torch.randint(0, config.vocab_size, (config.batch_size, config.seq_len), generator=g),
                    "labels": labels,
                    "puzzle_identifiers": torch.randint(0, config.num_puzzle_identifiers, (config.batch_size,),
                                                        generator=g, dtype=torch.int32)})
    return out


def _upstream_state_dict(model: TRM) -> Dict[str, torch.Tensor]:
    """Our weights in the layout of an upstream checkpoint file."""
    return {OFFICIAL_PREFIX + k: v.detach().clone() for k, v in model.state_dict().items()}


def _reference_params(upstream: Dict[str, torch.Tensor], trainable: set[str]) -> Dict[str, torch.Tensor]:
    return {k[len(OFFICIAL_PREFIX):]: v.clone().requires_grad_(k[len(OFFICIAL_PREFIX):] in trainable)
            for k, v in upstream.items()}


def _close(actual: torch.Tensor, expected: torch.Tensor, what: str) -> None:
    """Equal up to float32 rounding: our RoPE and RMS norm round differently from the textbook
    ones (measured: at most ~5e-5 over three segments; with both sides in float64 the two agree to
    1e-12), while a wrong formula moves these O(1) numbers by far more than 1e-4."""
    expected = expected.detach().to(actual.dtype)
    atol = 1e-4 * max(1.0, float(expected.abs().max()))
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=atol, msg=lambda m: f"{what}: {m}")


@pytest.mark.parametrize("case", list(CASES))
def test_training_segments_equal_the_reference(case):
    """Logits, Q-values, Q-target, halting, loss and every gradient, after each of several segments."""
    options = dict(CASES[case])
    loss_type = options.pop("loss")
    config = _config(**options)
    model = _model(config)
    head = ACTLossHead(model, loss_type).train()
    P = _reference_params(_upstream_state_dict(model), {n for n, _ in model.named_parameters()})
    batches = _batches(config, SEGMENTS)
    carry, state = head.initial_carry(batches[0]), ref.initial_state(batches[0], config)
    halted_early = 0
    for step, batch in enumerate(batches):
        torch.manual_seed(100 + step)
        result = head(carry, batch)
        result.loss.backward()
        torch.manual_seed(100 + step)
        state, expected = ref.act_step(P, state, batch, config, training=True)
        expected_loss = ref.loss(expected, state.data["labels"], loss_type)
        expected_loss.backward()
        where = f"{case}, segment {step + 1}"
        assert torch.equal(result.carry.halted, state.halted), where
        assert torch.equal(result.carry.steps, state.steps), where
        for key in ("logits", "q_halt_logits", "q_continue_logits", "target_q_continue"):
            assert (key in result.outputs) == (key in expected), f"{where}: {key}"
            if key in expected:
                _close(result.outputs[key], expected[key], f"{where}: {key}")
        _close(result.loss.detach(), expected_loss.detach(), f"{where}: loss")
        for name, param in model.named_parameters():
            _close(param.grad, P[name].grad, f"{where}: grad {name}")
            param.grad, P[name].grad = None, None
        if model.puzzle_emb is not None:
            _close(model.puzzle_emb.local_weights.grad, expected["puzzle_rows"].grad, f"{where}: puzzle grad")
        halted_early += int((state.halted & (state.steps < config.halt_max_steps)).sum())
        carry = result.carry
    assert halted_early > 0, "no row halted before halt_max_steps: the halting rule went untested"


@pytest.mark.parametrize("case", ["rope", "mlp_t-learned", "q-target"])
def test_evaluation_runs_every_segment_and_equals_the_reference(case):
    options = dict(CASES[case])
    options.pop("loss")
    config = _config(**options)
    model = _model(config).eval()
    P = _reference_params(_upstream_state_dict(model), set())
    batch = _batches(config, 1)[0]
    carry, state = model.initial_carry(batch), ref.initial_state(batch, config)
    with torch.no_grad():
        for step in range(config.halt_max_steps):
            carry, out = model(carry, batch)
            state, expected = ref.act_step(P, state, batch, config, training=False)
            assert "target_q_continue" not in out
            for key in ("logits", "q_halt_logits", "q_continue_logits"):
                _close(out[key], expected[key], f"segment {step + 1}: {key}")
            assert bool(carry.halted.all()) == (step == config.halt_max_steps - 1)


def _spec_shapes(config: TRMConfig, inter: int, inter_t: int) -> Dict[str, tuple]:
    """The official key names and shapes, written out from trm-spec.md's table."""
    D, V, L = config.hidden_size, config.vocab_size, config.seq_len + config.prefix_len
    shapes = {"inner.H_init": (D,), "inner.L_init": (D,), "inner.embed_tokens.embedding_weight": (V, D),
              "inner.lm_head.weight": (V, D), "inner.q_head.weight": (2, D), "inner.q_head.bias": (2,)}
    if config.puzzle_emb_ndim:
        shapes["inner.puzzle_emb.weights"] = (config.num_puzzle_identifiers, config.puzzle_emb_ndim)
    if config.pos_encodings == "learned":
        shapes["inner.embed_pos.embedding_weight"] = (L, D)
    for i in range(config.L_layers):
        layer = f"inner.L_level.layers.{i}."
        if config.mlp_t:
            shapes[layer + "mlp_t.gate_up_proj.weight"] = (2 * inter_t, L)
            shapes[layer + "mlp_t.down_proj.weight"] = (L, inter_t)
        else:
            shapes[layer + "self_attn.qkv_proj.weight"] = (3 * D, D)
            shapes[layer + "self_attn.o_proj.weight"] = (D, D)
        shapes[layer + "mlp.gate_up_proj.weight"] = (2 * inter, D)
        shapes[layer + "mlp.down_proj.weight"] = (D, inter)
    return shapes


@pytest.mark.parametrize("case", ["rope", "learned-ceil-prefix", "mlp_t-learned", "none-no-puzzle-emb"])
def test_state_dict_has_the_official_keys_and_shapes(case):
    options = dict(CASES[case])
    options.pop("loss")
    config = _config(**options)
    got = {k: tuple(v.shape) for k, v in TRM(config).state_dict().items()}
    assert got == _spec_shapes(config, inter=256, inter_t=256)


@pytest.mark.parametrize("mlp_t, expected", [(False, 6_828_034), (True, 5_028_866)])
def test_parameter_counts_at_the_official_sudoku_defaults(mlp_t, expected):
    """trm-spec.md: V=11, L=81, hidden 512, 2 layers, expansion 4, 16 prefix positions."""
    config = TRMConfig(batch_size=1, seq_len=81, vocab_size=11, num_puzzle_identifiers=1, puzzle_emb_ndim=512,
                       H_cycles=3, L_cycles=6, L_layers=2, hidden_size=512, expansion=4, num_heads=8,
                       halt_max_steps=16, halt_exploration_prob=0.1, mlp_t=mlp_t)
    model = TRM(config)
    assert count_parameters(model) == expected
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == _spec_shapes(config, inter=1536, inter_t=512)


def _random_upstream_state_dict(config: TRMConfig, seed: int) -> Dict[str, torch.Tensor]:
    """An upstream checkpoint's content made from the spec alone (not from our model)."""
    g = torch.Generator().manual_seed(seed)
    return {OFFICIAL_PREFIX + k: torch.randn(shape, generator=g)
            for k, shape in _spec_shapes(config, inter=256, inter_t=256).items()}


@pytest.mark.parametrize("case", ["rope", "mlp_t-learned"])
def test_an_upstream_state_dict_loads_exports_and_loads_again_unchanged(case, tmp_path):
    from hrm_studio.config import RunConfig

    options = dict(CASES[case])
    options.pop("loss")
    config = _config(**options)
    upstream = _random_upstream_state_dict(config, seed=7)
    model = TRM(config)
    ckpt.load_into(model, ckpt.strip_prefixes(upstream), "an upstream file")
    for key, value in model.state_dict().items():
        assert torch.equal(value, upstream[OFFICIAL_PREFIX + key]), key
    run = RunConfig.from_dict({"model": {"arch": "trm", "mlp_t": config.mlp_t,
                                         "pos_encodings": config.pos_encodings}})
    step_file, _ = ckpt.export_weights(model.state_dict(), run, "hrm", tmp_path / "official", step=3)
    written = torch.load(step_file, weights_only=True)
    assert sorted(written) == sorted(upstream)
    for key, value in upstream.items():
        assert torch.equal(written[key], value), key
    again = TRM(config)
    ckpt.load_into(again, ckpt.read_weights(step_file).state_dict, step_file)
    for key, value in again.state_dict().items():
        assert torch.equal(value, upstream[OFFICIAL_PREFIX + key]), key


def test_same_seed_same_weights_and_the_segment_keeps_both_states_detached():
    config = _config()
    a, b = _model(config, seed=3), _model(config, seed=3)
    for (key, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), key
    batch = _batches(config, 1)[0]
    a.train()
    carry, _ = a(a.initial_carry(batch), batch)
    assert not carry.inner_carry.z_H.requires_grad and not carry.inner_carry.z_L.requires_grad


@pytest.mark.parametrize("overrides, words", [
    (dict(pos_encodings="alibi"), "pos_encodings"),
    (dict(puzzle_emb_len=1, puzzle_emb_ndim=40), "cannot hold"),
    (dict(L_layers=0), "L_layers"),
])
def test_invalid_configs_are_refused_with_a_reason(overrides, words):
    with pytest.raises(Exception, match=words):
        _config(**overrides)


def test_no_prefix_without_a_puzzle_embedding_and_ceil_rule_when_len_is_zero():
    assert _config(puzzle_emb_ndim=0).prefix_len == 0
    assert _config(puzzle_emb_ndim=24, puzzle_emb_len=0).prefix_len == 2
    assert replace(_config(), puzzle_emb_len=5).prefix_len == 5
