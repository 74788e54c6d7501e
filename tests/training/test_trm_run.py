"""A tiny TRM trains through the real trainer, and its checkpoint is scored by the same code as HRM's."""

from __future__ import annotations

import math

from hrm_studio.model import TRM
from hrm_studio.training.checkpoint_scoring import score_checkpoint
from hrm_studio.training.trainer import Trainer


def test_a_tiny_trm_trains_two_epochs_and_its_checkpoint_scores_like_the_history(tiny_config, tmp_path):
    config = tiny_config.copy()
    config.apply_overrides(["arch=trm", "puzzle_emb_len=2", "train_size=32", "test_size=8",
                            "attention_kernel=torch"])
    trainer = Trainer(config, tmp_path / "run", lambda event: None)
    result = trainer.fit()
    assert result.reason == "completed"
    assert isinstance(trainer.head.model, TRM)
    assert [row["epoch"] for row in result.history] == [1, 2]
    assert all(math.isfinite(row["loss"]) for row in result.history)
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert all(row["puzzles"] == 32 for row in result.history)
    _, metrics = score_checkpoint(tmp_path / "run" / "checkpoints" / "final.pt")
    assert metrics["exact_match_accuracy"] == result.history[-1]["val_exact_match_accuracy"]
    assert metrics["token_accuracy"] == result.history[-1]["val_token_accuracy"]
