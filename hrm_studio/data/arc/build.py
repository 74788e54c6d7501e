"""The official ARC data set build (arc-spec.md), seeded and byte-for-byte repeatable.

For each task: the un-augmented puzzle (named by the task id) plus up to ``num_aug``
augmentations (``augment.py``: a random dihedral transform × a permutation of colours 1-9,
the same for every grid of the task), drawn until ``num_aug`` distinct ones are found or
``5 · num_aug`` draws are spent; an augmentation whose multiset of (input, output) grids equals
one already kept (the identity included) is dropped. A group is a task with its augmentations.

Splits and example order (what the protocol relies on):

* a ``training`` task → train: each puzzle holds the demonstrations, then the test pairs;
* an ``evaluation`` task → train: each puzzle holds its demonstrations; → test: each puzzle
  holds its test pairs **in the task's order**, so the j-th example of a test-split puzzle is
  the task's j-th test input (``evaluation.arc.protocol.positions_in_puzzles`` counts it).

Encoding: 30×30 canvas, PAD 0, EOS 1, colour c → c + 2; EOS on the row under the grid and the
column right of it (inside the canvas; the corner cell stays PAD, as upstream). In the train
split every example of a puzzle but one (chosen at random) sits at a random offset that keeps
both its grids on the canvas; the test split is never translated.

Randomness: each task draws from its own ``numpy`` Generator seeded by (seed, task id), so a
task gets the same augmentations whatever else is selected, and the same inputs give
byte-identical folders. The folder is the official layout (one set ``all``; inputs and labels
uint8, index arrays int32, ``ignore_label_id`` 0) that ``hrm_format.read_dataset`` and the
official loader read, plus ``arc_tasks.json``: the original tasks and the build's settings,
for scoring and for showing a task's demonstrations.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hrm_studio.data.arc.augment import Augmentation, dihedral, random_augmentation
from hrm_studio.data.arc.task import ArcTask, parse_task
from hrm_studio.data.grid import COLOUR_OFFSET, EOS, PAD
from hrm_studio.data.hrm_format import BLANK_IDENTIFIER_ID, IDENTIFIERS_FILE, METADATA_FILE
from hrm_studio.data.out_folder import prepare_out_dir
from hrm_studio.errors import ConfigError, DatasetError

CANVAS = 30
SEQ_LEN = CANVAS * CANVAS
VOCAB_SIZE = COLOUR_OFFSET + 10
SET_NAME = "all"
AUGMENT_RETRIES_FACTOR = 5
ARC_TASKS_FILE = "arc_tasks.json"
_FORMAT = "hrm-studio-arc-tasks-1"

Pairs = list[tuple[np.ndarray, np.ndarray]]
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class ArcBuildSummary:
    """What a build wrote: counts per split, and the tasks whose augmentations fell short."""

    out_dir: Path
    tasks: int
    train_puzzles: int
    train_examples: int
    test_puzzles: int
    test_examples: int
    num_identifiers: int
    short_tasks: tuple[tuple[str, int], ...]  # (task id, augmentations found < num_aug)


@dataclass
class _Chunk:
    """One task's puzzles in one split: names, examples per puzzle, encoded rows."""

    names: list[str]
    counts: list[int]
    inputs: np.ndarray
    labels: np.ndarray


def build_arc_dataset(
    tasks: Sequence[ArcTask],
    out_dir: str | Path,
    *,
    num_aug: int = 1000,
    seed: int = 42,
    progress: ProgressCallback | None = None,
    overwrite: bool = False,
) -> ArcBuildSummary:
    """Build the official ARC layout for ``tasks`` at ``out_dir``.

    ``progress(done, total)`` is called with tasks done (0 first, then after each task).
    Refuses a non-empty ``out_dir`` unless ``overwrite``.
    """
    _check_args(tasks, num_aug, seed)
    out = prepare_out_dir(Path(out_dir), overwrite, "the ARC data set")
    total = len(tasks)
    if progress is not None:
        progress(0, total)
    train: list[_Chunk] = []
    test: list[_Chunk] = []
    short = []
    for done, task in enumerate(tasks, start=1):
        rng = task_rng(seed, task.task_id)
        group = augment_task(task, num_aug, rng)
        if len(group) < num_aug + 1:
            short.append((task.task_id, len(group) - 1))
        train_chunk, test_chunk = _split_task(task, group, rng)
        train.append(train_chunk)
        if test_chunk is not None:
            test.append(test_chunk)
        if progress is not None:
            progress(done, total)
    names = _identifier_names(train + test)
    _write_all(out, names, train, test, tasks, num_aug, seed)
    return ArcBuildSummary(
        out_dir=out, tasks=total,
        train_puzzles=sum(len(c.names) for c in train), train_examples=sum(sum(c.counts) for c in train),
        test_puzzles=sum(len(c.names) for c in test), test_examples=sum(sum(c.counts) for c in test),
        num_identifiers=len(names), short_tasks=tuple(short),
    )


