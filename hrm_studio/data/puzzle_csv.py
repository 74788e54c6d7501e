"""The official builders' puzzle CSV format, read and written.

Sudoku-Extreme (Hugging Face ``sapientinc/sudoku-extreme``) and Maze-Hard
(``sapientinc/maze-30x30-hard-1k``) come as ``train.csv`` and ``test.csv``: a header line
``source,question,answer,rating``, then one puzzle a row — where it came from, the question and
the answer each as one string of cells in row-major order, and a whole-number difficulty rating.
Sudoku writes digits with ``.`` (or ``0``) for a blank, 81 characters; Maze writes ``#`` wall,
space open, ``S`` start, ``G`` goal and ``o`` path, 900 characters for 30×30.

This module only splits a file into rows and checks its shape (columns, lengths, ratings), so
a bad row is reported with its file and line; ``csv_import`` checks what the cells mean. It
also writes the format, for puzzles HRM Studio generates itself (``generate_sudoku_csv``,
``generate_maze_csv``), so they go through the same import as the real files.
"""

from __future__ import annotations

import csv
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from hrm_studio.errors import ConfigError, DatasetError

HEADER = ("source", "question", "answer", "rating")
SUDOKU_CELLS = 81
MAZE_CHARS = "# SGo"  # tokens 1..5, as the official maze builder numbers them
_CHUNK = 1 << 16  # rows checked and stored as one block

# (stage, done, total): e.g. ("reading train.csv", rows read, rows the file seems to hold)
ProgressCallback = Callable[[str, int, int], None]
T = TypeVar("T")


@dataclass(eq=False)
class CsvPuzzles:
    """The rows of one CSV file: questions and answers as ASCII codes [N, cells], ratings, lines.

    The ``source`` column is not kept: the official builders ignore it too.
    """

    path: Path
    questions: np.ndarray  # uint8 [N, cells]
    answers: np.ndarray  # uint8 [N, cells]
    ratings: np.ndarray  # int64 [N]
    lines: np.ndarray  # int64 [N]: the line each row ends on, for messages

    def __len__(self) -> int:
        return len(self.lines)

    def where(self, index: int) -> str:
        """``<file>, line <n>``: where row ``index`` sits, for an error message."""
        return f"{self.path}, line {int(self.lines[index])}"

    def subset(self, indices: np.ndarray) -> CsvPuzzles:
        idx = np.asarray(indices, dtype=np.intp)
        return CsvPuzzles(self.path, self.questions[idx], self.answers[idx], self.ratings[idx], self.lines[idx])


