"""Read and write the official HRM dataset folder (see hrm-spec.md, "Dataset folder").

Layout::

    <dataset>/identifiers.json                      ["<blank>", name, …]
    <dataset>/{train,test}/dataset.json             metadata (fields below)
    <dataset>/{train,test}/<set>__inputs.npy        int [examples, seq_len]
    <dataset>/{train,test}/<set>__labels.npy        int [examples, seq_len]
    <dataset>/{train,test}/<set>__puzzle_identifiers.npy  int [puzzles]
    <dataset>/{train,test}/<set>__puzzle_indices.npy      int [puzzles + 1]
    <dataset>/{train,test}/<set>__group_indices.npy       int [groups + 1]
    <dataset>/studio_task.json                      HRM Studio's TaskInfo (optional on read)

We write one set per pattern (set name = pattern name, so the tags survive a round
trip), each example its own puzzle and group, labels as they are (ignore_label_id
-100). On read, puzzles are flattened to examples that carry their puzzle's
identifier, the set name becomes the pattern, and labels equal to a dataset's own
ignore_label_id (the official ARC, Sudoku and maze builders use 0) become -100.
Everything is loaded into memory, and never with pickles.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from hrm_studio.data.grid import COLOUR_VOCAB_LABELS, IGNORE, PAD
from hrm_studio.data.puzzle_set import PuzzleSet
from hrm_studio.data.task_data import TaskData, TaskInfo
from hrm_studio.errors import DatasetError

SPLITS = ("train", "test")
ARRAYS = ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices")
IDENTIFIERS_FILE = "identifiers.json"
METADATA_FILE = "dataset.json"
STUDIO_FILE = "studio_task.json"
BLANK_IDENTIFIER_ID = 0
_INT_FIELDS = (
    "pad_id",
    "blank_identifier_id",
    "vocab_size",
    "seq_len",
    "num_puzzle_identifiers",
    "total_groups",
)


# --------------------------------------------------------------------------- write


def write_dataset(out_dir: str | Path, data: TaskData) -> Path:
    """Write ``data`` as an official-layout folder at ``out_dir`` (created if needed)."""
    out = Path(out_dir)
    info = data.info
    for split, puzzles in (("train", data.train), ("test", data.test)):
        puzzles.validate(info.vocab_size, info.num_puzzle_identifiers, source=f"{split} split")
        for name in puzzles.pattern_names:
            _check_set_name(name, f"{split} split")
    try:
        out.mkdir(parents=True, exist_ok=True)
        _write_json(out / IDENTIFIERS_FILE, list(info.identifier_names))
        for split, puzzles in (("train", data.train), ("test", data.test)):
            _write_split(out / split, puzzles, info)
        _write_json(out / STUDIO_FILE, info.to_dict())
    except OSError as exc:
        raise DatasetError(
            f"Cannot write the dataset folder {out}: {exc.strerror or exc}."
        ) from exc
    return out


def _write_split(folder: Path, puzzles: PuzzleSet, info: TaskInfo) -> None:
    folder.mkdir(exist_ok=True)
    sets = puzzles.pattern_names
    for name in sets:
        idx = np.flatnonzero(puzzles.patterns == name)
        n = len(idx)
        arrays = {
            "inputs": puzzles.inputs[idx],
            "labels": puzzles.labels[idx],
            "puzzle_identifiers": puzzles.puzzle_identifiers[idx],
            "puzzle_indices": np.arange(n + 1),  # one example per puzzle
            "group_indices": np.arange(n + 1),  # one puzzle per group
        }
        for key, arr in arrays.items():
            np.save(folder / f"{name}__{key}.npy", np.ascontiguousarray(arr, dtype=np.int32))
    metadata = {
        "pad_id": PAD,
        "ignore_label_id": IGNORE,
        "blank_identifier_id": BLANK_IDENTIFIER_ID,
        "vocab_size": info.vocab_size,
        "seq_len": info.seq_len,
        "num_puzzle_identifiers": info.num_puzzle_identifiers,
        "total_groups": len(puzzles),
        "mean_puzzle_examples": 1.0 if len(puzzles) else 0.0,
        "sets": sets,
    }
    _write_json(folder / METADATA_FILE, metadata)


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")


def _check_set_name(name: str, where: str) -> None:
    """Set names become file names: refuse anything that could leave the folder."""
    if not name or name.startswith(".") or any(ch in name for ch in "/\\\0:"):
        raise DatasetError(f"{where}: the set/pattern name {name!r} cannot be used as a file name.")


# ---------------------------------------------------------------------------- read


def read_dataset(path: str | Path) -> TaskData:
    """Load an official-layout folder (ours or the official builders') as TaskData."""
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"The dataset folder {root} does not exist or is not a folder.")
    names = _read_json(root / IDENTIFIERS_FILE)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DatasetError(f"{root / IDENTIFIERS_FILE} must hold a JSON list of names.")

    metas = {split: _read_metadata(root / split / METADATA_FILE) for split in SPLITS}
    train_meta = metas["train"]
    for key in ("vocab_size", "seq_len", "num_puzzle_identifiers"):
        if metas["test"][key] != train_meta[key]:
            raise DatasetError(
                f"{root / 'test' / METADATA_FILE}: {key} is {metas['test'][key]} but "
                f"train/{METADATA_FILE} says {train_meta[key]}; both splits must agree."
            )
    if len(names) != train_meta["num_puzzle_identifiers"]:
        raise DatasetError(
            f"{root / IDENTIFIERS_FILE} lists {len(names)} name(s) but "
            f"num_puzzle_identifiers is {train_meta['num_puzzle_identifiers']}; they must match."
        )
    splits = {split: _read_split(root / split, metas[split]) for split in SPLITS}

    studio = root / STUDIO_FILE
    if studio.exists():
        info = TaskInfo.from_dict(_read_json(studio), source=str(studio))
        _check_studio_info(info, train_meta, names, splits, studio)
    else:
        info = _infer_info(root.name, train_meta, names, splits)
    return TaskData(train=splits["train"], test=splits["test"], info=info)


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise DatasetError(f"The dataset file {path} is missing.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path} is not valid JSON ({exc}).") from exc