def _check_args(tasks: Sequence[ArcTask], num_aug: int, seed: int) -> None:
    if not tasks:
        raise ConfigError("There are no ARC tasks to build; choose at least one.")
    if isinstance(num_aug, bool) or not isinstance(num_aug, int) or num_aug < 0:
        raise ConfigError(f"num_aug must be a whole number ≥ 0, not {num_aug!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"The seed must be a whole number ≥ 0, not {seed!r}.")
    seen: set[str] = set()
    for task in tasks:
        if task.task_id in seen:
            raise DatasetError(f"ARC task {task.task_id} is selected twice; task ids must be unique.")
        seen.add(task.task_id)


def task_rng(seed: int, task_id: str) -> np.random.Generator:
    """The Generator a task's augmentations and offsets come from: (seed, task id), stable."""
    digest = hashlib.blake2b(task_id.encode("utf-8"), digest_size=8).digest()
    return np.random.default_rng(np.random.SeedSequence([seed, int.from_bytes(digest, "little")]))


def augment_task(task: ArcTask, num_aug: int, rng: np.random.Generator) -> list[tuple[Augmentation, Pairs]]:
    """The identity and up to ``num_aug`` distinct augmentations of every pair of ``task``."""
    base = [(p.input, p.output) for p in task.all_pairs()]
    group = [(Augmentation(), base)]
    seen = {_pairs_hash(base)}
    for _ in range(AUGMENT_RETRIES_FACTOR * num_aug):
        if len(group) >= num_aug + 1:
            break
        aug = random_augmentation(rng)
        lookup = np.asarray(aug.colours, dtype=np.uint8)
        pairs = [(_transform(a, aug.k, lookup), _transform(b, aug.k, lookup)) for a, b in base]
        key = _pairs_hash(pairs)
        if key not in seen:
            seen.add(key)
            group.append((aug, pairs))
    return group


def _transform(grid: np.ndarray, k: int, lookup: np.ndarray) -> np.ndarray:
    return lookup[dihedral(grid, k)]


def _pairs_hash(pairs: Pairs) -> bytes:
    """Equal for the same multiset of (input, output) grids, shapes included."""
    parts = sorted(bytes(a.shape) + a.tobytes() + b"|" + bytes(b.shape) + b.tobytes() for a, b in pairs)
    digest = hashlib.blake2b()
    for part in parts:
        digest.update(len(part).to_bytes(4, "little") + part)
    return digest.digest()


def _split_task(task: ArcTask, group: list[tuple[Augmentation, Pairs]],
                rng: np.random.Generator) -> tuple[_Chunk, _Chunk | None]:
    """The task's train-split chunk (translated) and, for an evaluation task, its test chunk."""
    names = [aug.name(task.task_id) for aug, _ in group]
    if task.subset == "training":
        return _encode_chunk(names, [pairs for _, pairs in group], rng, translate=True), None
    n_demo = len(task.train)
    train = _encode_chunk(names, [pairs[:n_demo] for _, pairs in group], rng, translate=True)
    test = _encode_chunk(names, [pairs[n_demo:] for _, pairs in group], rng, translate=False)
    return train, test


def _encode_chunk(names: list[str], puzzles: list[Pairs], rng: np.random.Generator,
                  translate: bool) -> _Chunk:
    counts = [len(pairs) for pairs in puzzles]
    total = sum(counts)
    inputs = np.full((total, CANVAS, CANVAS), PAD, dtype=np.uint8)
    labels = np.full((total, CANVAS, CANVAS), PAD, dtype=np.uint8)
    row = 0
    for pairs in puzzles:
        keep = int(rng.integers(len(pairs))) if translate else -1
        for index, (grid_in, grid_out) in enumerate(pairs):
            r = c = 0
            if translate and index != keep:
                r = int(rng.integers(CANVAS - max(grid_in.shape[0], grid_out.shape[0]) + 1))
                c = int(rng.integers(CANVAS - max(grid_in.shape[1], grid_out.shape[1]) + 1))
            _place(inputs[row], grid_in, r, c)
            _place(labels[row], grid_out, r, c)
            row += 1
    return _Chunk(names, counts, inputs.reshape(total, SEQ_LEN), labels.reshape(total, SEQ_LEN))


def _place(canvas: np.ndarray, grid: np.ndarray, r: int, c: int) -> None:
    """Colours at (r, c), EOS on the row under and the column right (inside the canvas)."""
    h, w = grid.shape
    canvas[r : r + h, c : c + w] = grid + COLOUR_OFFSET
    if r + h < CANVAS:
        canvas[r + h, c : c + w] = EOS
    if c + w < CANVAS:
        canvas[r : r + h, c + w] = EOS


def _identifier_names(chunks: list[_Chunk]) -> list[str]:
    """Index = puzzle identifier: 0 blank, then names in order of first appearance."""
    names = {"<blank>": BLANK_IDENTIFIER_ID}
    for chunk in chunks:
        for name in chunk.names:
            names.setdefault(name, len(names))
    return list(names)


# ---------------------------------------------------------------------------- write


def _write_all(out: Path, names: list[str], train: list[_Chunk], test: list[_Chunk],
               tasks: Sequence[ArcTask], num_aug: int, seed: int) -> None:
    ids = {name: i for i, name in enumerate(names)}
    try:
        (out / IDENTIFIERS_FILE).write_text(json.dumps(names) + "\n", encoding="utf-8")
        for split, chunks in (("train", train), ("test", test)):
            _write_split(out / split, chunks, ids)
        meta: dict[str, Any] = {"format": _FORMAT, "num_aug": num_aug, "seed": seed,
                                "tasks": {t.task_id: t.to_json() for t in tasks}}
        (out / ARC_TASKS_FILE).write_text(json.dumps(meta) + "\n", encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"Cannot write the ARC data set in {out}: {exc.strerror or exc}.") from exc


def _write_split(folder: Path, chunks: list[_Chunk], ids: dict[str, int]) -> None:
    folder.mkdir(exist_ok=True)
    counts = [n for c in chunks for n in c.counts]
    groups = [len(c.names) for c in chunks if c.names]
    arrays = {
        "puzzle_identifiers": np.array([ids[n] for c in chunks for n in c.names], dtype=np.int32),
        "puzzle_indices": np.concatenate([[0], np.cumsum(counts, dtype=np.int64)]).astype(np.int32),
        "group_indices": np.concatenate([[0], np.cumsum(groups, dtype=np.int64)]).astype(np.int32),
    }
    for key in ("inputs", "labels"):
        _save_rows(folder / f"{SET_NAME}__{key}.npy", [getattr(c, key) for c in chunks])
    for key, arr in arrays.items():
        np.save(folder / f"{SET_NAME}__{key}.npy", arr)
    metadata = {
        "pad_id": PAD,
        "ignore_label_id": PAD,
        "blank_identifier_id": BLANK_IDENTIFIER_ID,
        "vocab_size": VOCAB_SIZE,
        "seq_len": SEQ_LEN,
        "num_puzzle_identifiers": len(ids),
        "total_groups": len(groups),
        "mean_puzzle_examples": sum(counts) / len(counts) if counts else 0.0,
        "sets": [SET_NAME],
    }
    (folder / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")


def _save_rows(path: Path, parts: list[np.ndarray]) -> None:
    """Stack ``parts`` into one .npy without holding a second copy of them in memory."""
    total = sum(len(p) for p in parts)
    if total == 0:
        np.save(path, np.zeros((0, SEQ_LEN), dtype=np.uint8))
        return
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(total, SEQ_LEN))
    row = 0
    for part in parts:
        out[row : row + len(part)] = part
        row += len(part)
    out.flush()
    del out


def read_arc_tasks(dataset_dir: str | Path) -> list[ArcTask]:
    """The original tasks a build stored in ``arc_tasks.json`` (for answers and demonstrations)."""
    path = Path(dataset_dir) / ARC_TASKS_FILE
    if not path.is_file():
        raise DatasetError(
            f"{path} is missing: this data set was not built by HRM Studio's ARC build; "
            f"give the ARC source it was built from instead."
        )
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path} cannot be read as JSON ({exc}).") from exc
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT or not isinstance(meta.get("tasks"), dict):
        raise DatasetError(f"{path} is not an HRM Studio ARC task list ({_FORMAT}).")
    where = f"file {path}"
    return [parse_task(raw, tid, raw.get("subset") if isinstance(raw, dict) else "", where)
            for tid, raw in meta["tasks"].items()]
