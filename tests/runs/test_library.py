"""The run library without Qt: which folders count, the cache, rename and delete rules."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hrm_studio.errors import UserError
from hrm_studio.runs.library import check_name, deletion_question, rename_run, scan_library, trash_run


def make_run(folder: Path, state: str = "finished", epochs: int = 2, **config: object) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"data": {"task": "copy-increment"},
                                                    "train": {"epochs": epochs, **config}}))
    (folder / "metrics.jsonl").write_text("".join(json.dumps({"epoch": e, "val_exact_match_accuracy": e / 10})
                                                  + "\n" for e in range(1, epochs + 1)))
    status = {"state": state, "pid": os.getpid()} if state == "running" else {"state": state}
    (folder / "status.json").write_text(json.dumps(status))
    return folder


def test_scan_finds_runs_added_folders_and_sweep_members_once(tmp_path):
    root = tmp_path / "runs"
    make_run(root / "a")
    make_run(root / "sweep-1" / "run-000")
    (root / "sweep-1" / "sweep.json").write_text("{}")
    (root / "not-a-run").mkdir()
    elsewhere = make_run(tmp_path / "elsewhere" / "b")
    scan = scan_library(root, [elsewhere, root / "a", tmp_path / "elsewhere"])
    assert sorted(r.name for r in scan.runs) == ["a", "b", "run-000"]
    assert scan.read == 3


def test_scan_reads_again_only_changed_or_running_runs(tmp_path):
    root = tmp_path / "runs"
    make_run(root / "done")
    make_run(root / "live", state="running")
    first = scan_library(root)
    again = scan_library(root, cache=first.cache)
    assert again.read == 1            # only the running one
    with open(root / "done" / "metrics.jsonl", "a") as handle:
        handle.write(json.dumps({"epoch": 3, "val_exact_match_accuracy": 0.9}) + "\n")
    third = scan_library(root, cache=again.cache)
    assert third.read == 2
    assert next(r for r in third.runs if r.name == "done").best_exact == 0.9


def test_rename_and_delete_refuse_a_running_run_and_a_taken_name(tmp_path):
    live = make_run(tmp_path / "live", state="running")
    done = make_run(tmp_path / "done")
    make_run(tmp_path / "taken")
    with pytest.raises(UserError, match="still training"):
        rename_run(live, "other")
    moved: list[Path] = []

    def mover(path: Path) -> str | None:
        moved.append(path)
        return f"/trash/{path.name}"
    with pytest.raises(UserError, match="still training"):
        trash_run(live, mover)
    with pytest.raises(UserError, match="already a folder called taken"):
        rename_run(done, "taken")
    with pytest.raises(UserError):
        rename_run(done, "a/b")
    assert check_name("ok name-1") is None and check_name("") and check_name(".hidden")
    new = rename_run(done, "renamed")
    assert new == tmp_path / "renamed" and (new / "config.json").exists() and not done.exists()
    question = deletion_question([new])
    assert str(new) in question and "bytes" in question and "trash" in question
    assert trash_run(new, mover) == "/trash/renamed" and moved == [new]
    with pytest.raises(UserError, match="not an HRM Studio run folder"):
        trash_run(tmp_path, mover)
    kept = make_run(tmp_path / "kept")
    with pytest.raises(UserError, match="could not be moved to the trash.*Nothing was deleted"):
        trash_run(kept, lambda path: None)   # no trash here: the folder stays, nothing is deleted
    assert moved == [new] and (kept / "config.json").exists() and live.exists()


def test_run_library_modules_import_without_qt():
    import subprocess
    import sys

    code = ("import sys, importlib.abc\n"
            "class Block(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path, target=None):\n"
            "        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'torch'):\n"
            "            raise ImportError(name)\n"
            "sys.meta_path.insert(0, Block())\n"
            "import hrm_studio.runs.library, hrm_studio.runstore.follow, hrm_studio.runs.compare\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