def _read_metadata(path: Path) -> dict[str, Any]:
    meta = _read_json(path)
    if not isinstance(meta, dict):
        raise DatasetError(f"{path} must hold a JSON object of dataset metadata.")
    required = (*_INT_FIELDS, "ignore_label_id", "mean_puzzle_examples", "sets")
    for key in required:
        if key not in meta:
            raise DatasetError(f"{path} is missing the field '{key}'.")
    for key in _INT_FIELDS:
        value = meta[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise DatasetError(f"{path}: field '{key}' must be a whole number ≥ 0, not {value!r}.")
    for key in ("vocab_size", "seq_len", "num_puzzle_identifiers"):
        if meta[key] < 1:
            raise DatasetError(f"{path}: field '{key}' must be at least 1, not {meta[key]}.")
    ignore = meta["ignore_label_id"]
    if ignore is not None and (isinstance(ignore, bool) or not isinstance(ignore, int)):
        raise DatasetError(f"{path}: field 'ignore_label_id' must be a whole number or null.")
    mean = meta["mean_puzzle_examples"]
    if isinstance(mean, bool) or not isinstance(mean, (int, float)) or not math.isfinite(mean):
        raise DatasetError(f"{path}: field 'mean_puzzle_examples' must be a number.")
    sets = meta["sets"]
    if not isinstance(sets, list) or not all(isinstance(s, str) for s in sets):
        raise DatasetError(f"{path}: field 'sets' must be a list of set names.")
    if len(set(sets)) != len(sets):
        raise DatasetError(f"{path}: field 'sets' names a set twice.")
    for name in sets:
        _check_set_name(name, str(path))
    return meta


def _load_int_array(path: Path, ndim: int) -> np.ndarray:
    if not path.is_file():
        raise DatasetError(f"The dataset file {path} is missing.")
    try:
        arr = np.load(path, allow_pickle=False)
    except OSError as exc:
        raise DatasetError(f"{path} cannot be read ({exc.strerror or exc}).") from exc
    except (ValueError, EOFError) as exc:
        raise DatasetError(
            f"{path} is not a plain numeric .npy array (it is damaged or holds pickled "
            f"objects, which HRM Studio never loads); re-save it with numpy.save."
        ) from exc
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "iu":
        raise DatasetError(
            f"{path} must hold integers, not {getattr(arr, 'dtype', type(arr).__name__)}; "
            f"re-save it with an integer dtype."
        )
    if arr.ndim != ndim:
        raise DatasetError(f"{path} must be a {ndim}-D array, not shape {arr.shape}.")
    return arr


def _check_offsets(path: Path, offsets: np.ndarray, count: int, what: str) -> None:
    """Offsets must run 0 … count without going backwards."""
    if len(offsets) < 1 or offsets[0] != 0 or offsets[-1] != count or np.any(np.diff(offsets) < 0):
        raise DatasetError(
            f"{path} must rise from 0 to {count} ({what}) without going backwards; "
            f"it does not fit the other files of its set."
        )


def _read_split(folder: Path, meta: dict[str, Any]) -> PuzzleSet:
    parts = [_read_set(folder, meta, name) for name in meta["sets"]]
    if not parts:
        return PuzzleSet.empty(meta["seq_len"])
    merged = PuzzleSet(
        inputs=np.concatenate([p.inputs for p in parts]),
        labels=np.concatenate([p.labels for p in parts]),
        puzzle_identifiers=np.concatenate([p.puzzle_identifiers for p in parts]),
        patterns=np.concatenate([p.patterns for p in parts]),
    )
    merged.validate(meta["vocab_size"], meta["num_puzzle_identifiers"], source=str(folder))
    return merged


def _read_set(folder: Path, meta: dict[str, Any], name: str) -> PuzzleSet:
    """One named set of a split (`<name>__inputs.npy`, …), checked against the metadata."""
    files = {key: folder / f"{name}__{key}.npy" for key in ARRAYS}
    inputs = _load_int_array(files["inputs"], 2)
    labels = _load_int_array(files["labels"], 2)
    ids = _load_int_array(files["puzzle_identifiers"], 1)
    puzzle_idx = _load_int_array(files["puzzle_indices"], 1)
    _check_shapes(folder, meta, files, inputs, labels, ids, puzzle_idx)
    _check_offsets(files["group_indices"], _load_int_array(files["group_indices"], 1), len(ids),
                   "puzzle offsets")
    labels = labels.astype(np.int64)
    if meta["ignore_label_id"] is not None:
        labels[labels == meta["ignore_label_id"]] = IGNORE
    _check_values(folder, meta, files, inputs, labels, ids)
    return PuzzleSet(
        inputs=inputs.astype(np.int32),
        labels=labels.astype(np.int32),
        puzzle_identifiers=np.repeat(ids, np.diff(puzzle_idx)).astype(np.int32),
        patterns=np.full(inputs.shape[0], name),
    )


def _check_shapes(folder: Path, meta: dict[str, Any], files: dict[str, Path], inputs: np.ndarray,
                  labels: np.ndarray, ids: np.ndarray, puzzle_idx: np.ndarray) -> None:
    seq_len = meta["seq_len"]
    if inputs.shape[1] != seq_len:
        raise DatasetError(
            f"{files['inputs']} has sequences of {inputs.shape[1]} tokens but "
            f"{folder / METADATA_FILE} says seq_len {seq_len}."
        )
    if labels.shape != inputs.shape:
        raise DatasetError(
            f"{files['labels']} has shape {labels.shape} but {files['inputs'].name} has "
            f"{inputs.shape}; they must match."
        )
    if len(puzzle_idx) != len(ids) + 1:
        raise DatasetError(
            f"{files['puzzle_indices']} has {len(puzzle_idx)} entries but there are "
            f"{len(ids)} puzzle identifiers; it needs one more than the puzzles."
        )
    _check_offsets(files["puzzle_indices"], puzzle_idx, inputs.shape[0], "example offsets")


def _check_values(folder: Path, meta: dict[str, Any], files: dict[str, Path], inputs: np.ndarray,
                  labels: np.ndarray, ids: np.ndarray) -> None:
    """Tokens and labels inside the vocabulary, identifiers inside their range."""
    vocab, num_ids = meta["vocab_size"], meta["num_puzzle_identifiers"]
    bad = (inputs < 0) | (inputs >= vocab)
    if bad.any():
        raise DatasetError(
            f"{files['inputs']} holds token {int(inputs[bad][0])}, outside the vocabulary "
            f"0..{vocab - 1} of {folder / METADATA_FILE}."
        )
    bad = ((labels < 0) | (labels >= vocab)) & (labels != IGNORE)
    if bad.any():
        raise DatasetError(
            f"{files['labels']} holds label {int(labels[bad][0])}, outside the vocabulary "
            f"0..{vocab - 1} of {folder / METADATA_FILE}."
        )
    bad = (ids < 0) | (ids >= num_ids)
    if bad.any():
        raise DatasetError(
            f"{files['puzzle_identifiers']} holds identifier {int(ids[bad][0])}, but "
            f"{folder / METADATA_FILE} allows only 0..{num_ids - 1} "
            f"(num_puzzle_identifiers {num_ids})."
        )


def _check_studio_info(
    info: TaskInfo,
    meta: dict[str, Any],
    names: list[str],
    splits: dict[str, PuzzleSet],
    path: Path,
) -> None:
    for key in ("vocab_size", "seq_len", "num_puzzle_identifiers"):
        if getattr(info, key) != meta[key]:
            raise DatasetError(
                f"{path}: {key} is {getattr(info, key)} but train/{METADATA_FILE} says "
                f"{meta[key]}; delete {path.name} or fix it."
            )
    if info.identifier_names != names:
        raise DatasetError(
            f"{path}: identifier_names differ from {IDENTIFIERS_FILE}; "
            f"delete {path.name} or fix it."
        )
    unknown = [p for s in splits.values() for p in s.pattern_names if p not in info.pattern_names]
    if unknown:
        raise DatasetError(
            f"{path}: pattern_names lack the set(s) {', '.join(dict.fromkeys(unknown))}; "
            f"delete {path.name} or fix it."
        )


def _infer_info(
    name: str, meta: dict[str, Any], names: list[str], splits: dict[str, PuzzleSet]
) -> TaskInfo:
    """A TaskInfo for a folder without studio_task.json (e.g. one the official code built)."""
    vocab, seq_len = meta["vocab_size"], meta["seq_len"]
    side = math.isqrt(seq_len)
    grid_shape = (side, side) if side * side == seq_len else (1, seq_len)
    if vocab == len(COLOUR_VOCAB_LABELS):  # ARC: PAD, EOS, colours 0-9
        labels, display = list(COLOUR_VOCAB_LABELS), "colour"
    elif vocab == 11 or (vocab == 6 and seq_len == 16):  # Sudoku 9×9 / 4×4: PAD, blank, digits
        labels, display = ["PAD", "_"] + [str(d) for d in range(1, vocab - 1)], "sudoku"
    elif vocab == 6:  # official maze characters "# SGo"
        labels, display = ["PAD", "#", " ", "S", "G", "o"], "maze"
    else:
        labels, display = ["PAD"] + [str(t) for t in range(1, vocab)], "colour"
    patterns = list(dict.fromkeys(p for s in splits.values() for p in s.pattern_names))
    return TaskInfo(
        task=name,
        vocab_size=vocab,
        seq_len=seq_len,
        num_puzzle_identifiers=meta["num_puzzle_identifiers"],
        identifier_names=list(names),
        pattern_names=patterns,
        grid_shape=grid_shape,
        vocab_labels=labels,
        display=display,
        ceiling=None,
    )
