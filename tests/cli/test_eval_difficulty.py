"""`eval`'s difficulty report: the "difficulty" object of --json and the table of the text output."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from hrm_studio.cli import main
from hrm_studio.cli.eval_difficulty import difficulty_json, print_difficulty
from hrm_studio.data.csv_import import import_sudoku_csv
from hrm_studio.data.hrm_format import read_dataset
from tests.evaluation.sudoku_sets import prediction_set, sudoku_4x4_set

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures"


def config_for(dataset_dir: str | Path = "") -> SimpleNamespace:
    return SimpleNamespace(data=SimpleNamespace(dataset_dir=str(dataset_dir)))


def test_json_of_a_rated_sudoku_split(tmp_path: Path) -> None:
    folder = import_sudoku_csv(FIXTURES / "sudoku_csv", tmp_path / "ds").out_dir
    data = read_dataset(folder)
    labels = np.where(data.test.labels < 0, 0, data.test.labels)
    preds = labels.copy()
    preds[0, 1] = preds[0, 0]          # puzzle 0 now repeats a digit in row 0
    ps = prediction_set(data.info.to_dict(), data.test.inputs, labels, preds[:, None, :])
    report = json.loads(json.dumps(difficulty_json(config_for(folder), "test", ps)))["difficulty"]
    ratings = [int(line.rsplit(",", 1)[1]) for line in (FIXTURES / "sudoku_csv" / "test.csv").read_text().splitlines()[1:]]
    by_rating = {g["low"]: g["exact_match_accuracy"] for g in report["by"]["rating"]["groups"]}
    assert by_rating == {r: (0.0 if k == 0 else 1.0) for k, r in enumerate(ratings)}
    assert sum(g["puzzles"] for g in report["by"]["givens"]["groups"]) == len(ratings)
    assert report["sudoku_violations"]["puzzles_breaking_a_rule"] == 1
    assert report["sudoku_violations"]["rows"] == 1
    assert "rating" not in difficulty_json(config_for(), "test", ps)["difficulty"]["by"]   # no folder, no ratings


def test_text_table_lists_groups_and_rule_breaks(capsys) -> None:
    print_difficulty(difficulty_json(config_for(), "test", sudoku_4x4_set())["difficulty"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "  by givens:"
    assert lines[1].split()[:3] == ["8", "1", "puzzles"] and lines[3].split()[-1] == "100.0%"
    assert "1 of 4 predictions repeat a digit (3 cells; 1 row, 1 column, 1 box); 1 cell left without a digit" in lines[-1]


def test_eval_json_of_a_real_run_has_the_difficulty_object(tiny_run: Path, capsys) -> None:
    capsys.readouterr()
    assert main(["eval", str(tiny_run / "checkpoints" / "final.pt"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    groups = report["difficulty"]["by"]["cells"]["groups"]   # copy-increment: no rating, givens or path
    assert sum(g["puzzles"] for g in groups) == report["puzzles"]
    exact = sum(g["puzzles"] * g["exact_match_accuracy"] for g in groups) / report["puzzles"]
    assert abs(exact - report["exact_match_accuracy"]) < 1e-9
    assert "sudoku_violations" not in report["difficulty"]
