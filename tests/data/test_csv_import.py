"""Sudoku-Extreme / Maze-Hard CSV import: the official layout, valid augmentations, clean errors.

The fixtures under tests/data/fixtures/ were made by HRM Studio's own generators:
``generate_sudoku_csv(…/train.csv, 6, seed=17)``, ``(…/test.csv, 3, seed=18)`` and
``generate_maze_csv(…/train.csv, 3, seed=17)``, ``(…/test.csv, 2, seed=18)``.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from hrm_studio.data import read_dataset
from hrm_studio.data.arc.augment import dihedral
from hrm_studio.data.csv_import import import_maze_csv, import_sudoku_csv, read_ratings
from hrm_studio.data.tasks.sudoku_solver import count_solutions
from hrm_studio.errors import ConfigError, DatasetError

FIXTURES = Path(__file__).parent / "fixtures"
SUDOKU, MAZE = FIXTURES / "sudoku_csv", FIXTURES / "maze_csv"


def valid_sudokus(digits: np.ndarray) -> bool:
    """Every row, column and box of every [N, 81] grid holds 1..9 once."""
    g = digits.reshape(-1, 9, 9)
    boxes = g.reshape(-1, 3, 3, 3, 3).transpose(0, 1, 3, 2, 4).reshape(-1, 9, 9)
    return all((np.sort(u, axis=2) == np.arange(1, 10)).all() for u in (g, g.transpose(0, 2, 1), boxes))


def test_sudoku_import_with_augmentation_gives_valid_matching_sudokus(tmp_path):
    summary = import_sudoku_csv(SUDOKU, tmp_path / "ds", num_aug=3, seed=1)
    assert (summary.train_puzzles, summary.train_examples, summary.test_examples) == (6, 24, 3)
    data = read_dataset(tmp_path / "ds")
    info = data.info
    assert (info.vocab_size, info.seq_len, info.num_puzzle_identifiers, info.display) == (11, 81, 1, "sudoku")
    for split in (data.train, data.test):
        solution = split.labels - 1
        assert valid_sudokus(solution)
        given = split.inputs != 1
        assert (split.inputs[given] == split.labels[given]).all()  # the answer keeps every given
    copies = data.train.inputs.reshape(6, 4, 81)
    assert all(len({c.tobytes() for c in group}) == 4 for group in copies)  # shuffled, not copied
    blanks = (copies == 1).sum(axis=2)
    assert (blanks == blanks[:, :1]).all()  # a shuffle moves givens, never adds or drops one
    assert count_solutions(copies[0, 3].reshape(9, 9) - 1) == 1
    train = tmp_path / "ds" / "train"
    meta = json.loads((train / "dataset.json").read_text())
    assert meta["ignore_label_id"] == 0 and meta["total_groups"] == 6 and meta["sets"] == ["all"]
    assert np.load(train / "all__group_indices.npy").tolist() == list(range(0, 25, 4))
    assert np.load(train / "all__inputs.npy").dtype == np.uint8
    ratings = read_ratings(tmp_path / "ds", "train")
    assert (ratings.reshape(6, 4) == ratings.reshape(6, 4)[:, :1]).all() and len(read_ratings(tmp_path / "ds")) == 3


def test_same_settings_give_the_same_bytes(tmp_path):
    for name in ("a", "b"):
        import_sudoku_csv(SUDOKU, tmp_path / name, num_aug=2, subsample=4, seed=3)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)


def test_min_rating_and_subsample_choose_rows(tmp_path):
    rows = [line.split(",") for line in (SUDOKU / "train.csv").read_text().splitlines()[1:]]
    ratings = sorted(int(r[3]) for r in rows)
    summary = import_sudoku_csv(SUDOKU, tmp_path / "hi", min_rating=ratings[2], subsample=2, seed=0)
    assert summary.train_puzzles == 2 and summary.train_rows_read == 6
    assert (read_ratings(tmp_path / "hi", "train") >= ratings[2]).all()
    assert summary.below_min_rating == 2 + sum(int(line.rsplit(",", 1)[1]) < ratings[2] for line in
                                                (SUDOKU / "test.csv").read_text().splitlines()[1:])
    questions = {r[1].replace(".", "0") for r in rows}
    inputs = read_dataset(tmp_path / "hi").train.inputs - 1
    assert {"".join(map(str, q)) for q in inputs} <= questions


def test_zero_blanks_one_file_and_no_test_split(tmp_path):
    text = (SUDOKU / "train.csv").read_text().replace(".", "0")
    (tmp_path / "z.csv").write_text(text)
    summary = import_sudoku_csv(tmp_path / "z.csv", tmp_path / "ds")
    assert (summary.train_puzzles, summary.test_puzzles) == (6, 0)
    data = read_dataset(tmp_path / "ds")
    assert len(data.test) == 0 and (data.train.inputs == 1).sum() > 6 * 50


def test_maze_import_with_dihedral_augmentation(tmp_path):
    summary = import_maze_csv(MAZE, tmp_path / "ds", aug=True)
    assert (summary.train_examples, summary.test_examples) == (24, 2)
    data = read_dataset(tmp_path / "ds")
    assert (data.info.vocab_size, data.info.seq_len, data.info.display) == (6, 900, "maze")
    first = (MAZE / "train.csv").read_text().splitlines()[1].split(",")[1]
    grid = np.array(["# SGo".index(ch) + 1 for ch in first]).reshape(30, 30)
    group = data.train.inputs[:8].reshape(8, 30, 30)
    assert all(np.array_equal(group[k], dihedral(grid, k)) for k in range(8))
    labels = data.train.labels
    assert ((labels == data.train.inputs) | ((data.train.inputs == 2) & (labels == 5))).all()


def test_maze_answers_that_also_mark_start_and_goal_are_read(tmp_path):
    """Either answer layout reads: S and G kept, or marked 'o' with the path (the files differ)."""
    (tmp_path / "src").mkdir()
    for name in ("train.csv", "test.csv"):
        lines = (MAZE / name).read_text().splitlines()
        rows = [line.split(",") for line in lines[1:]]
        marked = [",".join([r[0], r[1], r[2].replace("S", "o").replace("G", "o"), r[3]]) for r in rows]
        (tmp_path / "src" / name).write_text("\n".join([lines[0], *marked]) + "\n")
    summary = import_maze_csv(tmp_path / "src", tmp_path / "ds")
    assert summary.train_puzzles == len((MAZE / "train.csv").read_text().splitlines()) - 1
    data = read_dataset(tmp_path / "ds")
    ends = (data.train.inputs == 3) | (data.train.inputs == 4)
    assert (data.train.labels[ends] == 5).all()


def bad_copy(tmp_path: Path, source: Path, line: int, change) -> Path:
    """``source``/train.csv with row ``line`` (1 = header) passed through ``change``."""
    lines = (source / "train.csv").read_text().splitlines()
    lines[line - 1] = change(lines[line - 1])
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def edit_answer(row: str, fix) -> str:
    source, question, answer, rating = row.split(",")
    return ",".join([source, question, fix(question, answer), rating])


def swap_two_blank_cells(question: str, answer: str) -> str:
    """Swap two blanks of one row with different digits: the row stays whole, a column breaks."""
    for r in range(9):
        blanks = [c for c in range(9) if question[9 * r + c] == "."]
        if len(blanks) >= 2:
            a = list(answer)
            i, j = 9 * r + blanks[0], 9 * r + blanks[1]
            a[i], a[j] = a[j], a[i]
            return "".join(a)
    raise AssertionError("no row with two blanks")


def change_a_given(question: str, answer: str) -> str:
    k = next(i for i, ch in enumerate(question) if ch != ".")
    return answer[:k] + str(int(answer[k]) % 9 + 1) + answer[k + 1:]


SUDOKU_BAD = [
    (3, lambda row: row.replace(",", ",1", 1), "line 3: the question has 82 characters, not 81"),
    (2, lambda row: row.replace(".", "x", 1), "the question holds 'x'"),
    (4, lambda row: edit_answer(row, lambda q, a: "0" + a[1:]), "the answer holds '0' at row 1, column 1"),
    (5, lambda row: edit_answer(row, change_a_given), "where the question gives"),
    (6, lambda row: edit_answer(row, swap_two_blank_cells), "not a valid Sudoku: column"),
    (1, lambda row: "id,question,answer,rating", "line 1: the header must be"),
    (2, lambda row: row + ",extra", "expected 4 columns"),
    (7, lambda row: row.rsplit(",", 1)[0] + ",hard", "the rating must be a whole number"),
]


@pytest.mark.parametrize(("line", "change", "words"), SUDOKU_BAD)
def test_bad_sudoku_rows_name_the_file_line_and_problem(tmp_path, line, change, words):
    path = bad_copy(tmp_path, SUDOKU, line, change)
    with pytest.raises(DatasetError) as caught:
        import_sudoku_csv(path, tmp_path / "out")
    message = str(caught.value)
    assert message.startswith(f"{path}, line {line}: ") and words in message
    assert not (tmp_path / "out").exists()  # nothing written when a row is bad


def blank_out_path(question: str, answer: str) -> str:
    """Unmark one path cell in the middle: the 'o' cells no longer join S to G."""
    k = [i for i, ch in enumerate(answer) if ch == "o"][5]
    return answer[:k] + " " + answer[k + 1:]


MAZE_BAD = [
    (2, lambda row: row.replace("S", " ", 1), "the question has 0 start cells 'S'"),
    (3, lambda row: edit_answer(row, lambda q, a: a.replace("#", " ", 1)), "from '#' to ' '"),
    (4, lambda row: edit_answer(row, blank_out_path), "do not form one path from S to G"),
    (2, lambda row: row.replace(" ", "x", 1), "the question holds 'x'"),
]


@pytest.mark.parametrize(("line", "change", "words"), MAZE_BAD)
def test_bad_maze_rows_name_the_file_line_and_problem(tmp_path, line, change, words):
    path = bad_copy(tmp_path, MAZE, line, change)
    with pytest.raises(DatasetError) as caught:
        import_maze_csv(path, tmp_path / "out")
    assert str(caught.value).startswith(f"{path}, line {line}: ") and words in str(caught.value)


def test_bad_options_and_places(tmp_path):
    with pytest.raises(ConfigError, match="num_aug must be a whole number of at least 0"):
        import_sudoku_csv(SUDOKU, tmp_path / "a", num_aug=-1)
    with pytest.raises(ConfigError, match="not a folder and a test file"):
        import_sudoku_csv(SUDOKU, tmp_path / "a", test_csv=SUDOKU / "test.csv")
    with pytest.raises(DatasetError, match="holds no train.csv"):
        import_maze_csv(tmp_path, tmp_path / "a")
    with pytest.raises(DatasetError, match="none rated 100000 or more"):
        import_sudoku_csv(SUDOKU, tmp_path / "a", min_rating=100000)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(DatasetError, match="is not empty"):
        import_sudoku_csv(SUDOKU, tmp_path / "full")
    with pytest.raises(DatasetError, match="line 2: the question has 81 characters, not 900"):
        import_maze_csv(MAZE / "train.csv", tmp_path / "b", test_csv=SUDOKU / "test.csv")
