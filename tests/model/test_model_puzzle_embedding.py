"""The sparse puzzle embedding and its sign-SGD update."""

from __future__ import annotations

import torch

from hrm_studio.model.puzzle_embedding import PuzzleEmbedding
from .model_helpers import make_batch, tiny_model


def _embedding_with_known_rows() -> PuzzleEmbedding:
    emb = PuzzleEmbedding(4, 3, cast_to=torch.float32)
    with torch.no_grad():
        emb.weights.copy_(torch.arange(12, dtype=torch.float32).view(4, 3))
    return emb


def test_zero_initialised_persistent_buffer() -> None:
    emb = PuzzleEmbedding(5, 7, cast_to=torch.bfloat16)
    assert torch.equal(emb.weights, torch.zeros(5, 7))
    assert list(emb.state_dict()) == ["weights"] and list(emb.parameters()) == []


def test_training_forward_gathers_a_leaf_and_remembers_ids() -> None:
    emb = _embedding_with_known_rows()
    emb.train()
    ids = torch.tensor([2, 0, 2])
    out = emb(ids)
    assert torch.equal(out, emb.weights[ids])
    assert emb.local_weights is not None and emb.local_weights.is_leaf and emb.local_weights.requires_grad
    assert torch.equal(emb.local_ids, ids)
    assert set(emb.state_dict()) == {"weights"}


def test_no_grad_or_eval_forward_leaves_locals_alone() -> None:
    emb = _embedding_with_known_rows()
    emb.train()
    with torch.no_grad():
        out = emb(torch.tensor([1]))
    assert emb.local_weights is None and not out.requires_grad
    emb.eval()
    emb(torch.tensor([3]))
    assert emb.local_weights is None


def test_forward_casts_to_the_forward_dtype() -> None:
    emb = PuzzleEmbedding(3, 2, cast_to=torch.bfloat16)
    emb.train()
    assert emb(torch.tensor([1])).dtype == torch.bfloat16
    assert emb.local_weights.dtype == torch.float32


def test_sign_sgd_step_on_hand_made_gradients() -> None:
    emb = _embedding_with_known_rows()
    before = emb.weights.clone()
    emb.train()
    emb(torch.tensor([2, 0, 2]))
    # Rows 0 and 2 of the batch share identifier 2: their grads are summed before the sign.
    emb.local_weights.grad = torch.tensor([[1.0, -3.0, 0.5], [-0.2, 0.0, 4.0], [-2.0, 1.0, -0.5]])
    lr, wd = 0.1, 0.5
    updated = emb.sign_sgd_step(lr, wd)
    assert updated == 2
    decay = 1 - lr * wd
    # id 2: summed grad [-1, -2, 0] -> sign [-1, -1, 0]
    expected_2 = before[2] * decay - lr * torch.tensor([-1.0, -1.0, 0.0])
    # id 0: grad [-0.2, 0, 4] -> sign [-1, 0, 1]
    expected_0 = before[0] * decay - lr * torch.tensor([-1.0, 0.0, 1.0])
    torch.testing.assert_close(emb.weights[2], expected_2)
    torch.testing.assert_close(emb.weights[0], expected_0)
    # Rows not in the batch are untouched: no decay either.
    assert torch.equal(emb.weights[1], before[1]) and torch.equal(emb.weights[3], before[3])
    # Locals are cleared, so a second step is a no-op.
    assert emb.local_weights is None and emb.local_ids is None
    after = emb.weights.clone()
    assert emb.sign_sgd_step(lr, wd) == 0
    assert torch.equal(emb.weights, after)


def test_zero_local_grad_discards_a_pending_update() -> None:
    emb = _embedding_with_known_rows()
    before = emb.weights.clone()
    emb.train()
    emb(torch.tensor([1])).sum().backward()
    emb.zero_local_grad()
    assert emb.sign_sgd_step(1.0, 0.0) == 0
    assert torch.equal(emb.weights, before)


def test_sign_sgd_through_the_model_moves_only_the_batch_identifiers() -> None:
    model = tiny_model(num_puzzle_identifiers=4, batch_size=2)
    model.train()
    batch = make_batch(model.config)
    batch["puzzle_identifiers"] = torch.tensor([3, 3])
    _, outputs = model(model.initial_carry(batch), batch)
    outputs["logits"].float().square().sum().backward()
    emb = model.puzzle_emb
    assert emb.local_weights.grad is not None and emb.local_weights.grad.abs().sum() > 0
    emb.sign_sgd_step(0.01, 0.1)
    w = emb.weights
    assert torch.equal(w[:3], torch.zeros(3, 8))
    # sign-SGD from zero moves every coordinate by exactly lr (the whole row has gradient)
    torch.testing.assert_close(w[3].abs(), torch.full((8,), 0.01))
