"""`hrm-studio sweep`: the same core and summary files as the window, a table at the end, exit 2 on bad input."""

from __future__ import annotations

import csv
import json

from hrm_studio.cli import main
from tests.cli.test_cli import TINY


def test_a_two_by_one_grid_end_to_end(tmp_path, capsys):
    out = tmp_path / "sweep"
    code = main(["sweep", *TINY, "--set", "epochs=1", "--grid", "lr=1e-4,1e-3", "hidden_size=32", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"sweep of 2 runs into {out}; about ")
    assert sum(line.startswith("run ") and " finished (" in line for line in printed) == 2
    header = next(i for i, line in enumerate(printed) if line.startswith("#  "))
    assert printed[header].split()[:4] == ["#", "lr", "hidden_size", "status"]
    assert [line.split()[1:4] for line in printed[header + 1:header + 3]] == [
        ["0.0001", "32", "finished"], ["0.001", "32", "finished"]]
    assert printed[-1].startswith("2 of 2 runs finished; summary in")
    summary = json.loads((out / "sweep.json").read_text())
    assert [r["run_dir"] for r in summary["rows"]] == ["01-lr=0.0001-hidden_size=32", "02-lr=0.001-hidden_size=32"]
    for row in summary["rows"]:
        history = json.loads((out / row["run_dir"] / "history.json").read_text())
        assert row["epochs_done"] == len(history) == 1
        assert row["best_exact"] == history[-1]["val_exact_match_accuracy"]
    with open(out / "sweep.csv", newline="") as handle:
        assert [line["status"] for line in csv.DictReader(handle)] == ["finished", "finished"]


def test_a_bad_setting_exits_2_with_one_line(tmp_path, capsys):
    code = main(["sweep", *TINY, "--grid", "hiden_size=32,64", "--out", str(tmp_path / "s")])
    assert code == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Unknown setting 'hiden_size'. Did you mean hidden_size")
    assert captured.out == ""
    assert not (tmp_path / "s").exists()


def test_a_run_the_grid_makes_invalid_is_refused_before_any_training(tmp_path, capsys):
    code = main(["sweep", *TINY, "--grid", "num_heads=2,3", "--out", str(tmp_path / "s")])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Run 2 of 2 (num_heads=3) is not valid") and "\n" not in err
    assert not (tmp_path / "s").exists()


def test_nothing_to_vary_says_how(tmp_path, capsys):
    assert main(["sweep", *TINY, "--out", str(tmp_path / "s")]) == 2
    assert "--grid lr=1e-4,1e-3" in capsys.readouterr().err
