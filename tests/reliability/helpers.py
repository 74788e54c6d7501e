"""Shared pieces of the reliability tests: the tiny run, file snapshots, a finished run."""

from __future__ import annotations

import hashlib
from pathlib import Path

from hrm_studio.config import RunConfig
from tests.conftest import TINY_SETTINGS

# The brief's tiny run (copy-increment, 48 puzzles, 3×3, hidden 32, 2 heads, batch 16, one thread).
TINY_ARGS = ["--task", "copy-increment", "--set", "train_size=48", "--set", "test_size=12",
             "--set", "grid_size=3", "--set", "hidden_size=32", "--set", "num_heads=2",
             "--set", "puzzle_emb_ndim=32", "--set", "batch_size=16", "--set", "num_threads=1",
             "--set", "stop_at_exact=0", "--set", "seed=3"]


def tiny(epochs: int = 2, **overrides: object) -> RunConfig:
    config = RunConfig.from_dict(TINY_SETTINGS)
    config.train.epochs = epochs
    for name, value in overrides.items():
        config.set(name, value)
    return config


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` → sha256 of its bytes (compare before / after, byte for byte)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_error(err: str) -> str:
    """The CLI's answer to a mistake: exactly one 'error: …' line and no traceback."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]
