"""ACT wrapper and inner recurrence: halting, exploration, resets, 1-step gradient, Q target."""

from __future__ import annotations

from typing import List

import torch

from hrm_studio.model import HRM
from hrm_studio.model.hrm import HRMBlock, HRMCarry, HRMInnerCarry
from hrm_studio.model.layers import rms_norm
from .model_helpers import make_batch, rig_q_head, tiny_model


def _segments_until_all_halted(model: HRM, limit: int = 50) -> List[torch.Tensor]:
    batch = make_batch(model.config)
    carry = model.initial_carry(batch)
    halted_history = []
    for _ in range(limit):
        carry, _ = model(carry, batch)
        halted_history.append(carry.halted.clone())
        if carry.halted.all():
            break
    return halted_history


def test_block_is_post_norm_attention_then_mlp() -> None:
    model = tiny_model()
    block: HRMBlock = model.inner.H_level.layers[0]
    torch.manual_seed(0)
    h = torch.randn(2, 8, 16)
    cos_sin = model.inner.rotary_emb(8)
    a = rms_norm(h + block.self_attn(h, cos_sin), 1e-5)
    expected = rms_norm(a + block.mlp(a), 1e-5)
    torch.testing.assert_close(block(h, cos_sin), expected)


def test_reasoning_module_adds_the_injection_then_runs_its_layers() -> None:
    model = tiny_model(L_layers=2)
    level = model.inner.L_level
    torch.manual_seed(0)
    z, injection = torch.randn(2, 8, 16), torch.randn(2, 8, 16)
    cos_sin = model.inner.rotary_emb(8)
    expected = level.layers[1](level.layers[0](z + injection, cos_sin), cos_sin)
    torch.testing.assert_close(level(z, injection, cos_sin), expected)


def test_eval_always_runs_exactly_halt_max_steps_segments() -> None:
    model = tiny_model(halt_max_steps=4)
    rig_q_head(model, halt=10.0, cont=-10.0)  # the Q-head begs to halt: eval must ignore it
    model.eval()
    with torch.no_grad():
        history = _segments_until_all_halted(model)
    assert len(history) == 4
    assert not any(h.any() for h in history[:-1])


def test_training_halts_at_halt_max_steps_when_q_prefers_to_continue() -> None:
    model = tiny_model(halt_max_steps=4, halt_exploration_prob=0.0)
    rig_q_head(model, halt=-10.0, cont=10.0)
    model.train()
    history = _segments_until_all_halted(model)
    assert len(history) == 4
    assert not any(h.any() for h in history[:-1])


def test_training_q_halting_stops_after_one_segment_when_q_halt_wins() -> None:
    model = tiny_model(halt_max_steps=4, halt_exploration_prob=0.0)
    rig_q_head(model, halt=1.0, cont=0.5)
    model.train()
    history = _segments_until_all_halted(model)
    assert len(history) == 1


def test_q_halting_needs_strictly_greater_q_halt() -> None:
    model = tiny_model(halt_max_steps=4, halt_exploration_prob=0.0)
    rig_q_head(model, halt=0.5, cont=0.5)
    model.train()
    assert len(_segments_until_all_halted(model)) == 4


def test_exploration_forces_a_random_minimum_of_at_least_two_segments() -> None:
    model = tiny_model(halt_max_steps=5, halt_exploration_prob=1.0, batch_size=64)
    rig_q_head(model, halt=10.0, cont=-10.0)  # would halt at once without exploration
    model.train()
    batch = make_batch(model.config)
    carry = model.initial_carry(batch)
    torch.manual_seed(3)
    carry, _ = model(carry, batch)
    assert not carry.halted.any()  # every row drew a minimum in [2, 5]

    # The draw uses torch's global RNG: rand for "explore?", then randint in [2, halt_max_steps].
    torch.manual_seed(11)
    carry, _ = model(carry, batch)
    torch.manual_seed(11)
    explore = torch.rand(64) < 1.0
    min_steps = explore * torch.randint(2, 6, (64,), dtype=torch.int32)
    assert torch.equal(carry.halted, carry.steps >= min_steps)
    assert 0 < int(carry.halted.sum()) < 64  # the draw really varies per row


