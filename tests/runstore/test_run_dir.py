"""RunDir: the one place the run folder's layout is spelled, and what readers ask of it."""

from __future__ import annotations

import json
import os

from hrm_studio.runstore.keys import CheckpointKind, HistoryKey, RunState
from hrm_studio.runstore.run_dir import RunDir


def _run(tmp_path, *checkpoints: str) -> RunDir:
    run = RunDir(tmp_path / "run").create()
    run.write_config({"model": {}, "data": {}, "train": {}})
    for kind in checkpoints:
        run.checkpoint(kind).write_bytes(b"x")
    return run


def test_a_folder_with_a_config_holds_a_run_and_a_checkpoint_knows_its_run(tmp_path):
    run = _run(tmp_path, CheckpointKind.LAST)
    assert RunDir.holds_run(run.path) and not RunDir.holds_run(tmp_path)
    assert RunDir.of_checkpoint(run.checkpoint(CheckpointKind.LAST)) == RunDir(run.path.resolve())
    loose = tmp_path / "loose.pt"
    loose.write_bytes(b"x")
    assert RunDir.of_checkpoint(loose) is None


def test_checkpoints_are_found_newest_first_and_resume_from_the_last_whole_epoch(tmp_path):
    run = _run(tmp_path, CheckpointKind.BEST)
    assert run.existing_checkpoint() == run.checkpoint(CheckpointKind.BEST)
    assert run.resume_checkpoint() is None  # best alone is not where the run got to
    run.checkpoint(CheckpointKind.FINAL).write_bytes(b"x")
    run.checkpoint(CheckpointKind.LAST).write_bytes(b"x")
    assert run.existing_checkpoint() == run.checkpoint(CheckpointKind.FINAL)
    assert run.resume_checkpoint() == run.checkpoint(CheckpointKind.LAST)


def test_task_reads_as_a_dict_or_none(tmp_path):
    run = _run(tmp_path)
    assert run.read_task() is None
    run.write_task({"pattern_names": ["copy"]})
    assert run.read_task() == {"pattern_names": ["copy"]}
    run.task_path.write_text("[1, 2")
    assert run.read_task() is None


def test_state_names_are_written_as_plain_strings_and_a_dead_writer_reads_interrupted(tmp_path):
    run = _run(tmp_path)
    run.write_status(RunState.FINISHED)
    assert json.loads(run.status_path.read_text())["state"] == "finished"
    assert run.state() is RunState.FINISHED
    run.write_status(RunState.RUNNING, pid=os.getpid(), host=os.uname().nodename)
    assert run.state() is RunState.RUNNING
    run.write_status(RunState.RUNNING, pid=2**22 + 12345, host=os.uname().nodename)
    assert run.state() is RunState.INTERRUPTED
    run.status_path.write_text("{broken")
    assert run.state() is RunState.INTERRUPTED


def test_history_keys_are_the_strings_files_hold(tmp_path):
    run = _run(tmp_path)
    run.append_metrics({HistoryKey.EPOCH: 1, HistoryKey.VAL_EXACT: 0.5})
    assert run.read_history() == [{"epoch": 1, "val_exact_match_accuracy": 0.5}]
