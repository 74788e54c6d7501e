"""The product's promise, end to end: the default task is solved on held-out puzzles.

This is the one full-size run in the suite (about 15 s on 2 cores); speed targets live in
benchmarks/, so nothing here is timed.
"""

from __future__ import annotations

import json

from hrm_studio.cli import main


def test_default_copy_increment_reaches_100_percent_held_out(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--task", "copy-increment", "--out", str(out)]) == 0
    history = json.loads((out / "history.json").read_text())
    last = history[-1]
    assert last["val_exact_match_accuracy"] == 1.0
    assert last["val_puzzles"] >= 200
    assert last["val_copy_accuracy"] == 1.0 and last["val_increment_accuracy"] == 1.0
    assert json.loads((out / "status.json").read_text())["reason"] == "solved"
    assert "finished (solved)" in capsys.readouterr().out
