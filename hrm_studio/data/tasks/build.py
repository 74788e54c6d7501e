"""Turn a TaskSpec and TaskOptions into a TaskData: check, draw, dedupe, split, encode.

Shared by every task so the rules hold everywhere: no held-out input equals a training
input, each pattern gets its share of the mix exactly, label noise touches only the
training split, and the same options (seed included) always give the same arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from hrm_studio.data.grid import ENCODINGS, encode_grids, encoded_shape, make_labels
from hrm_studio.data.puzzle_set import PuzzleSet
from hrm_studio.data.task_data import TaskData, TaskInfo
from hrm_studio.data.task_options import TaskOptions
from hrm_studio.data.tasks.spec import PatternSource, TaskSpec
from hrm_studio.errors import ConfigError

BLANK_IDENTIFIER = "<blank>"
_NOISE_STREAM = 1  # label noise draws from its own stream: noise never changes the puzzles
_MAX_ROUNDS = 200


@dataclass(frozen=True)
class Resolved:
    """Options after defaults are filled in and everything is checked."""

    grid_size: int
    blanks: int
    weights: dict[str, float]  # normalised to sum 1, only patterns with weight > 0


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def resolve_options(spec: TaskSpec, options: TaskOptions) -> Resolved:
    """Fill defaults and check every field; ConfigError names the field at fault."""
    name = spec.name
    for field, low in (("train_size", 1), ("test_size", 0), ("seed", 0), ("canvas_size", 1)):
        value = getattr(options, field)
        if not _is_int(value) or value < low:
            raise ConfigError(f"{field} must be a whole number of at least {low}, not {value!r}.")
    for field in ("grid_size", "blanks"):
        value = getattr(options, field)
        if not _is_int(value) or value < 0:
            raise ConfigError(
                f"{field} must be a whole number (0 = the task's default), not {value!r}."
            )
    if options.encoding not in ENCODINGS:
        raise ConfigError(
            f"encoding must be one of {', '.join(ENCODINGS)}, not {options.encoding!r}."
        )
    if not isinstance(options.shared_identifier, bool):
        raise ConfigError(
            f"shared_identifier must be true or false, not {options.shared_identifier!r}."
        )
    noise = options.label_noise
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise < 1:
        raise ConfigError(
            f"label_noise must be a fraction from 0 up to (not including) 1, not {noise!r}."
        )

    grid_size = options.grid_size or spec.default_grid_size
    if grid_size not in spec.grid_sizes:
        raise ConfigError(
            f"grid_size {grid_size} is not available for task '{name}'; "
            f"use {_describe_sizes(spec.grid_sizes)} (or 0 for {spec.default_grid_size})."
        )
    if options.encoding == "canvas":
        if not spec.canvas_ok:
            raise ConfigError(f"encoding 'canvas' does not apply to task '{name}'; use 'tight'.")
        needed = grid_size + (1 if spec.eos else 0)
        if needed > options.canvas_size:
            raise ConfigError(
                f"grid_size {grid_size} needs a canvas of at least {needed} "
                f"but canvas_size is {options.canvas_size}; enlarge the canvas or shrink the grid."
            )

    if spec.blank_range is None:
        if options.blanks:
            raise ConfigError(f"blanks applies only to Sudoku tasks, not to '{name}'; set it to 0.")
        blanks = 0
    else:
        blanks = options.blanks or spec.default_blanks
        low, high = spec.blank_range
        if not low <= blanks <= high:
            raise ConfigError(
                f"blanks must be between {low} and {high} for task '{name}' "
                f"(0 = {spec.default_blanks}), not {blanks}."
            )
    return Resolved(grid_size, blanks, _weights(spec, options.pattern_mix))


def _describe_sizes(sizes: tuple[int, ...]) -> str:
    if len(sizes) == 1:
        return str(sizes[0])
    step = sizes[1] - sizes[0]
    if all(b - a == step for a, b in zip(sizes, sizes[1:])):
        kind = "odd sizes " if step == 2 and sizes[0] % 2 else ""
        return f"{kind}{sizes[0]} to {sizes[-1]}"
    return ", ".join(map(str, sizes))


def _weights(spec: TaskSpec, mix: Mapping[str, float] | None) -> dict[str, float]:
    """Normalised positive weights; patterns left out of ``mix`` get weight 0."""
    if mix is None:
        return {p: 1.0 / len(spec.pattern_names) for p in spec.pattern_names}
    if not isinstance(mix, Mapping):
        raise ConfigError(f"pattern_mix must map pattern names to weights, not {mix!r}.")
    unknown = [k for k in mix if k not in spec.pattern_names]
    if unknown:
        raise ConfigError(
            f"pattern_mix names unknown pattern(s) {', '.join(map(repr, unknown))} for task "
            f"'{spec.name}'; its patterns are {', '.join(spec.pattern_names)}."
        )
    for key, value in mix.items():
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not (math.isfinite(value) and value >= 0)
        ):
            raise ConfigError(
                f"pattern_mix weight for '{key}' must be a number ≥ 0, not {value!r}."
            )
    total = float(sum(mix.values()))
    if total <= 0:
        raise ConfigError("pattern_mix must give at least one pattern a weight above 0.")
    return {p: mix[p] / total for p in spec.pattern_names if mix.get(p, 0) > 0}


def allocate(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Split ``total`` by ``weights`` exactly (largest remainder; ties to the first pattern)."""
    shares = {p: total * w for p, w in weights.items()}
    counts = {p: int(math.floor(s)) for p, s in shares.items()}
    left = total - sum(counts.values())
    by_remainder = sorted(weights, key=lambda p: -(shares[p] - counts[p]))
    for p in by_remainder[:left]:
        counts[p] += 1
    return counts


