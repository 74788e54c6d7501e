"""Invalid hyperparameters and runs too big for the machine: one sentence, exit 2, nothing written."""

from __future__ import annotations

import time

import pytest

from hrm_studio.cli import main
from tests.reliability.helpers import TINY_ARGS, one_line_error, snapshot

BAD = [
    ("hidden_size=0", "hidden_size must be at least 8"),
    ("hidden_size=-32", "hidden_size must be at least 8"),
    ("hidden_size=abc", "Setting 'hidden_size' must be a whole number, not 'abc'"),
    ("hidden_size=32.5", "Setting 'hidden_size' must be a whole number"),
    ("num_heads=0", "num_heads must be at least 1"),
    ("num_heads=3", "hidden_size (32) must divide evenly by num_heads (3)"),
    ("batch_size=0", "batch_size must be at least 1"),
    ("batch_size=-4", "batch_size must be at least 1"),
    ("epochs=0", "epochs must be at least 1"),
    ("train_size=0", "train_size must be at least 1"),
    ("test_size=-1", "test_size must be at least 1"),
    ("expansion=0", "expansion must be at least 0.5"),
    ("H_cycles=0", "H_cycles must be at least 1"),
    ("L_layers=-1", "L_layers must be at least 1"),
    ("halt_max_steps=0", "halt_max_steps must be at least 1"),
    ("lr=0", "lr must be greater than 0"),
    ("lr=-0.001", "lr must be greater than 0"),
    ("lr=nan", "lr must be a finite number, not nan"),
    ("lr=inf", "lr must be a finite number, not inf"),
    ("lr=2", "lr must be at most 1"),
    ("beta1=1.5", "beta1 must be at most 0.9999"),
    ("weight_decay=nan", "weight_decay must be a finite number"),
    ("grad_clip=-1", "grad_clip must be at least 0"),
    ("label_noise=1", "label_noise must be at most 0.99"),
    ("epochs=1000000000", "epochs must be at most 100000"),
    ("hidden_size=100000", "hidden_size must be at most 4096"),
    ("batch_size=1e12", "batch_size' must be a whole number"),
    ("puzzle_emb_ndim=-1", "puzzle_emb_ndim must be at least 0"),
    ("forward_dtype=float64", "forward_dtype must be one of float32, bfloat16"),
    ("hidden_sise=64", "Unknown setting 'hidden_sise'. Did you mean hidden_size"),
    ("grid_size=31", "grid_size must be at most 30"),
    ("blanks=3", "blanks applies only to Sudoku tasks"),
    ("pattern_mix=copy=-1", "pattern_mix must look like copy=1,increment=1"),
]


@pytest.mark.parametrize("assignment, words", BAD, ids=[a for a, _ in BAD])
def test_an_invalid_setting_is_one_sentence_and_exit_2(tmp_path, capsys, assignment, words):
    out = tmp_path / "run"
    assert main(["train", *TINY_ARGS, "--set", assignment, "--out", str(out)]) == 2
    assert words in one_line_error(capsys.readouterr().err)
    assert not out.exists()


def test_a_bad_setting_on_resume_leaves_the_run_byte_for_byte(finished_run, capsys):
    before = snapshot(finished_run)
    for assignment in ("lr=-1", "lr=nan", "num_heads=3", "epochs=0"):
        assert main(["train", "--resume", str(finished_run), "--set", assignment]) == 2
        one_line_error(capsys.readouterr().err)
    assert snapshot(finished_run) == before


@pytest.mark.parametrize("assignments, remedy", [
    (["hidden_size=4096", "num_heads=32", "batch_size=8192"], "lower batch_size, hidden_size"),
    (["encoding=canvas", "canvas_size=64", "batch_size=8192"], "lower batch_size"),
    (["train_size=1000000", "test_size=1000000", "encoding=canvas", "canvas_size=64"], "lower train_size / test_size"),
])
def test_a_run_too_big_for_memory_is_refused_before_anything_is_allocated(tmp_path, capsys, assignments, remedy):
    out = tmp_path / "run"
    started = time.perf_counter()
    argv = ["train", *TINY_ARGS]
    for item in assignments:
        argv += ["--set", item]
    assert main([*argv, "--out", str(out)]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "Training with these settings needs about" in line and "is available" in line
    assert remedy in line
    assert time.perf_counter() - started < 10  # refused before generating a million puzzles
    assert not out.exists()


def test_the_estimate_is_not_far_below_what_a_run_really_uses(tmp_path):
    """A real (small) run's peak memory stays below the estimate: the check errs on the safe side."""
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from hrm_studio.config import RunConfig\n"
        "from hrm_studio.costs import estimate_training_memory\n"
        "from hrm_studio.training.data_source import generated_shape\n"
        "from hrm_studio.training.trainer import Trainer\n"
        "c = RunConfig.from_dict({'train_size': 64, 'test_size': 16, 'epochs': 1, 'num_threads': 1,"
        " 'stop_at_exact': 0, 'hidden_size': 256, 'num_heads': 4, 'batch_size': 128})\n"
        "s = generated_shape(c)\n"
        "e = estimate_training_memory(c, seq_len=s.seq_len, vocab_size=s.vocab_size,"
        " num_puzzle_identifiers=s.num_puzzle_identifiers, train_size=s.train_size, test_size=s.test_size)\n"
        f"Trainer(c, {str(tmp_path / 'run')!r}).fit()\n"
        # VmHWM, not ru_maxrss: Linux carries the parent's (pytest's) peak over exec into ru_maxrss
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
        "print(json.dumps([e.total, int(hwm) * 1024]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    estimate, peak = __import__("json").loads(done.stdout.splitlines()[-1])
    assert estimate >= peak, (estimate, peak)
    assert estimate < 3 * peak, (estimate, peak)  # and not so generous it refuses runs that fit
