"""Trainer: history and run folder, determinism, resume equivalence, control, failures."""

from __future__ import annotations

import json
import threading

import pytest
import torch

from hrm_studio.events import (CheckpointSaved, EpochEnd, Evaluated, Failed, Finished, PredictionsReady,
                                        Progress, Started)
from hrm_studio.training.trainer import Trainer, comparable

SEED_KEYS = ("epoch", "loss", "token_accuracy", "exact_match_accuracy", "learning_rate",
             "val_token_accuracy", "val_exact_match_accuracy")


def _fit(config, run_dir, events=None):
    events = events if events is not None else []
    trainer = Trainer(config, run_dir, events.append)
    return trainer, trainer.fit(), events


def test_a_run_writes_history_checkpoints_and_events(tiny_config, tmp_path):
    trainer, result, events = _fit(tiny_config, tmp_path / "run")
    assert result.reason == "completed"
    assert [type(e) for e in events][0] is Started
    assert isinstance(events[-1], Finished)
    epoch_ends = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.epoch for e in epoch_ends] == [1, 2]
    evaluated = [e for e in events if isinstance(e, Evaluated)]
    assert [e.epoch for e in evaluated] == [1, 2]
    assert evaluated[-1].metrics["val_exact_match_accuracy"] == epoch_ends[-1].metrics["val_exact_match_accuracy"]
    row = result.history[-1]
    for key in SEED_KEYS + ("copy_accuracy", "increment_accuracy", "val_exact_match_at_halt",
                            "train/accuracy", "val/exact_accuracy", "mean_act_steps", "samples_per_second"):
        assert key in row, key
    # Only real puzzles count: every training puzzle exactly once per epoch.
    assert all(r["puzzles"] == 48 for r in result.history)
    assert row["val_puzzles"] == 12
    run = tmp_path / "run"
    assert json.loads((run / "history.json").read_text()) == json.loads(json.dumps(result.history))
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]
    assert json.loads((run / "config.json").read_text())["model"]["hidden_size"] == 32
    assert json.loads((run / "status.json").read_text())["state"] == "finished"
    final = torch.load(run / "checkpoints" / "final.pt", weights_only=True)
    assert final["epoch"] == 2 and len(final["history"]) == 2
    assert (run / "checkpoints" / "best.pt").exists()
    assert {e.kind for e in events if isinstance(e, CheckpointSaved)} >= {"best", "final"}


def test_same_seed_and_config_give_the_same_history(tiny_config, tmp_path):
    _, a, _ = _fit(tiny_config, tmp_path / "a")
    _, b, _ = _fit(tiny_config, tmp_path / "b")
    assert comparable(a.history) == comparable(b.history)
    other = tiny_config.copy()
    other.train.seed = 4
    _, c, _ = _fit(other, tmp_path / "c")
    assert comparable(c.history) != comparable(a.history)


def test_four_epochs_straight_equal_two_plus_two_resumed(tiny_config, tmp_path):
    four = tiny_config.copy()
    four.train.epochs = 4
    _, straight, _ = _fit(four, tmp_path / "straight")

    two = tiny_config.copy()
    two.train.epochs = 2
    _fit(two, tmp_path / "resumed")
    trainer = Trainer(four, tmp_path / "resumed")
    trainer.resume_from(tmp_path / "resumed" / "checkpoints" / "final.pt")
    resumed = trainer.fit()
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4]
    assert comparable(resumed.history) == comparable(straight.history)
    lines = (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]


def test_stop_inside_an_epoch_leaves_a_valid_resumable_run(tiny_config, tmp_path):
    config = tiny_config.copy()
    config.train.epochs = 5
    holder = {}

    def on_event(event):
        if isinstance(event, EpochEnd) and event.epoch == 2:
            holder["trainer"].stop()

    trainer = Trainer(config, tmp_path / "run", on_event)
    holder["trainer"] = trainer
    result = trainer.fit()
    assert result.reason == "stopped"
    assert len(result.history) == 2
    final = torch.load(tmp_path / "run" / "checkpoints" / "final.pt", weights_only=True)
    assert final["epoch"] == 2
    assert json.loads((tmp_path / "run" / "status.json").read_text())["state"] == "stopped"
    again = Trainer(config, tmp_path / "run")
    again.resume_from(tmp_path / "run" / "checkpoints" / "final.pt")
    assert [r["epoch"] for r in again.fit().history] == [1, 2, 3, 4, 5]


