"""A finished tiny run, trained once per session and copied for each test that needs one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hrm_studio.cli import main
from tests.reliability.helpers import TINY_ARGS


@pytest.fixture(scope="session")
def finished_run_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reliability") / "run"
    assert main(["train", *TINY_ARGS, "--set", "epochs=2", "--quiet", "--out", str(out)]) == 0
    return out


@pytest.fixture
def finished_run(finished_run_master: Path, tmp_path: Path) -> Path:
    """A private copy of a finished two-epoch run (last.pt, best.pt, final.pt, history)."""
    copy = tmp_path / "run"
    shutil.copytree(finished_run_master, copy)
    return copy
