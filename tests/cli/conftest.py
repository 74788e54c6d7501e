"""One tiny finished run for the CLI tests that only read it (copy it before changing it)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.conftest import TINY_SETTINGS


def checksums(folder: Path) -> dict[str, str]:
    """Every file under `folder` (relative path → sha256): 'byte-identical' made checkable."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="package")
def tiny_settings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smallest settings the tests use, as a --config file."""
    from hrm_studio.config import RunConfig

    path = tmp_path_factory.mktemp("settings") / "tiny.json"
    path.write_text(RunConfig.from_dict(TINY_SETTINGS).to_json(), encoding="utf-8")
    return path


@pytest.fixture(scope="package")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, tiny_settings: Path) -> Path:
    """A finished one-epoch run with best, final and last checkpoints."""
    from hrm_studio.cli import main

    out = tmp_path_factory.mktemp("cli-run") / "run"
    assert main(["train", "--config", str(tiny_settings), "--set", "epochs=1", "--quiet", "--out", str(out)]) == 0
    return out
