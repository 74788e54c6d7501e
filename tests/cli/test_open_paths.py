"""`hrm-studio PATH…` opens the path in the window, as `hrm-studio gui PATH…` does."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hrm_studio.cli import build_parser, main
from hrm_studio.cli.gui_command import bare_paths_mean_gui


def test_bare_paths_open_in_the_window_each_in_turn(tiny_run, tmp_path):
    """A run folder and a checkpoint file: both open (the window shows the last), one line each."""
    shot = tmp_path / "window.png"
    checkpoint = next((tiny_run / "checkpoints").glob("*.pt"))
    done = subprocess.run([sys.executable, "-m", "hrm_studio", str(tiny_run), str(checkpoint),
                           "--screenshot", str(shot)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    opened = [line for line in done.stdout.splitlines() if line.startswith("opened ")]
    assert opened[0] == f"opened {tiny_run}"
    assert len(opened) == 2, done.stdout
    assert shot.stat().st_size > 0


@pytest.mark.parametrize("argv, expected", [
    (["RUN"], ["gui", "RUN"]),
    (["--show", "runs", "RUN", "--screenshot", "x.png"], ["--show", "runs", "gui", "RUN", "--screenshot", "x.png"]),
    (["train", "--out", "RUN"], ["train", "--out", "RUN"]),
    (["--self-test"], ["--self-test"]),
])
def test_a_path_where_the_command_goes_means_gui(tiny_run, argv, expected):
    words = [str(tiny_run) if w == "RUN" else w for w in argv]
    wanted = [str(tiny_run) if w == "RUN" else w for w in expected]
    assert bare_paths_mean_gui(words, build_parser().commands) == wanted


@pytest.mark.parametrize("word, says", [
    ("trian", "Did you mean 'train'?"),
    ("runs/nowhere", "runs/nowhere does not exist"),
])
def test_neither_a_command_nor_a_path_is_one_line_naming_the_commands(word, says, capsys):
    assert main([word]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and says in err and err.count("\n") == 1
    if "Did you mean" in says:
        assert "gui, train, sweep, eval, export" in err
