"""The attention view: weights are a distribution, equal a hand-written softmax(QKᵀ), and the update
they come from is the one the model ran."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hrm_studio.analysis import AttentionMap, attention_map
from hrm_studio.analysis.attention import update_inputs
from hrm_studio.analysis.recording import StateRecorder, make_batch, run_segments
from hrm_studio.errors import UserError
from hrm_studio.model.layers import apply_rotary

from .helpers import COMMON, puzzles, tiny


def _manual_weights(attn, h, cos_sin):
    """softmax(q kᵀ / sqrt(d)) from the stored (official-order) weights and the textbook RoPE."""
    b, s, _ = h.shape
    heads, dim = attn.num_heads, attn.head_dim
    q, k, _ = (h @ attn.qkv_proj.weight.T).view(b, s, 3 * heads, dim).split(heads, dim=2)
    q, k = apply_rotary(q, k, *cos_sin)
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(dim)
    return torch.softmax(scores, dim=-1)


@pytest.mark.parametrize("arch,level", [("hrm", "H"), ("hrm", "L"), ("trm", "L"), ("trm", "H")])
def test_weights_sum_to_one_and_match_a_manual_softmax(arch, level):
    model = tiny(arch)
    ps = puzzles(1)
    step, layer, head, cell = 3, 1, 1, 5  # step 3 is in the second segment
    got = attention_map(model, ps.inputs[0], int(ps.puzzle_identifiers[0]), step=step, level=level, layer=layer,
                        head=head, cell=cell)
    assert isinstance(got, AttentionMap) and (got.level, got.step, got.layer, got.head) == (level, step, layer, head)
    prefix = model.inner.puzzle_emb_len
    assert got.grid_weights.shape == (COMMON["seq_len"],) and got.prefix_weights.shape == (prefix,)
    assert got.grid_weights.sum() + got.prefix_weights.sum() == pytest.approx(1.0, abs=1e-6)

    batch = make_batch(model, ps.inputs, ps.puzzle_identifiers)
    recorder = StateRecorder()
    run_segments(model, batch, 2, recorder)
    module = model.inner.H_level if (arch, level) == ("hrm", "H") else model.inner.L_level
    with torch.inference_mode():
        z, injection = update_inputs(model, recorder, batch, step=step, level=level)
        cos_sin = model.inner.cos_sin()
        # the replayed update is the one the model ran: it gives the recorded state back
        want = recorder.highs[step] if level == "H" else recorder.lows[(step + 1) * COMMON["L_cycles"] - 1]
        assert torch.allclose(module(z, injection, cos_sin), want, atol=1e-6, rtol=0)
        h = module.layers[0](z + injection, cos_sin)
        manual = _manual_weights(module.layers[layer].self_attn, h, cos_sin)[0, head, prefix + cell]
    row = np.concatenate([got.prefix_weights, got.grid_weights])
    assert np.allclose(row, manual.double().numpy(), atol=1e-6)


def test_another_low_level_update_and_bad_requests():
    model = tiny("hrm")
    ps = puzzles(1)
    first = attention_map(model, ps.inputs[0], 0, step=0, level="L", layer=0, head=0, cell=0, inner=0)
    last = attention_map(model, ps.inputs[0], 0, step=0, level="L", layer=0, head=0, cell=0)
    assert not np.allclose(first.grid_weights, last.grid_weights)
    for bad, words in [(dict(layer=2), "Layer 2"), (dict(head=2), "Head 2"), (dict(cell=9), "Cell 9"),
                       (dict(level="X"), "Level"), (dict(step=-1), "Step")]:
        request = {**dict(step=0, level="H", layer=0, head=0, cell=0), **bad}
        with pytest.raises(UserError, match=words):
            attention_map(model, ps.inputs[0], 0, **request)
    with pytest.raises(UserError, match="no attention"):
        attention_map(tiny("trm", mlp_t=True), ps.inputs[0], 0, step=0, level="L", layer=0, head=0, cell=0)


def test_a_kept_replay_answers_for_any_cell_as_a_fresh_run_does():
    from hrm_studio.analysis import AttentionReplay

    model = tiny("trm")
    ps = puzzles(1)
    replay = AttentionReplay(model, ps.inputs[0], 2, segments=2)
    assert replay.steps == 2 * COMMON["H_cycles"]
    for cell in (0, 8):
        kept = replay.map(step=3, level="L", layer=0, head=1, cell=cell)
        fresh = attention_map(model, ps.inputs[0], 2, step=3, level="L", layer=0, head=1, cell=cell)
        assert np.array_equal(kept.grid_weights, fresh.grid_weights)
        assert np.array_equal(kept.prefix_weights, fresh.prefix_weights)
    with pytest.raises(UserError, match="Step 4 was not run"):
        replay.map(step=4, level="L", layer=0, head=0, cell=0)
