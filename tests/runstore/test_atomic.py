"""Atomic writes give a file the permissions open() would (whole-or-nothing: tests/reliability/test_run_files.py)."""

from __future__ import annotations

import os
import stat

import pytest

from hrm_studio.runstore.atomic import atomic_write_text, process_umask


@pytest.fixture
def umask():
    """Set the process umask for one test and put the old one back."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_what_the_umask_gives(tmp_path, umask, mask, expected):
    umask(mask)
    assert process_umask() == mask
    target = tmp_path / "config.json"
    atomic_write_text(target, "{}")
    assert _mode(target) == expected
    assert target.read_text() == "{}"


def test_a_replaced_file_keeps_its_own_mode(tmp_path, umask):
    umask(0o022)
    target = tmp_path / "history.json"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write_text(target, "new")
    assert _mode(target) == 0o640 and target.read_text() == "new"

