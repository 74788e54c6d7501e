"""hrm_studio.runs: list runs with their state, tell an interrupted run from a running one."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time

import pytest

from hrm_studio.runs import find_unfinished, list_runs, read_run
from hrm_studio.events import EpochEnd
from hrm_studio.runstore.owner import _start_ticks, this_process, writer_alive
from hrm_studio.runstore.run_dir import RunDir, RunFolderError
from hrm_studio.training.trainer import Trainer
from tests.reliability.helpers import tiny


def _dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def _set_status(run, **status) -> None:
    (run / "status.json").write_text(json.dumps(status))


def test_a_finished_run_is_summarised(finished_run):
    info = read_run(finished_run)
    history = RunDir(finished_run).read_history()
    assert (info.name, info.task, info.status, info.reason) == ("run", "copy-increment", "finished", "completed")
    assert info.epochs_done == info.epochs == 2
    assert info.best_exact == max(r["val_exact_match_accuracy"] for r in history)
    assert info.wall_seconds == history[-1]["wall_seconds"]
    assert info.created and info.created <= info.modified + 1
    assert info.resume_checkpoint == finished_run / "checkpoints" / "last.pt" and info.pid is None
    assert not info.unfinished


def test_running_interrupted_and_the_rest(finished_run, tmp_path):
    import shutil

    root = tmp_path / "root"
    root.mkdir()
    states = {}
    for name in ("running", "killed", "reused-pid", "other-host", "no-status", "stopped", "failed"):
        shutil.copytree(finished_run, root / name)
    me = this_process()
    _set_status(root / "running", state="running", **me)
    _set_status(root / "killed", state="running", pid=_dead_pid(), host=socket.gethostname())
    _set_status(root / "reused-pid", state="running", pid=me["pid"], host=me["host"],
                pid_started=(me["pid_started"] or 0) + 12345)
    _set_status(root / "other-host", state="running", pid=1, host="some-other-machine")
    (root / "no-status" / "status.json").unlink()
    _set_status(root / "stopped", state="stopped", reason="stopped")
    _set_status(root / "failed", state="failed", message="The loss became nan in epoch 3 …")
    (root / "not-a-run").mkdir()
    (root / "damaged").mkdir()
    (root / "damaged" / "config.json").write_text("{half")
    (root / "a-file").write_text("x")
    for info in list_runs(root):
        states[info.name] = info.status
    expected = {"running": "running", "killed": "interrupted", "no-status": "interrupted",
                "stopped": "stopped", "failed": "failed", "other-host": "running"}
    if sys.platform.startswith("linux"):
        expected["reused-pid"] = "interrupted"  # the start time tells a reused pid (Linux)
    else:
        states.pop("reused-pid")
    assert states == expected
    assert read_run(root / "failed").message.startswith("The loss became nan")
    assert read_run(root / "running").pid == me["pid"]
    assert {r.name for r in find_unfinished(root)} == {"killed", "no-status"} | (
        {"reused-pid"} if sys.platform.startswith("linux") else set())
    assert list_runs(tmp_path / "missing") == []


def test_a_live_training_is_running_then_finished(tmp_path):
    root = tmp_path / "root"
    run = root / "live"
    seen = []
    release = threading.Event()

    def on_event(event):
        if isinstance(event, EpochEnd) and event.epoch == 1:
            seen.append(read_run(run))
            release.wait(30)

    worker = threading.Thread(target=Trainer(tiny(2), run, on_event).fit)
    worker.start()
    for _ in range(600):
        if seen:
            break
        time.sleep(0.05)
    assert seen and seen[0].status == "running" and seen[0].epochs_done == 1
    assert find_unfinished(root) == []  # running is not "unfinished": never offered while it trains
    release.set()
    worker.join(60)
    assert read_run(run).status == "finished"


def test_the_default_root_is_the_user_runs_folder(tmp_path):
    trainer = Trainer(tiny(1))  # no folder: the user data folder (isolated by tests/conftest.py)
    trainer.fit()
    names = [r.name for r in list_runs()]
    assert trainer.run_dir.path.name in names


def test_a_run_folder_another_live_process_writes_is_refused(finished_run):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for _ in range(100):  # its /proc entry is there at once, its start time too
            if _start_ticks(sleeper.pid) is not None or not sys.platform.startswith("linux"):
                break
            time.sleep(0.01)
        status = {"state": "running", "pid": sleeper.pid, "host": socket.gethostname(),
                  "pid_started": _start_ticks(sleeper.pid)}
        _set_status(finished_run, **status)
        assert writer_alive(status) is True
        trainer = Trainer(tiny(3), finished_run)
        trainer.resume_from(finished_run)
        with pytest.raises(RunFolderError, match=f"being written by another HRM Studio process \\(pid {sleeper.pid}\\)"):
            trainer.fit()
        assert read_run(finished_run).status == "running"
    finally:
        sleeper.kill()
        sleeper.wait()
    assert read_run(finished_run).status == "interrupted"


def test_runs_imports_neither_qt_nor_torch():
    code = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'torch'):
            raise ImportError('blocked in this test: ' + name)
sys.meta_path.insert(0, Block())
import hrm_studio.runs, hrm_studio.config, hrm_studio.runstore.owner
from hrm_studio.runs import list_runs, find_unfinished
list_runs('/nonexistent'); find_unfinished('/nonexistent')
from hrm_studio.config import RunConfig
from hrm_studio.costs import estimate_training_memory, available_memory_bytes
estimate_training_memory(RunConfig(), seq_len=36, vocab_size=12, num_puzzle_identifiers=3, train_size=10, test_size=2)
print('FREE OK')
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "FREE OK" in done.stdout


def test_the_gui_can_offer_and_continue_an_interrupted_run(finished_run, tmp_path):
    """What the window does on start: find_unfinished(), then Trainer.resuming(info.path).fit()."""
    import shutil

    root = tmp_path / "root"
    root.mkdir()
    shutil.copytree(finished_run, root / "crashed")
    _set_status(root / "crashed", state="running", pid=_dead_pid(), host=socket.gethostname())
    (offer,) = find_unfinished(root)
    assert offer.name == "crashed" and offer.epochs_done == 2
    trainer = Trainer.resuming(offer.path, epochs=3)
    result = trainer.fit()
    assert [r["epoch"] for r in result.history] == [1, 2, 3] and result.run_dir == offer.path
    assert find_unfinished(root) == [] and read_run(offer.path).status == "finished"
