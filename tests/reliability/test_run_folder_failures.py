"""When the disk, the folder or the numbers go wrong mid-run: a clear message, nothing lost.

Full disk, an unwritable or vanished run folder, a NaN/inf loss or gradient and a crash
inside the trainer. Each test checks the message, that the last good checkpoint is byte
for byte what it was, and (where it applies) that the run then resumes to its end.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import shutil
import sys

import pytest
import torch

from hrm_studio.cli import main
from hrm_studio.model.losses import ACTLossHead
from hrm_studio.runs import read_run
from hrm_studio.events import CheckpointSaved, EpochEnd, Failed, Finished, Notice
from hrm_studio.runstore.run_dir import RunDir, RunFolderError
from hrm_studio.training.trainer import Trainer, TrainingError, comparable
from tests.reliability.helpers import TINY_ARGS, one_line_error, snapshot, tiny


@pytest.fixture(scope="module")
def straight3(tmp_path_factory):
    """History of an uninterrupted three-epoch tiny run: what every resumed run must reproduce."""
    return Trainer(tiny(3), tmp_path_factory.mktemp("straight") / "run").fit().history


def _keep_last_bytes(store: dict, run_path):
    def on_event(event):
        if isinstance(event, CheckpointSaved) and event.kind == "last":
            store[event.epoch] = (run_path / "checkpoints" / "last.pt").read_bytes()
    return on_event


# ------------------------------------------------------------------ unwritable folder

def test_a_run_folder_that_cannot_be_created_is_one_sentence(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for out in (blocker / "run", blocker):
        assert main(["train", *TINY_ARGS, "--out", str(out)]) == 2
        line = one_line_error(capsys.readouterr().err)
        assert f"Cannot write the run folder {out}" in line and "Pick a folder you can write to with --out" in line
    assert blocker.read_text() == "not a folder"


# ------------------------------------------------------------------ full disk

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds temp files via /proc")

def _disk_full_on(monkeypatch, name: str, epoch: int) -> None:
    """torch.save into `name`'s temp file at `epoch` writes a little, then the disk is full."""
    real = torch.save

    def save(obj, f, *args, **kwargs):
        target = os.readlink(f"/proc/self/fd/{f.fileno()}")  # the temp file beside `name`
        if f"/.{name}." in target and isinstance(obj, dict) and obj.get("epoch") == epoch:
            f.write(b"half a checkpoint" * 64)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save)


@linux_only
def test_a_full_disk_while_saving_keeps_the_previous_checkpoint_byte_for_byte(tmp_path, monkeypatch, straight3):
    run = tmp_path / "run"
    kept: dict[int, bytes] = {}
    events: list = []
    trainer = Trainer(tiny(3), run, lambda e: (events.append(e), _keep_last_bytes(kept, run)(e)))
    _disk_full_on(monkeypatch, "last.pt", epoch=2)
    with pytest.raises(RunFolderError) as info:
        trainer.fit()
    text = str(info.value)
    assert f"Could not write checkpoint {run / 'checkpoints' / 'last.pt'}: the disk is full" in text
    assert "No space left on device" in text and f"hrm-studio train --resume {run}" in text
    assert (run / "checkpoints" / "last.pt").read_bytes() == kept[1]
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.endswith(".tmp")]
    assert isinstance(events[-1], Failed) and events[-1].message == text
    assert RunDir(run).read_status()["state"] == "failed"
    assert [r["epoch"] for r in RunDir(run).read_history()] == [1, 2]  # the epoch itself was recorded
    monkeypatch.undo()  # space was freed
    again = Trainer(tiny(3), run)
    again.resume_from(run)
    assert comparable(again.fit().history) == comparable(straight3)