def draw_distinct(
    source: PatternSource,
    rng: np.random.Generator,
    pattern: str,
    needed: int,
    seen: set[bytes],
    task: str,
) -> tuple[np.ndarray, np.ndarray]:
    """``needed`` examples of ``pattern`` whose inputs are not in ``seen`` (which grows).

    ConfigError when the task cannot make that many distinct puzzles.
    """
    capacity = source.capacity(pattern)
    if capacity is not None and needed > capacity:
        raise ConfigError(
            f"task '{task}' can make only {capacity} distinct '{pattern}' puzzles with these "
            f"settings but {needed} were asked for (train + test); "
            f"ask for fewer or change grid_size/blanks."
        )
    kept_in: list[np.ndarray] = []
    kept_out: list[np.ndarray] = []
    have = 0
    for _ in range(_MAX_ROUNDS):
        if have == needed:
            break
        short = needed - have
        if capacity is None or capacity > 10 * needed:
            draw = short  # duplicates are rare: top up in a later round if any
        elif needed > capacity // 2:
            draw = max(2 * short, capacity)  # near the limit: cast a wide net per round
        else:
            draw = 2 * short
        inputs, outputs = source.sample(rng, pattern, draw)
        for i in range(len(inputs)):
            key = inputs[i].tobytes()
            if key in seen:
                continue
            seen.add(key)
            kept_in.append(inputs[i])
            kept_out.append(outputs[i])
            have += 1
            if have == needed:
                break
    if have < needed:
        raise ConfigError(
            f"task '{task}' found only {have} distinct '{pattern}' puzzles with these settings "
            f"but {needed} were asked for (train + test); ask for fewer or change grid_size/blanks."
        )
    return np.stack(kept_in), np.stack(kept_out)


def add_label_noise(
    labels: np.ndarray, fraction: float, values: tuple[int, ...], rng: np.random.Generator
) -> np.ndarray:
    """Replace round(fraction × scored grid cells) labels with a different valid token.

    Only cells holding one of ``values`` count (EOS frame and ignored cells never change).
    """
    noisy = labels.copy()
    flat = noisy.reshape(-1)
    value_arr = np.asarray(values)
    eligible = np.flatnonzero(np.isin(flat, value_arr))
    k = int(round(fraction * len(eligible)))
    if k == 0 or len(value_arr) < 2:
        return noisy
    where = rng.choice(eligible, size=k, replace=False)
    position = np.searchsorted(np.sort(value_arr), flat[where])
    shift = rng.integers(1, len(value_arr), size=k)
    flat[where] = np.sort(value_arr)[(position + shift) % len(value_arr)]
    return noisy


