"""Sudoku-Extreme and Maze-Hard CSV files → the official dataset folder, as the official builders
write it (sapientinc/HRM ``dataset/build_sudoku_dataset.py`` and ``build_maze_dataset.py``).

The facts matched:

* ``min_rating`` keeps the rows rated at least that, in both splits (upstream has it for Sudoku
  only; here Maze has it too); ``subsample`` keeps that many random training rows (all if fewer);
  the test split is never subsampled nor augmented.
* Sudoku ``num_aug``: each training puzzle is followed by ``num_aug`` shuffled copies — a random
  permutation of the digits 1-9, a transpose half the time, the three bands and the rows within
  each band, the three stacks and the columns within each stack shuffled; the same shuffle for
  the question and its answer, so every copy is a valid Sudoku; duplicates are kept, as upstream.
  Maze ``aug``: each training maze is followed by its 7 other dihedral transforms (upstream's
  ``--aug``; the order of ``dataset/common.py``: identity, rot90, rot180, rot270, flip
  left-right, flip up-down, transpose, anti-transpose).
* A group is a puzzle and its copies; each copy is its own puzzle of one example; every puzzle
  identifier is 0 (the blank) and ``identifiers.json`` is ``["<blank>"]``.
* Tokens: Sudoku PAD 0, blank 1, digit d → d + 1 (vocab 11, seq_len 81); Maze PAD 0 and
  ``# SGo`` → 1..5 (vocab 6, seq_len = cells, 900 for 30×30). ``ignore_label_id`` 0, one set
  ``all``, inputs and labels uint8, index arrays int32.

Added beside the official files: ``all__ratings.npy`` (int64, one per example: its row's rating,
kept by the copies), which the official loader never opens; ``read_ratings`` reads it back.

Every row is checked before anything is written, and the first bad one is reported with its
file, line and problem: wrong length or characters; an answer that changes a given; a Sudoku
answer that is not a valid solution (every row, column and box the digits 1-9); a maze question
without exactly one S and one G, or an answer whose ``o`` cells do not lead from S to G.

Randomness: one numpy Generator seeded by ``seed`` draws the subsample, then the augmentations,
so the same files and settings give byte-identical folders.

``prepare_…_csv`` reads, checks and augments; ``write_import`` writes. The CLI calls them apart
so that an occupied ``--out`` is moved aside only once every row has passed; ``import_…_csv``
does both.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hrm_studio.data.arc.augment import DIHEDRAL_COUNT, dihedral
from hrm_studio.data.hrm_format import (
    BLANK_IDENTIFIER_ID,
    IDENTIFIERS_FILE,
    METADATA_FILE,
)
from hrm_studio.data.puzzle_csv import (
    MAZE_CHARS,
    SUDOKU_CELLS,
    CsvPuzzles,
    ProgressCallback,
    read_puzzle_csv,
)
from hrm_studio.data.out_folder import prepare_out_dir
from hrm_studio.errors import ConfigError, DatasetError

SET_NAME = "all"
RATINGS_KEY = "ratings"
SUDOKU_VOCAB = 11
MAZE_VOCAB = len(MAZE_CHARS) + 1
_AUG_CHUNK = 4096  # Sudoku copies made per numpy step (bounds the index arrays' memory)


@dataclass(frozen=True)
class CsvImportSummary:
    """What an import wrote: puzzles are CSV rows kept, examples include their augmentations."""

    out_dir: Path
    kind: str  # "sudoku" | "maze"
    train_puzzles: int
    train_examples: int
    test_puzzles: int
    test_examples: int
    below_min_rating: int  # rows dropped by min_rating, both splits together
    train_rows_read: int  # training rows before min_rating and subsample


@dataclass(frozen=True)
class _Kind:
    """How one CSV kind is checked and encoded."""

    name: str
    cells: int | None  # None: any square, taken from the first row
    vocab: int
    encode: Callable[[CsvPuzzles], tuple[np.ndarray, np.ndarray]]  # tokens [N, cells] uint8


Augment = Callable[[np.random.Generator, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
Split = tuple[np.ndarray, np.ndarray, np.ndarray]  # inputs, labels (uint8 tokens), ratings


@dataclass(eq=False)
class PreparedImport:
    """Both splits read, checked, filtered and augmented, not yet written (``write_import``)."""

    kind: str
    vocab: int
    splits: dict[str, Split]
    group_size: int  # training examples per CSV row (1 + augmentations)
    below_min_rating: int
    train_rows_read: int


def prepare_sudoku_csv(source: str | Path, *, test_csv: str | Path | None = None,
                       min_rating: int | None = None, subsample: int | None = None, num_aug: int = 0,
                       seed: int = 0, progress: ProgressCallback | None = None) -> PreparedImport:
    """Read and check Sudoku-Extreme-style CSV files (``import_sudoku_csv`` says which)."""
    _check_int("num_aug", num_aug, 0)
    kind = _Kind("sudoku", SUDOKU_CELLS, SUDOKU_VOCAB, encode_sudoku)

    def augment(rng: np.random.Generator, inputs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return shuffle_sudokus(rng, inputs, labels, num_aug, progress)

    return _prepare(kind, source, test_csv, min_rating, subsample, seed, progress,
                    augment if num_aug else None, 1 + num_aug)


def prepare_maze_csv(source: str | Path, *, test_csv: str | Path | None = None,
                     min_rating: int | None = None, subsample: int | None = None, aug: bool = False,
                     seed: int = 0, progress: ProgressCallback | None = None) -> PreparedImport:
    """Read and check Maze-Hard-style CSV files (``import_maze_csv`` says which)."""
    if not isinstance(aug, bool):
        raise ConfigError(f"aug must be true or false, not {aug!r}.")
    kind = _Kind("maze", None, MAZE_VOCAB, encode_maze)
    return _prepare(kind, source, test_csv, min_rating, subsample, seed, progress,
                    dihedral_mazes if aug else None, DIHEDRAL_COUNT if aug else 1)


def import_sudoku_csv(source: str | Path, out_dir: str | Path, *, test_csv: str | Path | None = None,
                      min_rating: int | None = None, subsample: int | None = None, num_aug: int = 0,
                      seed: int = 0, progress: ProgressCallback | None = None,
                      overwrite: bool = False) -> CsvImportSummary:
    """Build the official Sudoku layout at ``out_dir`` from Sudoku-Extreme-style CSV files.

    ``source``: a folder holding ``train.csv`` (and usually ``test.csv``), as the Hugging Face
    data set ships, or one CSV file for the training split (``test_csv`` then gives the test
    split; without it the test split is empty). Nothing is written unless every row is good.
    Refuses a non-empty ``out_dir`` unless ``overwrite``. ``progress(stage, done, total)`` is
    called as the files are read and the copies made.
    """
    prepared = prepare_sudoku_csv(source, test_csv=test_csv, min_rating=min_rating, subsample=subsample,
                                  num_aug=num_aug, seed=seed, progress=progress)
    return write_import(prepared, out_dir, overwrite=overwrite)


def import_maze_csv(source: str | Path, out_dir: str | Path, *, test_csv: str | Path | None = None,
                    min_rating: int | None = None, subsample: int | None = None, aug: bool = False,
                    seed: int = 0, progress: ProgressCallback | None = None,
                    overwrite: bool = False) -> CsvImportSummary:
    """Build the official maze layout from Maze-Hard-style CSV files (``source`` as for Sudoku).

    ``aug`` adds each training maze's 7 other dihedral transforms, as upstream's ``--aug``.
    """
    prepared = prepare_maze_csv(source, test_csv=test_csv, min_rating=min_rating, subsample=subsample,
                                aug=aug, seed=seed, progress=progress)
    return write_import(prepared, out_dir, overwrite=overwrite)


def write_import(prepared: PreparedImport, out_dir: str | Path, *, overwrite: bool = False) -> CsvImportSummary:
    """Write ``prepared`` in the official layout (refusing a non-empty folder unless ``overwrite``)."""
    out = prepare_out_dir(Path(out_dir), overwrite)
    _write_layout(out, prepared)
    train, test = prepared.splits["train"], prepared.splits["test"]
    return CsvImportSummary(out, prepared.kind, len(train[0]) // prepared.group_size, len(train[0]),
                            len(test[0]), len(test[0]), prepared.below_min_rating, prepared.train_rows_read)


def _prepare(kind: _Kind, source: str | Path, test_csv: str | Path | None, min_rating: int | None,
             subsample: int | None, seed: int, progress: ProgressCallback | None,
             augment: Augment | None, group_size: int) -> PreparedImport:
    """Read and check both splits, filter, subsample, augment the training split."""
    if min_rating is not None:
        _check_int("min_rating", min_rating, None)
    if subsample is not None:
        _check_int("subsample", subsample, 1)
    _check_int("seed", seed, 0)
    train_path, test_path = csv_files(source, test_csv)
    train = read_puzzle_csv(train_path, kind.cells, progress)
    cells = train.questions.shape[1] if len(train) else kind.cells
    test = read_puzzle_csv(test_path, cells, progress) if test_path is not None else None
    rng = np.random.default_rng(seed)
    splits: dict[str, Split] = {"test": _empty(train.questions.shape[1])}
    dropped = 0
    for split, rows in (("train", train), ("test", test)):
        if rows is None:
            continue
        inputs, labels = kind.encode(rows)  # checks every row, whatever the filters keep
        keep = np.arange(len(rows)) if min_rating is None else np.flatnonzero(rows.ratings >= min_rating)
        dropped += len(rows) - len(keep)
        if split == "train" and subsample is not None and subsample < len(keep):
            keep = np.sort(rng.choice(keep, size=subsample, replace=False))
        splits[split] = (inputs[keep], labels[keep], rows.ratings[keep])
    if not len(splits["train"][0]):
        why = "" if min_rating is None else f", none rated {min_rating} or more; lower the minimum rating"
        raise DatasetError(f"No training puzzles are left in {train_path} ({len(train)} row(s) read{why}).")
    if augment is not None:
        inputs, labels, ratings = splits["train"]
        splits["train"] = (*augment(rng, inputs, labels), np.repeat(ratings, group_size))
    return PreparedImport(kind.name, kind.vocab, splits, group_size if augment else 1, dropped, len(train))


def csv_files(source: str | Path, test_csv: str | Path | None = None) -> tuple[Path, Path | None]:
    """(training CSV, test CSV or None) for a folder of ``train.csv``/``test.csv`` or a file."""
    src = Path(source)
    if src.is_dir():
        if test_csv is not None:
            raise ConfigError("Give either a folder holding train.csv and test.csv, or a training "
                              "CSV file with a test CSV file, not a folder and a test file.")
        train, test = src / "train.csv", src / "test.csv"
        if not train.is_file():
            raise DatasetError(f"The folder {src} holds no train.csv; the official data sets ship "
                               f"train.csv and test.csv together (or name one CSV file).")
        return train, test if test.is_file() else None
    if not src.is_file():
        raise DatasetError(f"{src} does not exist; name a CSV file or a folder holding train.csv.")
    return src, Path(test_csv) if test_csv is not None else None


def _check_int(name: str, value: Any, low: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or (low is not None and value < low):
        floor = "" if low is None else f" of at least {low}"
        raise ConfigError(f"{name} must be a whole number{floor}, not {value!r}.")


def _empty(cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (np.zeros((0, cells), np.uint8), np.zeros((0, cells), np.uint8), np.zeros(0, np.int64))


# ------------------------------------------------------------------------------- Sudoku


def encode_sudoku(rows: CsvPuzzles) -> tuple[np.ndarray, np.ndarray]:
    """Checked Sudoku rows as tokens (blank 1, digit d → d + 1): (inputs, labels) uint8 [N, 81]."""
    q = rows.questions.astype(np.int16)
    q[q == ord(".")] = ord("0")
    q -= ord("0")
    a = rows.answers.astype(np.int16) - ord("0")
    bad = ((q < 0) | (q > 9)).any(axis=1) | ((a < 1) | (a > 9)).any(axis=1)
    bad |= ((q != 0) & (q != a)).any(axis=1)
    bits = (np.left_shift(1, np.clip(a, 0, 9)) & 0x3FE).reshape(-1, 9, 9)  # digit d → bit d
    boxes = bits.reshape(-1, 3, 3, 3, 3).transpose(0, 1, 3, 2, 4).reshape(-1, 9, 9)
    for units in (bits, bits.transpose(0, 2, 1), boxes):  # nine cells hold 1..9 iff their bits make 0x3FE
        bad |= (np.bitwise_or.reduce(units, axis=2) != 0x3FE).any(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DatasetError(f"{rows.where(i)}: {sudoku_problem(rows.questions[i], rows.answers[i])}")
    return (q + 1).astype(np.uint8), (a + 1).astype(np.uint8)


def sudoku_problem(question: np.ndarray, answer: np.ndarray) -> str:
    """What is wrong with one Sudoku row (ASCII codes), in words; "" when nothing is."""
    q, a = bytes(question).decode("ascii"), bytes(answer).decode("ascii")
    for k, ch in enumerate(q):
        if ch not in ".0123456789":
            return (f"the question holds {ch!r} at row {k // 9 + 1}, column {k % 9 + 1}; use the "
                    f"digits 1-9 and '.' or '0' for a blank.")
    for k, ch in enumerate(a):
        if ch not in "123456789":
            return (f"the answer holds {ch!r} at row {k // 9 + 1}, column {k % 9 + 1}; an answer is "
                    f"81 digits 1-9.")
    for k, (given, digit) in enumerate(zip(q, a)):
        if given not in ".0" and given != digit:
            return (f"the answer has {digit} at row {k // 9 + 1}, column {k % 9 + 1} where the "
                    f"question gives {given}; the answer must keep every given.")
    grid = np.frombuffer(answer.tobytes(), np.uint8).reshape(9, 9) - ord("0")
    for i in range(9):
        box = grid[3 * (i // 3): 3 * (i // 3) + 3, 3 * (i % 3): 3 * (i % 3) + 3]
        for unit, values in (("row", grid[i]), ("column", grid[:, i]), ("box", box.reshape(-1))):
            counts = np.bincount(values, minlength=10)
            if counts.max() > 1:
                return (f"the answer is not a valid Sudoku: {unit} {i + 1} holds the digit "
                        f"{int(counts.argmax())} {int(counts.max())} times.")
    return ""


def shuffle_sudokus(rng: np.random.Generator, inputs: np.ndarray, labels: np.ndarray, num_aug: int,
                    progress: ProgressCallback | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each puzzle followed by ``num_aug`` validity-keeping shuffles (module docstring), tokens in
    and out: [N, 81] → [N·(1 + num_aug), 81], question and answer shuffled alike."""
    n = len(inputs)
    group = 1 + num_aug
    out_in = np.empty((n * group, 81), np.uint8)
    out_lab = np.empty_like(out_in)
    out_in[::group], out_lab[::group] = inputs, labels
    per_chunk = max(1, _AUG_CHUNK // max(num_aug, 1))
    for start in range(0, n, per_chunk):
        stop = min(n, start + per_chunk)
        src = np.repeat(np.arange(start, stop), num_aug)
        where, tokens = _random_shuffles(rng, len(src))
        slots = ((src * group).reshape(-1, num_aug) + np.arange(1, group)).reshape(-1)
        for source, out in ((inputs, out_in), (labels, out_lab)):
            moved = source[src[:, None], where]  # each copy's cells, taken from their new places
            out[slots] = tokens[np.arange(len(src))[:, None], moved]
        if progress is not None:
            progress("augment", stop, n)
    return out_in, out_lab


def _random_shuffles(rng: np.random.Generator, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``m`` random shuffles: for each, the source cell of every new cell [m, 81] (row and column
    orders, transposed half the time) and a token map [m, 11] relabelling the digits."""
    def line_order() -> np.ndarray:
        bands = np.argsort(rng.random((m, 3)), axis=1)
        within = np.argsort(rng.random((m, 3, 3)), axis=2)
        return (3 * bands[:, :, None] + within).reshape(m, 9)

    rows, cols = line_order(), line_order()
    transpose = rng.random(m) < 0.5
    straight = 9 * rows[:, :, None] + cols[:, None, :]  # new (i, j) ← old (rows[i], cols[j])
    flipped = 9 * cols[:, None, :] + rows[:, :, None]  # … of the transposed grid
    where = np.where(transpose[:, None, None], flipped, straight).reshape(m, 81)
    digits = np.argsort(rng.random((m, 9)), axis=1) + 2  # a permutation of tokens 2..10
    tokens = np.concatenate([np.tile([0, 1], (m, 1)), digits], axis=1).astype(np.uint8)  # PAD, blank stay
    return where, tokens


# --------------------------------------------------------------------------------- Maze


def encode_maze(rows: CsvPuzzles) -> tuple[np.ndarray, np.ndarray]:
    """Checked maze rows as tokens (``# SGo`` → 1..5): (inputs, labels) uint8 [N, cells]."""
    lut = np.zeros(256, np.uint8)
    lut[np.frombuffer(MAZE_CHARS.encode(), np.uint8)] = np.arange(1, len(MAZE_CHARS) + 1)
    q, a = lut[rows.questions], lut[rows.answers]
    _, open_, start, goal, path = range(1, 6)  # wall, open, S, G, o
    bad = ((q == 0) | (q == path)).any(axis=1) | (a == 0).any(axis=1)
    bad |= ((q == start).sum(axis=1) != 1) | ((q == goal).sum(axis=1) != 1)
    # The answer marks open cells 'o'; S and G may stay or be marked 'o' too (either layout is read).
    ends = (q == start) | (q == goal)
    bad |= ((a != q) & ~(((q == open_) | ends) & (a == path))).any(axis=1)
    side = round(q.shape[1] ** 0.5)
    ok = np.flatnonzero(~bad)
    if len(ok):
        routes = np.where(ends, q, a)[ok].reshape(-1, side, side)  # S and G as the question has them
        bad[ok[~_paths_connect(routes, start, goal, path)]] = True
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DatasetError(f"{rows.where(i)}: {maze_problem(rows.questions[i], rows.answers[i])}")
    return q, a


def _paths_connect(answers: np.ndarray, start: int, goal: int, path: int) -> np.ndarray:
    """Per maze: do the cells marked path, with S and G, form one connected run from S to G?"""
    result = np.empty(len(answers), dtype=bool)
    for lo in range(0, len(answers), 1024):
        a = answers[lo : lo + 1024]
        allowed = (a == path) | (a == goal) | (a == start)
        reach = a == start
        while True:
            grown = reach.copy()
            grown[:, 1:] |= reach[:, :-1]
            grown[:, :-1] |= reach[:, 1:]
            grown[:, :, 1:] |= reach[:, :, :-1]
            grown[:, :, :-1] |= reach[:, :, 1:]
            grown &= allowed
            if np.array_equal(grown, reach):
                break
            reach = grown
        result[lo : lo + 1024] = (reach == allowed).all(axis=(1, 2))
    return result


def maze_problem(question: np.ndarray, answer: np.ndarray) -> str:
    """What is wrong with one maze row (ASCII codes), in words; "" when nothing is."""
    q, a = bytes(question).decode("ascii"), bytes(answer).decode("ascii")
    side = round(len(q) ** 0.5)

    def cell(k: int) -> str:
        return f"row {k // side + 1}, column {k % side + 1}"

    for name, text, allowed in (("question", q, MAZE_CHARS[:-1]), ("answer", a, MAZE_CHARS)):
        for k, ch in enumerate(text):
            if ch not in allowed:
                return (f"the {name} holds {ch!r} at {cell(k)}; a maze {name} uses only "
                        f"{', '.join(repr(c) for c in allowed)}.")
    for mark, what in (("S", "start"), ("G", "goal")):
        if q.count(mark) != 1:
            return f"the question has {q.count(mark)} {what} cells {mark!r}; it needs exactly one."
    for k, (given, marked) in enumerate(zip(q, a)):
        if given != marked and not (given in " SG" and marked == "o"):
            return (f"the answer changes {cell(k)} from {given!r} to {marked!r}; it may only mark "
                    f"open cells 'o'.")
    return "the cells marked 'o' do not form one path from S to G."


def dihedral_mazes(rng: np.random.Generator, inputs: np.ndarray, labels: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Each maze followed by its 7 other dihedral transforms: [N, cells] → [8·N, cells]."""
    side = round(inputs.shape[1] ** 0.5)
    out = []
    for source in (inputs, labels):
        grids = source.reshape(-1, side, side)
        out.append(np.stack([np.stack([dihedral(g, k) for k in range(DIHEDRAL_COUNT)]) for g in grids])
                   .reshape(-1, side * side) if len(grids) else source)
    return out[0], out[1]


# --------------------------------------------------------------------------------- writing


def _write_layout(out: Path, prepared: PreparedImport) -> None:
    group_sizes = {"train": prepared.group_size, "test": 1}
    try:
        (out / IDENTIFIERS_FILE).write_text(json.dumps(["<blank>"]) + "\n", encoding="utf-8")
        for split, (inputs, labels, ratings) in prepared.splits.items():
            folder = out / split
            folder.mkdir(exist_ok=True)
            n = len(inputs)
            arrays = {
                "inputs": inputs.astype(np.uint8), "labels": labels.astype(np.uint8),
                "puzzle_identifiers": np.full(n, BLANK_IDENTIFIER_ID, np.int32),
                "puzzle_indices": np.arange(n + 1, dtype=np.int32),
                "group_indices": np.arange(0, n + 1, group_sizes[split], dtype=np.int32),
                RATINGS_KEY: ratings.astype(np.int64),
            }
            for key, arr in arrays.items():
                np.save(folder / f"{SET_NAME}__{key}.npy", arr)
            metadata = {
                "pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": BLANK_IDENTIFIER_ID,
                "vocab_size": prepared.vocab, "seq_len": int(inputs.shape[1]), "num_puzzle_identifiers": 1,
                "total_groups": len(arrays["group_indices"]) - 1, "mean_puzzle_examples": 1.0,
                "sets": [SET_NAME],
            }
            (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"Cannot write the data set in {out}: {exc.strerror or exc}.") from exc


def read_ratings(dataset_dir: str | Path, split: str = "test") -> np.ndarray | None:
    """The rating of each example of ``split`` in ``read_dataset``'s order, or None without one.

    Only folders this module wrote have ratings (one set ``all``, so the order is the file's).
    """
    path = Path(dataset_dir) / split / f"{SET_NAME}__{RATINGS_KEY}.npy"
    if not path.is_file():
        return None
    try:
        ratings = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise DatasetError(f"{path} cannot be read as a plain array of ratings ({exc}).") from exc
    if ratings.ndim != 1 or ratings.dtype.kind not in "iu":
        raise DatasetError(f"{path} must hold one whole-number rating per example.")
    return ratings.astype(np.int64)
