"""Live predictions from the Trainer: PredictionsReady for the held-out split and a fixed training
sample, saved under predictions/ at the end, without changing the training history."""

from __future__ import annotations

import errno
import json

import numpy as np
import pytest

from hrm_studio.events import EpochEnd, Evaluated, Finished, Notice, PredictionsReady, event_to_dict
from hrm_studio.runstore.prediction_set import PredictionSet
from hrm_studio.runstore.run_dir import RunDir
from hrm_studio.evaluation.prediction_summary import pattern_table
from hrm_studio.training.live_viewer import viewer_sample_indices
from hrm_studio.training.trainer import Trainer, comparable


def _fit(config, run_dir, on_event=None):
    events = []

    def record(event):
        events.append(event)
        if on_event is not None:
            on_event(trainer, event)

    trainer = Trainer(config, run_dir, record)
    return trainer.fit(), events


def _ready(events, split=None):
    return [e for e in events if isinstance(e, PredictionsReady) and (split is None or e.split == split)]


def test_each_epoch_brings_held_out_and_training_sample_predictions(tiny_config, tmp_path):
    tiny_config.train.viewer_sample = 10
    result, events = _fit(tiny_config, tmp_path / "run")
    test, train = _ready(events, "test"), _ready(events, "train")
    assert [e.epoch for e in test] == [e.epoch for e in train] == [1, 2]
    evaluated = {e.epoch: e.metrics for e in events if isinstance(e, Evaluated)}
    for event in test:
        ps = event.predictions
        assert ps.split == "test" and ps.epoch == event.epoch and ps.complete and len(ps) == 12
        assert ps.indices.tolist() == list(range(12))
        assert ps.task["vocab_size"] == 12 and ps.predictions.logits is None
        # the viewer's numbers are the history's numbers
        assert pattern_table(ps)[-1].exact == pytest.approx(evaluated[event.epoch]["val_exact_match_accuracy"])
    assert test[-1].predictions.predictions.exact is result.last_predictions.exact  # reused, not re-evaluated
    for event in train:
        ps = event.predictions
        assert ps.split == "train" and not ps.complete and len(ps) == 10
        assert set(ps.puzzles.patterns) == {"copy", "increment"}
    assert train[0].predictions.indices.tolist() == train[1].predictions.indices.tolist()  # a fixed sample
    # After the epoch's row: PredictionsReady follows that epoch's EpochEnd.
    kinds = [(type(e).__name__, getattr(e, "epoch", None)) for e in events]
    assert kinds.index(("EpochEnd", 1)) < kinds.index(("PredictionsReady", 1)) < kinds.index(("EpochEnd", 2))


def test_the_run_folder_keeps_the_latest_predictions(tiny_config, tmp_path):
    tiny_config.train.viewer_sample = 100  # more than the 48 training puzzles: the whole split
    _, events = _fit(tiny_config, tmp_path / "run")
    for split in ("test", "train"):
        saved = PredictionSet.load(RunDir(tmp_path / "run").predictions_path(split))
        last = _ready(events, split)[-1].predictions
        assert saved.epoch == 2 and saved.split == split
        assert np.array_equal(saved.predictions.predictions, last.predictions.predictions)
        assert np.array_equal(saved.indices, last.indices)
    train = PredictionSet.load(RunDir(tmp_path / "run").predictions_path("train"))
    assert train.complete and len(train) == 48
    assert json.loads((tmp_path / "run" / "status.json").read_text())["state"] == "finished"


def test_the_viewer_does_not_change_the_training_history(tiny_config, tmp_path):
    quiet = tiny_config.copy()
    quiet.train.viewer_interval = 0
    a, quiet_events = _fit(quiet, tmp_path / "quiet")
    b, _ = _fit(tiny_config, tmp_path / "live")
    assert comparable(a.history) == comparable(b.history)
    # 0 = only at the end: one refresh, for the final epoch, and still saved.
    assert [(e.split, e.epoch) for e in _ready(quiet_events)] == [("test", 2), ("train", 2)]
    assert RunDir(tmp_path / "quiet").predictions_path("train").is_file()


def test_viewer_interval_refreshes_every_n_epochs_and_at_the_end(tiny_config, tmp_path):
    tiny_config.train.epochs = 3
    tiny_config.train.viewer_interval = 2
    _, events = _fit(tiny_config, tmp_path / "run")
    assert [e.epoch for e in _ready(events, "train")] == [2, 3]
    assert [e.epoch for e in _ready(events, "test")] == [2, 3]


def test_held_out_predictions_are_only_sent_when_that_epoch_evaluated(tiny_config, tmp_path):
    tiny_config.train.epochs = 3
    tiny_config.train.eval_interval = 2
    _, events = _fit(tiny_config, tmp_path / "run")
    assert [e.epoch for e in _ready(events, "test")] == [2, 3]  # 3: the last epoch is always evaluated
    assert [e.epoch for e in _ready(events, "train")] == [1, 2, 3]


def test_stopping_skips_the_training_sample_evaluation(tiny_config, tmp_path):
    def stop_after_first_epoch(trainer, event):
        if isinstance(event, EpochEnd):
            trainer.stop()

    result, events = _fit(tiny_config, tmp_path / "run", stop_after_first_epoch)
    assert result.reason == "stopped"
    assert [(e.split, e.epoch) for e in _ready(events)] == [("test", 1)]
    assert RunDir(tmp_path / "run").predictions_path("test").is_file()
    assert not RunDir(tmp_path / "run").predictions_path("train").exists()


def test_a_failed_predictions_write_is_a_notice_not_a_crash(tiny_config, tmp_path, monkeypatch):
    def full_disk(self, path):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(PredictionSet, "save", full_disk)
    result, events = _fit(tiny_config, tmp_path / "run")
    assert result.reason == "completed" and isinstance(events[-1], Finished)
    notices = [e for e in events if isinstance(e, Notice) and e.kind == "predictions_not_saved"]
    assert len(notices) == 2
    assert "disk is full" in notices[0].message and "checkpoints are safe" in notices[0].message
    assert (tmp_path / "run" / "checkpoints" / "final.pt").is_file()


def test_event_to_dict_summarises_predictions(tiny_config, tmp_path):
    _, events = _fit(tiny_config, tmp_path / "run")
    row = event_to_dict(_ready(events, "train")[0])
    assert row == {"event": "PredictionsReady", "epoch": 1, "split": "train", "puzzles": 48, "complete": True}
    json.dumps(row)


def test_the_training_sample_is_stratified_and_seeded():
    patterns = np.array(["common"] * 95 + ["rare"] * 5)
    np.random.default_rng(1).shuffle(patterns)
    a = viewer_sample_indices(patterns, 8, seed=7)
    assert a.tolist() == viewer_sample_indices(patterns, 8, seed=7).tolist()
    assert a.tolist() != viewer_sample_indices(patterns, 8, seed=8).tolist()
    assert len(a) == len(set(a.tolist())) == 8 and a.tolist() == sorted(a.tolist())
    assert (patterns[a] == "rare").sum() == 4  # patterns take turns while both have puzzles left
    assert set(patterns[viewer_sample_indices(patterns, 2, seed=0)]) == {"common", "rare"}
    assert viewer_sample_indices(patterns, 1000, seed=0).tolist() == list(range(100))
    assert viewer_sample_indices(patterns[:0], 5, seed=0).tolist() == []
