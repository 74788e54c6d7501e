"""RunWriter: every write of a training run's folder, a vanished folder written again and the
write retried, and a failed write told in one sentence that overwrites nothing."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hrm_studio.runstore.atomic import atomic_write
from hrm_studio.runstore.keys import CheckpointKind, RunState
from hrm_studio.runstore.run_dir import RunDir, RunFolderError
from hrm_studio.runstore.writer import RunSnapshot, RunWriter


class Run:
    """What a trainer holds: the writer reads it through `snapshot`."""

    def __init__(self) -> None:
        self.history: list[dict] = []
        self.notices: list[tuple[str, str]] = []

    def snapshot(self) -> RunSnapshot:
        return RunSnapshot(config={"train": {"epochs": 3}}, task={"name": "copy"}, history=self.history,
                           epoch=len(self.history), epochs=3, best=None)

    def epoch(self, writer: RunWriter, n: int) -> None:
        row = {"epoch": n, "loss": 1.0 / n}
        self.history.append(row)
        writer.record_epoch(row)


def _open(path: Path, run: Run, **kwargs) -> RunWriter:
    writer = RunWriter.open(path, "copy", run.snapshot, resuming=False,
                            on_notice=lambda kind, message: run.notices.append((kind, message)), **kwargs)
    writer.start()
    return writer


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _save(writer: RunWriter, kind: CheckpointKind, text: str) -> Path:
    return writer.save_checkpoint(kind, lambda path: atomic_write(path, lambda h: h.write(text.encode())))


def test_a_run_writes_settings_history_status_and_checkpoints(tmp_path):
    run = Run()
    writer = _open(tmp_path / "run", run)
    folder = RunDir(tmp_path / "run")
    assert folder.read_config() == {"train": {"epochs": 3}} and folder.read_task() == {"name": "copy"}
    status = folder.read_status()
    assert status["state"] == "running" and status["pid"] == os.getpid()
    run.epoch(writer, 1)
    run.epoch(writer, 2)
    assert _save(writer, CheckpointKind.LAST, "two") == folder.checkpoint(CheckpointKind.LAST)
    writer.finish(RunState.FINISHED, reason="completed")
    assert [r["epoch"] for r in folder.read_history()] == [1, 2]
    assert json.loads(folder.history_path.read_text()) == run.history
    status = folder.read_status()
    assert status["state"] == "finished" and status["reason"] == "completed" and status["epoch"] == 2
    assert "pid" not in status and run.notices == []


def test_a_new_run_without_a_folder_claims_one_in_the_user_data_folder(tmp_path):
    writer = RunWriter.open(None, "copy", Run().snapshot, resuming=False)
    assert writer.run.path.is_dir() and writer.run.path.name.startswith("copy-")


def test_a_vanished_folder_is_written_again_and_the_write_retried(tmp_path):
    run = Run()
    writer = _open(tmp_path / "run", run)
    run.epoch(writer, 1)
    shutil.rmtree(tmp_path / "run")
    run.epoch(writer, 2)
    folder = RunDir(tmp_path / "run")
    assert [r["epoch"] for r in folder.read_history()] == [1, 2]
    assert folder.read_config() == {"train": {"epochs": 3}}
    assert [kind for kind, _ in run.notices] == ["run_dir_recreated"]
    message = run.notices[0][1]
    assert "\n" not in message and "disappeared while training" in message and "up to epoch 2" in message
    assert folder.read_status()["notices"] == [message]  # a reader of the folder sees it too

    # Vanished between the check and the write: written again, then the write is retried once.
    calls = []

    def write(path: Path) -> None:
        calls.append(path)
        if len(calls) == 1:
            shutil.rmtree(tmp_path / "run")
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))
        atomic_write(path, lambda h: h.write(b"last"))

    target = writer.save_checkpoint(CheckpointKind.LAST, write)
    assert len(calls) == 2 and target.read_bytes() == b"last"
    assert len(run.notices) == 2 and [r["epoch"] for r in folder.read_history()] == [1, 2]


def test_a_failed_write_is_one_sentence_and_overwrites_nothing(tmp_path):
    run = Run()
    writer = _open(tmp_path / "run", run)
    run.epoch(writer, 1)
    last = _save(writer, CheckpointKind.LAST, "epoch one")
    before = _files(tmp_path / "run")

    def disk_full(handle) -> None:
        handle.write(b"half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(RunFolderError) as info:
        writer.save_checkpoint(CheckpointKind.LAST, lambda path: atomic_write(path, disk_full))
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"Could not write {last}: the disk is full (No space left on device).")
    assert "Checkpoints already saved are unchanged" in text
    assert text.endswith(f"continue with: hrm-studio train --resume {tmp_path / 'run'}")
    assert _files(tmp_path / "run") == before  # the previous checkpoint whole, no temp file left
    assert run.notices == []


def test_a_failure_before_any_checkpoint_says_to_start_again(tmp_path):
    writer = _open(tmp_path / "run", Run())

    def read_only() -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    with pytest.raises(RunFolderError) as info:
        writer.persist(writer.run.history_path, read_only)
    assert str(info.value) == (f"Could not write {writer.run.history_path}: the disk is read-only (Read-only file "
                               f"system). No checkpoint had been saved yet; free some space (or fix the folder) "
                               f"and start the run again.")


def test_an_optional_write_says_why_instead_of_raising(tmp_path):
    writer = _open(tmp_path / "run", Run())
    target = writer.run.predictions_path("test")

    def full() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    assert writer.try_persist(target, full) == f"Could not write {target}: the disk is full (No space left on device)."
    assert writer.try_persist(target, lambda: target.parent.mkdir(parents=True)) is None


def test_failing_a_run_whose_folder_cannot_be_written_raises_nothing(tmp_path, monkeypatch):
    writer = _open(tmp_path / "run", Run())

    def unwritable(*args, **kwargs):
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(RunDir, "write_status", unwritable)
    writer.fail("The loss became nan.")  # the failure itself is reported by the caller


def test_a_folder_another_live_process_writes_is_refused(tmp_path):
    folder = RunDir(tmp_path / "run").create()
    folder.write_status("running", pid=os.getppid())  # alive, and not this process
    before = _files(folder.path)
    with pytest.raises(RunFolderError, match=f"being written by another HRM Studio process \\(pid {os.getppid()}\\)"):
        RunWriter.open(folder.path, "copy", Run().snapshot, resuming=True)
    assert _files(folder.path) == before


def test_a_resumed_run_keeps_its_creation_time(tmp_path):
    folder = RunDir(tmp_path / "run").create()
    folder.write_status("stopped", created=1234.5)
    assert RunWriter.open(folder.path, "copy", Run().snapshot, resuming=True).created == 1234.5
    assert RunWriter.open(folder.path, "copy", Run().snapshot, resuming=False).created != 1234.5


def test_the_writer_imports_no_torch():
    code = "import sys, hrm_studio.runstore.writer; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
