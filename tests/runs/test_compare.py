"""Comparing runs without Qt: the settings that differ, and the best result marked."""

from __future__ import annotations

import json
from pathlib import Path

from hrm_studio.runs.compare import differing_fields, load_runs, long_history, result_rows


def make_run(folder: Path, exact: list[float], **settings: object) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"data": {"task": "copy-increment"}, "train": settings}))
    (folder / "metrics.jsonl").write_text("".join(
        json.dumps({"epoch": i + 1, "val_exact_match_accuracy": v, "loss": 1 - v}) + "\n" for i, v in enumerate(exact)))
    return folder


def test_differences_and_best_results(tmp_path):
    runs = load_runs([make_run(tmp_path / "a", [0.1, 0.5], lr=0.001),
                      make_run(tmp_path / "b", [0.2, 0.4], lr=0.0005, batch_size=8),
                      make_run(tmp_path / "c", [0.3, 0.3], lr=0.001)])
    assert set(differing_fields(runs)) == {"lr", "batch_size"}
    rows = {row.spec.label: row for row in result_rows(runs)}
    assert rows["Best held-out exact"].best == {0}
    assert rows["Final held-out exact"].best == {0}
    assert rows["Final training loss"].best == {0}
    assert rows["Epochs"].best == frozenset()          # not a score: nothing marked
    assert rows["Best held-out exact"].text(1) == "40.0 %"
    table = long_history(runs)
    assert len(table) == 6 and table[0]["run"] == "a"


def test_time_to_solved_and_samples_per_second(tmp_path):
    """The HRM-vs-TRM table's columns come from the histories: first ≥ 99 % mark, mean throughput."""
    folders = []
    for name, exact, speed in (("hrm", [0.9, 0.995, 1.0], 100.0), ("trm", [0.992, 0.5, 1.0], 300.0)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"data": {"task": "sudoku-4x4"}}))
        (folder / "metrics.jsonl").write_text("".join(
            json.dumps({"epoch": i + 1, "val_exact_match_accuracy": v, "wall_seconds": 10.0 * (i + 1),
                        "samples_per_second": speed + i}) + "\n" for i, v in enumerate(exact)))
        folders.append(folder)
    rows = {row.spec.label: row for row in result_rows(load_runs(folders))}
    solved = rows["Time to ≥ 99 % held-out exact"]
    assert solved.values == [20.0, 10.0] and solved.best == {1}
    speed_row = rows["Training samples/s (mean)"]
    assert speed_row.values == [101.0, 301.0] and speed_row.best == {1}
