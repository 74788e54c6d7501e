"""An --out that holds earlier results is never written over: refused in one line, or moved aside."""

from __future__ import annotations

import json
import shutil

import pytest

from hrm_studio.cli import main
from tests.cli.conftest import checksums


@pytest.fixture
def old_run(tiny_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(tiny_run, copy)
    return copy


def test_train_onto_a_finished_run_is_refused_and_leaves_it_byte_identical(old_run, tiny_settings, capsys):
    before = checksums(old_run)
    assert main(["train", "--config", str(tiny_settings), "--set", "epochs=1", "--out", str(old_run)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "already holds a run" in err
    assert "--resume" in err and "--overwrite" in err
    assert checksums(old_run) == before


def test_overwrite_moves_the_old_run_aside_and_trains_afresh(old_run, tiny_settings, capsys):
    before = checksums(old_run)
    (old_run.parent / "run.old-1").mkdir()  # taken: the first free N is used
    assert main(["train", "--config", str(tiny_settings), "--set", "epochs=1", "--quiet", "--overwrite",
                 "--out", str(old_run)]) == 0
    aside = old_run.parent / "run.old-2"
    assert f"aside to {aside}" in capsys.readouterr().out
    assert checksums(aside) == before
    assert len(json.loads((old_run / "history.json").read_text())) == 1


def test_resuming_a_run_into_its_own_folder_is_not_overwriting(old_run, capsys):
    assert main(["train", "--resume", str(old_run), "--out", str(old_run), "--set", "epochs=2", "--quiet"]) == 0
    assert len(json.loads((old_run / "history.json").read_text())) == 2
    assert not (old_run.parent / "run.old-1").exists()


def test_sweep_onto_an_earlier_sweep_is_refused_unless_overwrite(tmp_path, tiny_settings, capsys):
    out = tmp_path / "sweep"
    out.mkdir()
    (out / "sweep.json").write_text('{"earlier": true}\n')
    argv = ["sweep", "--config", str(tiny_settings), "--set", "epochs=1", "--grid", "lr=1e-3", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--overwrite" in err
    assert (out / "sweep.json").read_text() == '{"earlier": true}\n'
    assert main([*argv, "--overwrite"]) == 0
    assert (tmp_path / "sweep.old-1" / "sweep.json").read_text() == '{"earlier": true}\n'
    assert json.loads((out / "sweep.json").read_text())["state"] == "finished"


def test_an_official_export_does_not_replace_another_checkpoints_config(tiny_run, tmp_path, capsys):
    folder = tmp_path / "official"
    folder.mkdir()
    (folder / "step_999").write_bytes(b"someone else's weights")
    (folder / "all_config.yaml").write_text("theirs\n")
    final = str(tiny_run / "checkpoints" / "final.pt")
    assert main(["export", final, "--format", "hrm", "--out", str(folder)]) == 2
    assert "step_999" in capsys.readouterr().err
    assert (folder / "all_config.yaml").read_text() == "theirs\n"
    # Its own earlier export, and unrelated files, are fine: only what it writes is replaced.
    (folder / "step_999").unlink()
    (folder / "notes.txt").write_text("mine\n")
    assert main(["export", final, "--format", "hrm", "--out", str(folder)]) == 0
    assert main(["export", final, "--format", "hrm", "--out", str(folder)]) == 0
    assert (folder / "notes.txt").read_text() == "mine\n"


def test_a_safetensors_export_does_not_replace_a_json_nobody_named(tiny_run, tmp_path, capsys):
    (tmp_path / "model.json").write_text("unrelated\n")
    final = str(tiny_run / "checkpoints" / "final.pt")
    assert main(["export", final, "--format", "safetensors", "--out", str(tmp_path / "model.safetensors")]) == 2
    assert "model.json already exists" in capsys.readouterr().err
    assert (tmp_path / "model.json").read_text() == "unrelated\n"