def read_puzzle_csv(path: str | Path, cells: int | None, progress: ProgressCallback | None = None
                    ) -> CsvPuzzles:
    """Every row of ``path``; ``cells`` is the length of each question and answer (None: the
    first row's, which must be a square number). DatasetError names the file, line and problem."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"The CSV file {path} does not exist (or is a folder).")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:  # -sig: a spreadsheet's byte-order mark
            return _read_rows(path, csv.reader(f), cells, path.stat().st_size, progress)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path} is not UTF-8 text ({exc.reason}); is it really a puzzle CSV?") from None
    except csv.Error as exc:
        raise DatasetError(f"{path} is not valid CSV ({exc}).") from None
    except OSError as exc:
        raise DatasetError(f"Cannot read {path}: {exc.strerror or exc}.") from None


def _read_rows(path: Path, reader: Iterable[list[str]], cells: int | None, size: int,
               progress: ProgressCallback | None) -> CsvPuzzles:
    rows = iter(reader)
    header = next(rows, None)
    if header is None or tuple(h.strip().lower() for h in header) != HEADER:
        raise DatasetError(
            f"{path}, line 1: the header must be '{','.join(HEADER)}' (the official builders' "
            f"format), not {','.join(header or []) or 'empty'!r}."
        )
    # flat buffers, not a list of rows: Sudoku-Extreme's 3.8 million rows stay ~0.7 GB
    questions, answers = bytearray(), bytearray()
    ratings, lines = array("q"), array("q")
    chunk: list[tuple[int, list[str]]] = []
    estimate = 0  # rows the file holds, judged from the first row's size: the bar's total
    for row in rows:
        if not row:
            continue  # a blank line (e.g. at the end)
        line = reader.line_num  # type: ignore[attr-defined]
        if cells is None:
            cells = _cells_of_first(path, line, row)
            estimate = max(1, size // (len(row[0]) + 2 * cells + len(row[3] if len(row) > 3 else "") + 4))
        if len(row) != len(HEADER) or len(row[1]) != cells or len(row[2]) != cells:
            _check_row(path, line, row, cells)  # raises, naming what is wrong
        chunk.append((line, row))
        if len(chunk) == _CHUNK:
            _append_chunk(path, chunk, cells, (questions, answers, ratings, lines))
            chunk = []
            if progress is not None:
                progress(f"reading {path.name}", len(lines), max(estimate, len(lines)))
    _append_chunk(path, chunk, cells or 0, (questions, answers, ratings, lines))
    if progress is not None:
        progress(f"reading {path.name}", len(lines), len(lines))
    shape = (len(lines), cells or 0)
    return CsvPuzzles(
        path, np.frombuffer(questions, dtype=np.uint8).reshape(shape),
        np.frombuffer(answers, dtype=np.uint8).reshape(shape),
        np.frombuffer(ratings, dtype=np.int64).copy(), np.frombuffer(lines, dtype=np.int64).copy(),
    )


def _append_chunk(path: Path, chunk: list[tuple[int, list[str]]], cells: int,
                  out: tuple[bytearray, bytearray, array, array]) -> None:
    """Add rows of the right shape to the buffers, checking their text and ratings as a block."""
    questions, answers, ratings, lines = out
    for column, buffer in ((1, questions), (2, answers)):
        try:
            buffer += "".join(row[column] for _, row in chunk).encode("ascii")
        except UnicodeEncodeError as exc:
            line, row = chunk[exc.start // cells]
            _check_row(path, line, row, cells)
    for line, row in chunk:
        ratings.append(_rating(path, line, row[3]))
        lines.append(line)


def _cells_of_first(path: Path, line: int, row: list[str]) -> int:
    n = len(row[1]) if len(row) > 1 else 0
    side = round(n**0.5)
    if n == 0 or side * side != n:
        raise DatasetError(
            f"{path}, line {line}: the question has {n} characters; a square grid needs a square "
            f"number (900 for 30x30)."
        )
    return n


def _check_row(path: Path, line: int, row: list[str], cells: int) -> tuple[bytes, bytes]:
    if len(row) != len(HEADER):
        raise DatasetError(
            f"{path}, line {line}: expected {len(HEADER)} columns ({','.join(HEADER)}), "
            f"found {len(row)}."
        )
    encoded = []
    for name, text in (("question", row[1]), ("answer", row[2])):
        if len(text) != cells:
            raise DatasetError(
                f"{path}, line {line}: the {name} has {len(text)} characters, not {cells}."
            )
        if not text.isascii():
            bad = next(ch for ch in text if not ch.isascii())
            raise DatasetError(f"{path}, line {line}: the {name} holds the character {bad!r}.")
        encoded.append(text.encode("ascii"))
    return encoded[0], encoded[1]


def _rating(path: Path, line: int, text: str) -> int:
    try:
        value = int(text)  # int() allows the spaces around it
        if abs(value) < 1 << 62:
            return value
    except ValueError:
        pass
    raise DatasetError(f"{path}, line {line}: the rating must be a whole number, not {text!r}.")


# --------------------------------------------------------------------------------- writing


def write_puzzle_csv(path: str | Path, rows: Iterable[tuple[str, str, str, int]]) -> Path:
    """Write ``(source, question, answer, rating)`` rows under the official header."""
    path = Path(path)
    try:
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(HEADER)
            writer.writerows(rows)
    except OSError as exc:
        raise DatasetError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    return path


def sudoku_text(digits: np.ndarray) -> str:
    """81 characters: digits 1-9, ``.`` for a blank (0), as Sudoku-Extreme writes them."""
    return "".join("." if d == 0 else str(int(d)) for d in np.asarray(digits).reshape(-1))


def maze_text(tokens: np.ndarray) -> str:
    """A maze of tokens 1..5 as the characters ``# SGo``, row-major."""
    return "".join(MAZE_CHARS[int(t) - 1] for t in np.asarray(tokens).reshape(-1))


def generate_sudoku_csv(path: str | Path, count: int, *, seed: int = 0, min_blanks: int = 0,
                        min_rating: int = 0) -> Path:
    """``count`` minimal Sudokus (``tasks.sudoku_hard``) with their backtrack ratings, as a CSV."""
    from hrm_studio.data.tasks.sudoku_hard import MAX_MIN_BLANKS, hard_sudoku

    _check_count(count, seed)
    if not 0 <= min_blanks <= MAX_MIN_BLANKS:
        raise ConfigError(f"min_blanks must be between 0 and {MAX_MIN_BLANKS}, not {min_blanks}.")
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        found = _or_config_error(lambda: hard_sudoku(rng, min_blanks, min_rating))
        rows.append(("hrm-studio", sudoku_text(found.puzzle), sudoku_text(found.solution), found.rating))
    return write_puzzle_csv(path, rows)


def generate_maze_csv(path: str | Path, count: int, *, seed: int = 0, size: int = 30,
                      min_path_length: int = 110) -> Path:
    """``count`` mazes (``tasks.maze_hard``) whose rating is the S→G path length in steps."""
    from hrm_studio.data.tasks.maze_hard import hard_maze

    _check_count(count, seed)
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        found = _or_config_error(lambda: hard_maze(rng, size, min_path_length))
        rows.append(("hrm-studio", maze_text(found.question), maze_text(found.answer), found.path_length))
    return write_puzzle_csv(path, rows)


def _or_config_error(make: Callable[[], T]) -> T:
    """The generators' "cannot reach that bound" ValueError, as a message for the user."""
    try:
        return make()
    except ValueError as exc:
        raise ConfigError(f"Cannot generate these puzzles: {exc}; ask for less.") from None


def _check_count(count: int, seed: int) -> None:
    for name, value, low in (("count", count, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{name} must be a whole number of at least {low}, not {value!r}.")