@linux_only
def test_a_full_disk_is_one_line_and_exit_2_in_the_cli(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    _disk_full_on(monkeypatch, "last.pt", epoch=2)
    assert main(["train", *TINY_ARGS, "--set", "epochs=3", "--out", str(run)]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "the disk is full" in line and "--resume" in line
    assert torch.load(run / "checkpoints" / "last.pt", weights_only=True)["epoch"] == 1


def test_a_full_disk_while_appending_metrics_is_reported_and_checkpoints_survive(tmp_path, monkeypatch):
    run = tmp_path / "run"
    kept: dict[int, bytes] = {}
    trainer = Trainer(tiny(3), run, _keep_last_bytes(kept, run))
    real = RunDir.append_metrics

    def append(self, row):
        if row["epoch"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, row)

    monkeypatch.setattr(RunDir, "append_metrics", append)
    with pytest.raises(RunFolderError, match=r"Could not write .*metrics\.jsonl: the disk is full"):
        trainer.fit()
    assert (run / "checkpoints" / "last.pt").read_bytes() == kept[1]
    assert [r["epoch"] for r in RunDir(run).read_history()] == [1]


# ------------------------------------------------------------------ vanished folder

@pytest.mark.parametrize("when", ["after-epoch-1", "after-start", "checkpoints-only"])
def test_a_run_folder_deleted_mid_run_is_written_again_and_the_run_goes_on(tmp_path, straight3, when):
    run = tmp_path / "run"
    events: list = []

    def on_event(event):
        events.append(event)
        gone = (when == "after-epoch-1" and isinstance(event, EpochEnd) and event.epoch == 1) or \
               (when == "after-start" and len(events) == 1) or \
               (when == "checkpoints-only" and isinstance(event, EpochEnd) and event.epoch == 2)
        if gone:
            shutil.rmtree(run / "checkpoints" if when == "checkpoints-only" else run)

    result = Trainer(tiny(3), run, on_event).fit()
    assert result.reason == "completed"
    notices = [e for e in events if isinstance(e, Notice)]
    assert len(notices) == 1 and notices[0].kind == "run_dir_recreated"
    assert "disappeared while training" in notices[0].message and str(run) in notices[0].message
    status = RunDir(run).read_status()
    assert status["state"] == "finished" and status["notices"] == [notices[0].message]
    assert json.loads((run / "config.json").read_text()) == tiny(3).to_dict()
    assert (run / "task.json").exists()
    assert [r["epoch"] for r in RunDir(run).read_history()] == [1, 2, 3]
    assert len(json.loads((run / "history.json").read_text())) == 3
    for kind in ("last", "final"):
        assert torch.load(run / "checkpoints" / f"{kind}.pt", weights_only=True)["epoch"] == 3
    assert comparable(result.history) == comparable(straight3)
    assert read_run(run).status == "finished"


def test_the_cli_says_so_when_the_run_folder_was_written_again(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    real = Trainer._emit

    def emit(self, event):
        real(self, event)
        if isinstance(event, EpochEnd) and event.epoch == 1:
            shutil.rmtree(run)

    monkeypatch.setattr(Trainer, "_emit", emit)
    assert main(["train", *TINY_ARGS, "--set", "epochs=2", "--quiet", "--out", str(run)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("note: The run folder") and "wrote it again" in err
    assert [r["epoch"] for r in RunDir(run).read_history()] == [1, 2]


# ------------------------------------------------------------------ NaN / inf

def _poison(monkeypatch, kind: str, from_epoch: int, trainer_box: dict) -> None:
    """From the first step of `from_epoch` on, make the loss (or the gradients) non-finite."""
    real = ACTLossHead.forward

    def forward(self, carry, batch):
        result = real(self, carry, batch)
        trainer = trainer_box.get("t")
        if not (self.training and torch.is_grad_enabled() and trainer is not None
                and trainer.state.epoch + 1 >= from_epoch):
            return result
        if kind == "loss":
            return dataclasses.replace(result, loss=result.loss * float("nan"))
        weight = self.model.inner.lm_head.weight  # finite loss, NaN gradient: d sqrt(x)/dx at 0
        return dataclasses.replace(result, loss=result.loss + 0.0 * torch.sqrt(weight.sum() * 0.0))

    monkeypatch.setattr(ACTLossHead, "forward", forward)


@pytest.mark.parametrize("kind, words", [("loss", "The loss became nan in epoch 3"),
                                         ("gradient", "The gradients became NaN or infinite in epoch 3")])
def test_nan_stops_before_the_bad_update_and_keeps_the_last_finite_checkpoint(tmp_path, monkeypatch, straight3,
                                                                             kind, words):
    run = tmp_path / "run"
    kept: dict[int, bytes] = {}
    box: dict = {}
    trainer = Trainer(tiny(4), run, _keep_last_bytes(kept, run))
    box["t"] = trainer
    _poison(monkeypatch, kind, 3, box)
    with pytest.raises(TrainingError) as info:
        trainer.fit()
    text = str(info.value)
    assert text.startswith(words) and "training stopped before that update was applied" in text
    assert f"the last complete epoch (2) is kept in {run / 'checkpoints' / 'last.pt'}" in text
    assert f"hrm-studio train --resume {run} --set lr=0.00025" in text
    # last.pt is untouched, and the weights in memory never took the bad step.
    assert (run / "checkpoints" / "last.pt").read_bytes() == kept[2]
    saved = torch.load(run / "checkpoints" / "last.pt", weights_only=True)["model"]
    live = trainer.head.model.state_dict()
    assert all(torch.equal(saved[k], live[k]) for k in saved)
    assert all(torch.isfinite(v).all() for v in live.values() if v.is_floating_point())
    assert not (run / "checkpoints" / "final.pt").exists()
    status = RunDir(run).read_status()
    assert status["state"] == "failed" and status["message"] == text
    assert [r["epoch"] for r in RunDir(run).read_history()] == [1, 2]
    monkeypatch.undo()
    again = Trainer(tiny(3), run)
    again.resume_from(run)
    assert comparable(again.fit().history) == comparable(straight3)


def test_nan_is_one_sentence_and_exit_2_in_the_cli(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    box: dict = {}
    real_init = Trainer.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        box["t"] = self

    monkeypatch.setattr(Trainer, "__init__", init)
    _poison(monkeypatch, "loss", 2, box)
    assert main(["train", *TINY_ARGS, "--set", "epochs=3", "--quiet", "--out", str(run)]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "The loss became nan in epoch 2" in line and f"--resume {run}" in line
    _poison(monkeypatch, "loss", 1, box)
    assert main(["train", *TINY_ARGS, "--set", "epochs=3", "--quiet", "--out", str(tmp_path / "r1")]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "in epoch 1" in line and "no epoch had finished, so start again with a lower learning rate" in line


# ------------------------------------------------------------------ crash inside the trainer

def test_a_crash_inside_training_keeps_history_and_the_last_checkpoint(tmp_path, monkeypatch, straight3):
    from hrm_studio.training import trainer as trainer_module

    run = tmp_path / "run"
    kept: dict[int, bytes] = {}
    events: list = []
    real = trainer_module.evaluate
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("injected failure")
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "evaluate", flaky)
    # viewer_interval=0: only held-out evaluations until the last epoch, so call 3 is epoch 3's
    trainer = Trainer(tiny(3, viewer_interval=0), run, lambda e: (events.append(e), _keep_last_bytes(kept, run)(e)))
    with pytest.raises(RuntimeError, match="injected"):
        trainer.fit()
    assert isinstance(events[-1], Failed) and "injected failure" in events[-1].message
    assert RunDir(run).read_status()["state"] == "failed"
    assert read_run(run).status == "failed"
    assert [r["epoch"] for r in RunDir(run).read_history()] == [1, 2]
    assert (run / "checkpoints" / "last.pt").read_bytes() == kept[2]
    monkeypatch.undo()
    again = Trainer(tiny(3), run)
    again.resume_from(run)
    finished = again.fit()
    assert comparable(finished.history) == comparable(straight3)
    assert isinstance(finished, object) and not any(isinstance(e, Finished) for e in events)
    assert snapshot(run)  # the folder is whole and readable
