"""Runs started in the same second get distinct folders (CLI processes, sweeps)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hrm_studio.runstore.run_dir import claim_new_run_dir


def test_claims_in_the_same_second_get_distinct_folders(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("hrm_studio.runstore.run_dir.new_run_name", lambda task: f"{task}-20261126-020000")
    with ThreadPoolExecutor(4) as pool:
        claimed = list(pool.map(lambda _: claim_new_run_dir(tmp_path / "runs", "copy"), range(12)))
    assert len(set(claimed)) == 12
    assert all(path.is_dir() for path in claimed)
    assert sorted(p.name for p in claimed)[:2] == ["copy-20261126-020000", "copy-20261126-020000-10"]
