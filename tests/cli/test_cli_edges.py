"""The CLI at its edges: Ctrl-C ends with the shell's 130, a closed pipe ends quietly, hints name real commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from hrm_studio.cli import main
from tests.cli.test_cli import TINY

CLI = [sys.executable, "-m", "hrm_studio"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def test_ctrl_c_stops_training_cleanly_and_exits_130(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen([*CLI, "train", *TINY, "--set", "epochs=500", "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    try:
        for line in process.stdout:
            if line.startswith("epoch"):   # one epoch is on disk: a Ctrl-C now has something to keep
                break
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, errors
    assert "finished (stopped)" in rest
    assert json.loads((out / "status.json").read_text())["state"] == "stopped"


def test_a_reader_that_closes_the_pipe_early_ends_the_command_quietly():
    """`hrm-studio presets | head -1`: the reader goes away before the listing is written."""
    read, write = os.pipe()
    os.close(read)  # nobody will read: the first write fails with EPIPE
    try:
        done = subprocess.run([*CLI, "presets"], stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert done.returncode == 0
    assert done.stderr == ""


def test_an_unknown_setting_points_to_a_command_that_exists(capsys):
    assert main(["train", "--set", "zzz_not_a_setting=1"]) == 2
    error = capsys.readouterr().err
    assert "hrm-studio presets" in error
    hinted = error.split("Run '")[1].split("'")[0].split()[1:]
    assert main(hinted) == 0
