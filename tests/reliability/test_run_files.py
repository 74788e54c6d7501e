"""What is written when: atomic files, last.pt every epoch, the status naming its writer,
a history that survives a half-written line, and `--resume` taking a run folder."""

from __future__ import annotations

import json
import os
import socket

import pytest
import torch

from hrm_studio.cli import main
from hrm_studio.errors import CheckpointError
from hrm_studio.runstore import atomic
from hrm_studio.events import CheckpointSaved, EpochEnd, Progress
from hrm_studio.runstore.owner import this_process
from hrm_studio.runstore.run_dir import RunDir, read_metrics_lines, resolve_resume
from hrm_studio.training.trainer import Trainer, comparable
from tests.reliability.helpers import one_line_error, snapshot, tiny


def test_atomic_write_syncs_the_folder_after_the_rename(tmp_path, monkeypatch):
    target = tmp_path / "f.json"
    target.write_text("old")
    seen = []
    monkeypatch.setattr(atomic, "fsync_dir", lambda folder: seen.append((folder, target.read_text())))
    atomic.atomic_write_text(target, "new")
    assert seen == [(tmp_path, "new")]  # synced once, after the new file took the old one's place


def test_a_failed_atomic_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "f.json"
    target.write_text("old")

    def write(handle):
        handle.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic.atomic_write(target, write)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_read_history_skips_a_half_written_last_line_and_garbage(tmp_path):
    run = RunDir(tmp_path).create()
    rows = [{"epoch": 1, "loss": 1.0}, {"epoch": 2, "loss": 0.5}]
    text = "".join(json.dumps(r) + "\n" for r in rows)
    run.metrics_path.write_text(text + '{"epoch": 3, "lo')
    assert run.read_history() == rows
    run.metrics_path.write_text(text + "\x00\x00\x00\n[1, 2]\n7\n" + '{"epoch": 3}\n')
    assert [r["epoch"] for r in run.read_history()] == [1, 2, 3]
    assert read_metrics_lines("") == []


def test_last_pt_holds_the_start_and_every_finished_epoch_as_it_ends(tmp_path):
    run = tmp_path / "run"
    seen = []

    def on_event(event):
        if isinstance(event, CheckpointSaved) and event.kind == "last":
            payload = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
            seen.append((event.epoch, payload["epoch"], len(payload["history"]),
                         len(RunDir(run).read_history())))

    Trainer(tiny(3), run, on_event).fit()
    assert seen == [(0, 0, 0, 0), (1, 1, 1, 1), (2, 2, 2, 2), (3, 3, 3, 3)]  # epoch 0: the starting point
    assert {p.name for p in (run / "checkpoints").iterdir()} == {"last.pt", "best.pt", "final.pt"}


def test_the_status_names_the_writing_process_while_running(tmp_path):
    run = tmp_path / "run"
    during = []

    def on_event(event):
        if isinstance(event, EpochEnd):
            during.append(RunDir(run).read_status())

    Trainer(tiny(2), run, on_event).fit()
    me = this_process()
    for status in during:
        assert status["state"] == "running"
        assert (status["pid"], status["host"], status["pid_started"]) == (me["pid"], socket.gethostname(),
                                                                          me["pid_started"])
        assert status["epochs"] == 2 and status["created"] > 0
    assert [s["epoch"] for s in during] == [1, 2]
    after = RunDir(run).read_status()
    assert after["state"] == "finished" and "pid" not in after
    assert after["created"] == during[0]["created"]


def test_resume_accepts_a_run_folder_and_prefers_last_pt(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text("{}")
    with pytest.raises(CheckpointError, match="has no checkpoint to resume yet"):
        resolve_resume(run)
    (run / "checkpoints" / "final.pt").write_bytes(b"x")
    assert resolve_resume(run) == run / "checkpoints" / "final.pt"
    (run / "checkpoints" / "last.pt").write_bytes(b"x")
    assert resolve_resume(run) == run / "checkpoints" / "last.pt"
    assert resolve_resume(run / "checkpoints") == run / "checkpoints" / "last.pt"
    assert resolve_resume(run / "checkpoints" / "final.pt") == run / "checkpoints" / "final.pt"
    (tmp_path / "photos").mkdir()
    with pytest.raises(CheckpointError, match="not an HRM Studio run folder"):
        resolve_resume(tmp_path / "photos")


def test_a_run_stopped_mid_epoch_resumes_from_its_folder_to_the_same_end(tmp_path):
    """final.pt of a run stopped inside an epoch holds half an epoch; the folder resumes from last.pt."""
    straight = Trainer(tiny(4), tmp_path / "straight").fit().history
    run = tmp_path / "run"
    box = {}

    def on_event(event):
        if isinstance(event, Progress) and event.epoch == 3:
            box["t"].stop()

    box["t"] = Trainer(tiny(4), run, on_event)
    assert box["t"].fit().reason == "stopped"
    assert torch.load(run / "checkpoints" / "last.pt", weights_only=True)["epoch"] == 2
    again = Trainer(tiny(4), run)
    again.resume_from(run)
    assert comparable(again.fit().history) == comparable(straight)


def test_the_cli_resumes_a_run_folder(finished_run, capsys):
    assert main(["train", "--resume", str(finished_run), "--set", "epochs=3"]) == 0
    out = capsys.readouterr().out
    assert "epoch   3/3" in out and "epoch   2/" not in out
    assert [r["epoch"] for r in RunDir(finished_run).read_history()] == [1, 2, 3]


def test_the_cli_explains_a_folder_with_nothing_to_resume(tmp_path, capsys):
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "run" / "config.json").write_text("{}")
    before = snapshot(tmp_path / "run")
    assert main(["train", "--resume", str(tmp_path / "run")]) == 2
    assert "has no checkpoint to resume yet" in one_line_error(capsys.readouterr().err)
    assert snapshot(tmp_path / "run") == before


def test_temp_files_left_by_a_killed_writer_are_cleaned_up_on_resume(finished_run):
    stray = [finished_run / "checkpoints" / ".last.pt.abc123.tmp", finished_run / ".history.json.x1.tmp"]
    for path in stray:
        path.write_bytes(b"half")
    keep = finished_run / "checkpoints" / "mine.tmp"  # not ours: never touched
    keep.write_bytes(b"keep")
    trainer = Trainer(tiny(3), finished_run)
    trainer.resume_from(finished_run)
    trainer.fit()
    assert not any(p.exists() for p in stray) and keep.exists()


def test_the_test_write_delay_leaves_a_temp_file_visible_mid_write(tmp_path, monkeypatch):
    """The hook the kill test relies on: while it pauses, the temp file exists and the target is old."""
    import threading

    target = tmp_path / "f.txt"
    target.write_text("old")
    monkeypatch.setenv(atomic.TEST_DELAY_ENV, "0.3")
    writer = threading.Thread(target=atomic.atomic_write_text, args=(target, "new"))
    writer.start()
    for _ in range(200):
        temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        if temps:
            break
        writer.join(0.01)
    assert temps and target.read_text() == "old"
    writer.join()
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["f.txt"]
