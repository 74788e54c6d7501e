"""Following a growing metrics.jsonl: whole lines once each, a half-written line only when complete."""

from __future__ import annotations

import json
import os

from hrm_studio.runstore.follow import MetricsFollower, RunFollower


def _line(epoch: int) -> str:
    return json.dumps({"epoch": epoch, "loss": 1.0 / epoch}) + "\n"


def test_follower_skips_a_half_written_line_until_its_newline_arrives(tmp_path):
    path = tmp_path / "metrics.jsonl"
    follower = MetricsFollower(path)
    assert follower.read_new() == ([], False)          # no file yet
    path.write_text(_line(1) + _line(2)[:9])           # epoch 2 is half written
    rows, reset = follower.read_new()
    assert [r["epoch"] for r in rows] == [1] and not reset
    assert follower.read_new() == ([], False)          # nothing new: epoch 1 is not handed out again
    with open(path, "a") as handle:
        handle.write(_line(2)[9:-1])                   # still no newline
    assert follower.read_new() == ([], False)
    with open(path, "a") as handle:
        handle.write("\n" + _line(3))
    rows, _ = follower.read_new()
    assert [r["epoch"] for r in rows] == [2, 3]
    assert rows[0]["loss"] == 0.5


def test_follower_starts_over_when_the_file_is_rewritten(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text(_line(1) + _line(2) + _line(3))
    follower = MetricsFollower(path)
    assert len(follower.read_new()[0]) == 3
    # A resume from epoch 1 rewrites the file atomically (a new file in its place).
    tmp = tmp_path / "new.jsonl"
    tmp.write_text(_line(1))
    os.replace(tmp, path)
    rows, reset = follower.read_new()
    assert reset and [r["epoch"] for r in rows] == [1]


def test_run_follower_reports_the_state_from_status_json(tmp_path):
    (tmp_path / "status.json").write_text(json.dumps({"state": "running", "pid": os.getpid()}))
    (tmp_path / "metrics.jsonl").write_text(_line(1))
    follower = RunFollower(tmp_path)
    update = follower.poll()
    assert update.running and [r["epoch"] for r in update.rows] == [1]
    (tmp_path / "status.json").write_text(json.dumps({"state": "finished", "reason": "completed"}))
    with open(tmp_path / "metrics.jsonl", "a") as handle:
        handle.write(_line(2))
    update = follower.poll()
    assert update.state == "finished" and [r["epoch"] for r in update.rows] == [2]
