"""HRMInner.q_values: the Q-target pass computes only position 0 of the last block, same numbers."""

from __future__ import annotations

import pytest
import torch

from tests.model.model_helpers import make_batch, tiny_model


@pytest.mark.parametrize("overrides", [{}, {"H_layers": 2, "L_layers": 2}, {"pos_encodings": "learned"},
                                       {"puzzle_emb_ndim": 0}])
def test_q_values_equal_the_full_segments_q_values(overrides: dict) -> None:
    model = tiny_model(seed=1, **overrides)
    with torch.no_grad():  # non-zero Q-head weights, so q depends on the whole state at position 0
        model.inner.q_head.weight.normal_()
    batch = make_batch(model.config, seed=2)
    carry = model.inner.reset_carry(torch.ones(model.config.batch_size, dtype=torch.bool),
                                    model.inner.empty_carry(model.config.batch_size))
    with torch.no_grad():
        _, _, (halt, cont) = model.inner(carry, batch)
    q_halt, q_cont = model.inner.q_values(carry, batch)
    torch.testing.assert_close(q_halt, halt, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(q_cont, cont, rtol=1e-5, atol=1e-5)
    assert not q_halt.requires_grad


def test_partial_block_returns_only_the_first_rows_of_the_full_block() -> None:
    model = tiny_model(seed=4)
    block = model.inner.H_level.layers[0]
    h = torch.randn(2, model.inner.total_len, model.config.hidden_size)
    cos_sin = model.inner.rotary_emb()
    with torch.no_grad():
        full = block(h, cos_sin)
        first = block(h, cos_sin, first=3)
    assert first.shape == (2, 3, model.config.hidden_size)
    torch.testing.assert_close(first, full[:, :3], rtol=1e-5, atol=1e-5)