def test_pause_holds_training_and_a_checkpoint_can_be_saved_while_paused(tiny_config, tmp_path):
    config = tiny_config.copy()
    config.data.train_size = 200
    config.train.epochs = 1
    paused = threading.Event()
    saved = threading.Event()
    trainer_box = {}

    def on_event(event):
        trainer = trainer_box["t"]
        if isinstance(event, Progress) and not paused.is_set():
            trainer.pause()
            paused.set()
        if isinstance(event, CheckpointSaved) and event.kind == "manual":
            saved.set()

    trainer = Trainer(config, tmp_path / "run", on_event)
    trainer_box["t"] = trainer
    worker = threading.Thread(target=trainer.fit)
    worker.start()
    assert paused.wait(60)
    step_at_pause = trainer.state.global_step
    trainer.request_checkpoint(tmp_path / "mid.pt")
    assert saved.wait(60)
    assert trainer.state.global_step == step_at_pause  # no step ran while paused
    mid = torch.load(tmp_path / "mid.pt", weights_only=True)
    assert mid["global_step"] == step_at_pause
    trainer.resume()
    worker.join(120)
    assert not worker.is_alive()
    assert trainer.state.global_step > step_at_pause


def test_a_pause_that_arrives_at_the_end_of_an_epoch_holds_before_the_next_epochs_first_step(tiny_config,
                                                                                                   tmp_path):
    """The window's pause can land while the trainer evaluates at an epoch's end; no step may run
    after it (this once let exactly one more step through, between two checkpoint saves)."""
    config = tiny_config.copy()
    config.train.epochs = 2
    seen = {}

    def on_event(event):
        trainer = trainer_box["t"]
        if isinstance(event, EpochEnd) and event.epoch == 1:
            trainer.pause()  # on the training thread, after the epoch's last step
            seen["at_pause"] = trainer.state.global_step
        elif isinstance(event, PredictionsReady) and event.epoch == 1 and "asked" not in seen:
            # The epoch's own checkpoint requests have been served by now: this one waits for
            # the next chance, which must come before epoch 2's first step.
            seen["asked"] = True
            trainer.request_checkpoint(tmp_path / "held.pt")
        elif isinstance(event, CheckpointSaved) and event.kind == "manual":
            seen.setdefault("at_saves", []).append(trainer.state.global_step)
            trainer.resume()

    trainer_box = {}
    trainer = Trainer(config, tmp_path / "run", on_event)
    trainer_box["t"] = trainer
    result = trainer.fit()
    assert result.reason == "completed"
    assert seen["at_saves"] == [seen["at_pause"]]  # saved while held, before epoch 2's first step
    assert torch.load(tmp_path / "held.pt", weights_only=True)["global_step"] == seen["at_pause"]
    assert trainer.state.global_step > seen["at_pause"]


def test_an_exception_inside_training_emits_failed_and_keeps_the_history(tiny_config, tmp_path, monkeypatch):
    from hrm_studio.training import trainer as trainer_module

    calls = {"n": 0}
    real = trainer_module.evaluate

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("injected failure")
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "evaluate", flaky)
    events = []
    trainer = Trainer(tiny_config, tmp_path / "run", events.append)
    with pytest.raises(RuntimeError, match="injected"):
        trainer.fit()
    failed = [e for e in events if isinstance(e, Failed)]
    assert failed and "injected failure" in failed[0].message and failed[0].epoch == 1
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 1
    assert json.loads((tmp_path / "run" / "status.json").read_text())["state"] == "failed"


def test_early_stopping_patience_ends_the_run(tiny_config, tmp_path):
    config = tiny_config.copy()
    config.train.epochs = 30
    # No real learning: the weights barely move, and the puzzle embeddings' sign-SGD steps overshoot, so
    # val_loss gets worse after epoch 1 (with the default puzzle_emb_lr it crept down for ~25 epochs).
    config.train.lr = 1e-9
    config.train.puzzle_emb_lr = 0.5
    config.train.early_stopping_metric = "val_loss"
    config.train.early_stopping_patience = 2
    _, result, _ = _fit(config, tmp_path / "run")
    assert result.reason == "early_stopped"
    assert len(result.history) < 30
    losses = [row["val_loss"] for row in result.history]
    best_epoch = losses.index(min(losses)) + 1
    assert len(result.history) == best_epoch + 2  # it ends exactly `patience` evaluations after the best


def test_eval_interval_skips_held_out_metrics_between_evaluations(tiny_config, tmp_path):
    config = tiny_config.copy()
    config.train.epochs = 3
    config.train.eval_interval = 2
    _, result, _ = _fit(config, tmp_path / "run")
    has_val = ["val_exact_match_accuracy" in r for r in result.history]
    assert has_val == [False, True, True]  # epoch 2, and always the last epoch


def test_epochs_can_be_raised_while_the_run_goes_on(tiny_config, tmp_path):
    config = tiny_config.copy()
    config.train.epochs = 2
    holder = {}

    def on_event(event):
        if isinstance(event, EpochEnd) and event.epoch == 1:
            holder["t"].config.train.epochs = 3

    trainer = Trainer(config, tmp_path / "run", on_event)
    holder["t"] = trainer
    assert [r["epoch"] for r in trainer.fit().history] == [1, 2, 3]
