"""`hrm-studio dataset sudoku-csv / maze-csv`: the official layout from CSV files, clean errors."""

from __future__ import annotations

from hrm_studio.cli import main
from hrm_studio.data import read_dataset
from tests.cli.conftest import checksums
from tests.data.test_csv_import import MAZE, SUDOKU


def test_sudoku_csv_twice_gives_byte_identical_folders(tmp_path, capsys):
    args = ["dataset", "sudoku-csv", str(SUDOKU), "--num-aug", "2", "--min-rating", "10", "--seed", "4"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert checksums(tmp_path / "a") == checksums(tmp_path / "b")
    out = capsys.readouterr().out
    assert "sudoku train 5 puzzles (15 examples with augmentations)" in out and "rated below 10" in out
    assert len(read_dataset(tmp_path / "a").train) == 15


def test_maze_csv_with_one_file_and_aug(tmp_path, capsys):
    out = tmp_path / "maze"
    assert main(["dataset", "maze-csv", str(MAZE / "train.csv"), "--test-csv", str(MAZE / "test.csv"),
                 "--aug", "--out", str(out)]) == 0
    data = read_dataset(out)
    assert (len(data.train), len(data.test), data.info.display) == (24, 2, "maze")


def test_a_bad_row_is_one_line_exit_2_and_moves_nothing_aside(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text((SUDOKU / "train.csv").read_text().replace(".", "?", 1))
    out = tmp_path / "full"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["dataset", "sudoku-csv", str(bad), "--out", str(out), "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}, line 2: the question holds '?'") and err.count("\n") == 1
    assert (out / "keep.txt").exists() and not (tmp_path / "full.old-1").exists()