def test_exploration_probability_zero_halts_immediately() -> None:
    model = tiny_model(halt_max_steps=5, halt_exploration_prob=0.0, batch_size=16)
    rig_q_head(model, halt=10.0, cont=-10.0)
    model.train()
    batch = make_batch(model.config)
    carry, _ = model(model.initial_carry(batch), batch)
    assert carry.halted.all()


def test_single_step_act_always_halts_and_has_no_q_target() -> None:
    model = tiny_model(halt_max_steps=1)
    rig_q_head(model, halt=-10.0, cont=10.0)
    model.train()
    batch = make_batch(model.config)
    carry, outputs = model(model.initial_carry(batch), batch)
    assert carry.halted.all()
    assert "target_q_continue" not in outputs


def test_eval_has_no_q_target_and_training_does() -> None:
    model = tiny_model()
    batch = make_batch(model.config)
    model.eval()
    with torch.no_grad():
        _, outputs = model(model.initial_carry(batch), batch)
    assert set(outputs) == {"logits", "q_halt_logits", "q_continue_logits"}
    model.train()
    _, outputs = model(model.initial_carry(batch), batch)
    assert set(outputs) == {"logits", "q_halt_logits", "q_continue_logits", "target_q_continue"}
    assert outputs["logits"].shape == (3, 8, 6) and outputs["q_halt_logits"].shape == (3,)


def test_halted_rows_reset_to_init_states_and_take_fresh_data() -> None:
    model = tiny_model(halt_max_steps=4)
    model.eval()
    first, second = make_batch(model.config, seed=1), make_batch(model.config, seed=2)
    with torch.no_grad():
        carry, _ = model(model.initial_carry(first), first)
    assert torch.equal(carry.steps, torch.ones(3, dtype=torch.int32))
    # Row 0 has halted (its puzzle is done); rows 1 and 2 are still working.
    carry = HRMCarry(carry.inner_carry, carry.steps, torch.tensor([True, False, False]), carry.current_data)

    seen = {}

    def grab_inner_input(_module, args):
        seen["carry"], seen["data"] = args[0], args[1]

    handle = model.inner.register_forward_pre_hook(grab_inner_input)
    with torch.no_grad():
        new, _ = model(carry, second)
    handle.remove()

    z_H, z_L = seen["carry"].z_H, seen["carry"].z_L
    assert torch.equal(z_H[0], model.inner.H_init.expand_as(z_H[0]))
    assert torch.equal(z_L[0], model.inner.L_init.expand_as(z_L[0]))
    assert torch.equal(z_H[1:], carry.inner_carry.z_H[1:]) and torch.equal(z_L[1:], carry.inner_carry.z_L[1:])
    for key in ("inputs", "labels", "puzzle_identifiers"):
        assert torch.equal(seen["data"][key][0], second[key][0])
        assert torch.equal(seen["data"][key][1:], first[key][1:])
        assert torch.equal(new.current_data[key], seen["data"][key])
    assert torch.equal(new.steps, torch.tensor([1, 2, 2], dtype=torch.int32))


def test_new_carry_is_detached_and_inner_returns_float32_q() -> None:
    model = tiny_model()
    model.train()
    batch = make_batch(model.config)
    carry, outputs = model(model.initial_carry(batch), batch)
    assert not carry.inner_carry.z_H.requires_grad and not carry.inner_carry.z_L.requires_grad
    assert outputs["logits"].requires_grad and outputs["q_halt_logits"].requires_grad


def test_only_the_last_L_and_last_H_update_carry_gradient() -> None:
    model = tiny_model(H_cycles=3, L_cycles=2)
    model.train()
    calls = {"L": [], "H": []}
    model.inner.L_level.register_forward_hook(lambda m, a, out: calls["L"].append(out.requires_grad))
    model.inner.H_level.register_forward_hook(lambda m, a, out: calls["H"].append(out.requires_grad))
    batch = make_batch(model.config)
    carry = model.initial_carry(batch)
    inner_carry = model.inner.reset_carry(carry.halted, carry.inner_carry)
    model.inner(inner_carry, batch)
    assert calls["L"] == [False] * 5 + [True]  # H_cycles * L_cycles updates, the last with grad
    assert calls["H"] == [False] * 2 + [True]


