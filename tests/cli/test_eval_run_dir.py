"""`eval RUN_DIR` scores the run's best checkpoint; a lone exported .safetensors evaluates with no --task."""

from __future__ import annotations

import json
import shutil

from hrm_studio.cli import main


def _scores(capsys, *argv: str) -> tuple[dict, str]:
    capsys.readouterr()
    assert main(["eval", *argv, "--json"]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def test_a_run_folder_is_scored_by_its_best_checkpoint(tiny_run, capsys):
    report, said = _scores(capsys, str(tiny_run))
    best = tiny_run / "checkpoints" / "best.pt"
    assert report["checkpoint"] == str(best)
    assert "scoring its best checkpoint" in said
    direct, _ = _scores(capsys, str(best))
    assert report["exact_match_accuracy"] == direct["exact_match_accuracy"] and report["loss"] == direct["loss"]


def test_without_a_best_checkpoint_the_final_one_is_scored_and_named(tiny_run, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(tiny_run, copy)
    (copy / "checkpoints" / "best.pt").unlink()
    assert main(["eval", str(copy)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{copy} is a run folder: scoring its final checkpoint (it has no best one)")


def test_a_lone_safetensors_reads_the_settings_inside_it(tiny_run, tmp_path, capsys):
    exported = tmp_path / "export" / "model.safetensors"
    final = str(tiny_run / "checkpoints" / "final.pt")
    assert main(["export", final, "--format", "safetensors", "--out", str(exported)]) == 0
    lone = tmp_path / "alone" / "model.safetensors"
    lone.parent.mkdir()
    shutil.move(exported, lone)   # without the model.json written beside it
    report, _ = _scores(capsys, str(lone))   # no --task: the file says which puzzles
    original, _ = _scores(capsys, final)
    assert report["puzzles"] == original["puzzles"]
    assert report["exact_match_accuracy"] == original["exact_match_accuracy"]
