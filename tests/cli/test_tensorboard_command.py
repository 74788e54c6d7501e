"""`hrm-studio export-tensorboard RUN… --out DIR`: the command writes what TensorBoard's reader
sees, and refuses a folder that is not a run with exit 2 and one sentence."""

from __future__ import annotations

from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from hrm_studio.cli import main


def test_export_tensorboard_writes_a_folder_per_run(tiny_run: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "tb"
    assert main(["export-tensorboard", str(tiny_run), "--out", str(out)]) == 0
    acc = EventAccumulator(str(out / tiny_run.name))
    acc.Reload()
    assert acc.Tags()["scalars"], "no scalars in the exported event file"
    assert f"tensorboard --logdir {out}" in capsys.readouterr().out


def test_export_tensorboard_refuses_a_folder_that_is_not_a_run(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["export-tensorboard", str(tmp_path / "empty"), "--out", str(tmp_path / "tb")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "tb").exists()
