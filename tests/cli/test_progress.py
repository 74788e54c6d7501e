"""A progress bar within epochs and evaluations on a terminal; plain lines anywhere else."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from hrm_studio.cli import main
from hrm_studio.cli.progress import ProgressLine


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


BAR_MARKS = ("\r", "puzzle/s", "%|")


def test_the_bar_leaves_the_screen_before_each_line():
    screen = FakeTerminal()
    with ProgressLine(screen) as display:
        display.show("epoch 1/2", 16, 48, "100 samples/s")
        display.show("epoch 1/2", 48, 48)
        display.line("epoch   1/2  loss 1.0")
        display.show("epoch 2/2", 16, 48)
    text = screen.getvalue()
    assert "epoch 1/2" in text and "16/48" in text and "100 samples/s" in text
    before, after = text.split("epoch   1/2  loss 1.0\n")
    assert before.endswith("\r")            # the bar's line was cleared, so the epoch line starts clean
    assert "epoch 2/2" in after and after.endswith("\r")  # closed at the end too


def test_no_bar_when_the_output_is_not_a_terminal():
    log = io.StringIO()
    display = ProgressLine(log)
    display.show("epoch 1/2", 16, 48)
    display.line("epoch   1/2  loss 1.0")
    assert log.getvalue() == "epoch   1/2  loss 1.0\n"


def test_train_on_a_terminal_shows_a_bar_within_the_epoch(tiny_settings, tmp_path, monkeypatch):
    screen = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", screen)
    assert main(["train", "--config", str(tiny_settings), "--set", "epochs=1", "--out", str(tmp_path / "r")]) == 0
    text = screen.getvalue()
    assert "epoch 1/1:" in text and "puzzle" in text        # the bar, labelled with the epoch
    epoch_line = next(line for line in text.split("\n") if "held-out tok" in line)
    *bar, shown = epoch_line.split("\r")   # a terminal shows what follows the last carriage return
    assert bar and bar[-1].strip() == ""     # the bar was wiped off its line first
    assert shown.startswith("epoch   1/1")


def test_eval_in_a_pipe_prints_no_bar_characters(tiny_run, capsys):
    assert main(["eval", str(tiny_run / "checkpoints" / "final.pt")]) == 0
    captured = capsys.readouterr()
    assert "exact match" in captured.out
    assert not any(mark in captured.out + captured.err for mark in BAR_MARKS)


def test_eval_on_a_terminal_shows_a_scoring_bar(tiny_run, monkeypatch):
    screen = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", screen)
    assert main(["eval", str(tiny_run / "checkpoints" / "final.pt"), "--batch-size", "4"]) == 0
    assert "scoring:" in screen.getvalue()


@pytest.mark.parametrize("argv", [["presets"], ["completion", "bash"]])
def test_tqdm_is_imported_only_for_a_bar(argv):
    code = (f"import sys; from hrm_studio.cli import main; main({argv!r}); "
            f"sys.stderr.write(repr('tqdm' in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr.endswith("False")