def _reference_grads(model: HRM, carry: HRMInnerCarry, batch, full_bptt: bool):
    """An independent flat loop over the H*L schedule; ``full_bptt`` keeps grad everywhere."""
    inner, cfg = model.inner, model.config
    model.zero_grad(set_to_none=True)
    x = inner.input_embeddings(batch["inputs"], batch["puzzle_identifiers"])
    cs = inner.rotary_emb()
    z_H, z_L = carry.z_H, carry.z_L
    total = cfg.H_cycles * cfg.L_cycles
    for t in range(total):
        with torch.set_grad_enabled(full_bptt or t == total - 1):
            z_L = inner.L_level(z_L, z_H + x, cs)
            if (t + 1) % cfg.L_cycles == 0:
                z_H = inner.H_level(z_H, z_L, cs)
    logits = inner.lm_head(z_H)[:, inner.puzzle_emb_len:]
    q = inner.q_head(z_H[:, 0])
    (logits.square().mean() + q.sum()).backward()
    return {n: p.grad.clone() for n, p in model.named_parameters()}


def test_one_step_gradient_equals_a_reference_without_the_no_grad_steps() -> None:
    model = tiny_model(H_cycles=2, L_cycles=2)
    with torch.no_grad():
        model.inner.q_head.weight.normal_()
    model.train()
    batch = make_batch(model.config)
    carry = model.inner.reset_carry(torch.ones(3, dtype=torch.bool), model.inner.empty_carry(3))

    model.zero_grad(set_to_none=True)
    _, logits, (q_halt, q_continue) = model.inner(carry, batch)
    (logits.square().mean() + q_halt.sum() + q_continue.sum()).backward()
    ours = {n: p.grad.clone() for n, p in model.named_parameters()}

    one_step = _reference_grads(model, carry, batch, full_bptt=False)
    full = _reference_grads(model, carry, batch, full_bptt=True)
    for name in ours:
        torch.testing.assert_close(ours[name], one_step[name], rtol=1e-5, atol=1e-6)
    # The approximation is real: full backprop through time gives other gradients.
    name = "inner.L_level.layers.0.self_attn.qkv_proj.weight"
    assert not torch.allclose(ours[name], full[name], rtol=1e-3, atol=1e-5)


def test_q_continue_target_uses_next_segment_q_values() -> None:
    model = tiny_model(halt_max_steps=2, halt_exploration_prob=0.0, batch_size=2)
    torch.manual_seed(5)
    with torch.no_grad():
        model.inner.q_head.weight.normal_(std=0.1)
        model.inner.q_head.bias.copy_(torch.tensor([-3.0, 3.0]))  # continue clearly above halt
    model.train()
    batch = make_batch(model.config)
    carry, _ = model(model.initial_carry(batch), batch)
    # Row 0 is on its first segment (not last), row 1 on its last (halt_max_steps = 2).
    carry = HRMCarry(carry.inner_carry, torch.tensor([0, 1], dtype=torch.int32),
                     torch.tensor([False, False]), carry.current_data)
    new, outputs = model(carry, batch)
    with torch.no_grad():
        _, _, (next_halt, next_continue) = model.inner(new.inner_carry, new.current_data)
    expected = torch.stack([
        torch.sigmoid(torch.maximum(next_halt[0], next_continue[0])),  # not last: max of both
        torch.sigmoid(next_halt[1]),  # last step: only halting is possible next
    ])
    assert next_continue[0] > next_halt[0]  # so the two branches give different numbers
    torch.testing.assert_close(outputs["target_q_continue"], expected)
    assert not outputs["target_q_continue"].requires_grad


def test_target_forward_does_not_overwrite_the_puzzle_embedding_locals() -> None:
    model = tiny_model()
    model.train()
    batch = make_batch(model.config)
    _, outputs = model(model.initial_carry(batch), batch)
    local = model.puzzle_emb.local_weights
    assert local is not None and local.requires_grad
    outputs["logits"].sum().backward()
    assert local.grad is not None and local.grad.abs().sum() > 0
    assert torch.equal(model.puzzle_emb.local_ids, batch["puzzle_identifiers"])
