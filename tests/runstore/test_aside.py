"""move_aside: an old run goes to the first free `<name>.old-N` beside it, never deleted or replaced."""

from __future__ import annotations

import json

import pytest

from hrm_studio.runstore import owner
from hrm_studio.runstore.aside import move_aside
from hrm_studio.runstore.run_dir import RunFolderError


def test_the_first_free_number_is_used_and_nothing_is_replaced(tmp_path):
    run = tmp_path / "run"
    (tmp_path / "run.old-1").mkdir()
    (tmp_path / "run.old-1" / "keep.txt").write_text("older")
    for expected, text in ((2, "first"), (3, "second")):
        run.mkdir()
        (run / "config.json").write_text(text)
        assert move_aside(run) == tmp_path / f"run.old-{expected}"
        assert (tmp_path / f"run.old-{expected}" / "config.json").read_text() == text
        assert not run.exists()
    assert (tmp_path / "run.old-1" / "keep.txt").read_text() == "older"


def test_a_run_a_live_process_writes_is_not_moved(tmp_path):
    run = tmp_path / "sweep" / "01-lr=0.001"
    run.mkdir(parents=True)
    (run / "status.json").write_text(json.dumps({"state": "running", **owner.this_process()}))
    with pytest.raises(RunFolderError, match="being written by another HRM Studio process"):
        move_aside(tmp_path / "sweep")
    assert (run / "status.json").exists()