Chunk = tuple[np.ndarray, np.ndarray, str]  # input grids, output grids, their pattern


def build_task(spec: TaskSpec, options: TaskOptions) -> TaskData:
    """Generate the dataset ``options`` describe (see module docstring)."""
    resolved = resolve_options(spec, options)
    if options.shared_identifier:
        identifier_names = [BLANK_IDENTIFIER, spec.name]
        ids = {p: 1 for p in spec.pattern_names}
    else:
        identifier_names = [BLANK_IDENTIFIER, *spec.pattern_names]
        ids = {p: i + 1 for i, p in enumerate(spec.pattern_names)}
    parts = _draw_grids(spec, options, resolved)
    rows, cols = encoded_shape(
        (resolved.grid_size, resolved.grid_size), options.encoding, options.canvas_size, spec.eos
    )
    train = _assemble(parts["train"], spec, options, ids, rows * cols)
    test = _assemble(parts["test"], spec, options, ids, rows * cols)
    if options.label_noise > 0:
        noise_rng = np.random.default_rng([options.seed, _NOISE_STREAM])
        train.labels = add_label_noise(
            train.labels, options.label_noise, spec.label_values, noise_rng
        )

    info = TaskInfo(
        task=spec.name,
        vocab_size=spec.vocab_size,
        seq_len=rows * cols,
        num_puzzle_identifiers=len(identifier_names),
        identifier_names=identifier_names,
        pattern_names=list(resolved.weights),
        grid_shape=(rows, cols),
        vocab_labels=list(spec.vocab_labels),
        display=spec.display,
        ceiling=spec.ceiling(resolved.weights, resolved.grid_size, options.shared_identifier),
    )
    return TaskData(train=train, test=test, info=info)


def _draw_grids(spec: TaskSpec, options: TaskOptions, resolved: Resolved) -> dict[str, list[Chunk]]:
    """Distinct puzzles per pattern, split into train and test (no puzzle in both)."""
    source = spec.make_source(resolved.grid_size, resolved.blanks, options.seed)
    train_counts = allocate(options.train_size, resolved.weights)
    test_counts = allocate(options.test_size, resolved.weights)
    rng = np.random.default_rng(options.seed)
    seen: set[bytes] = set()
    parts: dict[str, list[Chunk]] = {"train": [], "test": []}
    for pattern in resolved.weights:
        n_train, n_test = train_counts[pattern], test_counts[pattern]
        if n_train + n_test == 0:
            continue
        inputs, outputs = draw_distinct(source, rng, pattern, n_train + n_test, seen, spec.name)
        parts["train"].append((inputs[:n_train], outputs[:n_train], pattern))
        parts["test"].append((inputs[n_train:], outputs[n_train:], pattern))
    return parts


def _assemble(chunks: list[Chunk], spec: TaskSpec, options: TaskOptions, ids: dict[str, int],
              seq_len: int) -> PuzzleSet:
    """Encode one split's grids into model sequences with their labels and identifiers."""
    chunks = [c for c in chunks if len(c[0])]
    if not chunks:
        return PuzzleSet.empty(seq_len)
    patterns = np.concatenate([np.full(len(c[0]), c[2]) for c in chunks])

    def encode(grids: np.ndarray) -> np.ndarray:
        return encode_grids(grids, options.encoding, options.canvas_size, spec.eos)

    return PuzzleSet(
        inputs=encode(np.concatenate([c[0] for c in chunks])),
        labels=make_labels(encode(np.concatenate([c[1] for c in chunks]))),
        puzzle_identifiers=np.array([ids[p] for p in patterns], dtype=np.int32),
        patterns=patterns,
    )
