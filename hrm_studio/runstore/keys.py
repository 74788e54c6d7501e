"""Names shared by everything that writes or reads a run: its states, its checkpoints, its history keys.

Why one place: a history key or a state spelled in several modules drifts (a renamed metric,
a new state) without any test noticing. States and checkpoint kinds are `StrEnum`s, written to
JSON and compared exactly as the plain strings they stand for. History keys are plain `str`
constants, not enum members: a history row travels inside checkpoints, which are loaded with
`torch.load(weights_only=True)` and refuse any object but plain values.
"""

from __future__ import annotations

from enum import StrEnum


class RunState(StrEnum):
    """The `state` in status.json (and INTERRUPTED, which only readers conclude)."""

    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # said "running" but the writing process is gone


class CheckpointKind(StrEnum):
    """The checkpoints a run keeps, by what they hold."""

    LAST = "last"    # the last complete epoch (rewritten every epoch)
    BEST = "best"    # the best held-out score so far
    FINAL = "final"  # where the run ended or was stopped (maybe mid-epoch)
    MANUAL = "manual"  # saved on request where the person asked, outside the run folder


class HistoryKey:
    """Keys of one epoch's history row (metrics.jsonl) that code reads by name (plain strings).

    Per-pattern keys are built by `pattern_key`; the official-named `train/…` and `val/…`
    keys are copied through as the model reports them.
    """

    EPOCH = "epoch"
    LOSS = "loss"
    TOKEN_ACCURACY = "token_accuracy"
    EXACT = "exact_match_accuracy"
    Q_HALT_ACCURACY = "q_halt_accuracy"
    MEAN_ACT_STEPS = "mean_act_steps"
    LEARNING_RATE = "learning_rate"
    PUZZLES = "puzzles"
    SEGMENTS = "segments"
    OPTIMIZER_STEPS = "optimizer_steps"
    VAL_LOSS = "val_loss"
    VAL_TOKEN_ACCURACY = "val_token_accuracy"
    VAL_EXACT = "val_exact_match_accuracy"
    VAL_EXACT_AT_HALT = "val_exact_match_at_halt"
    VAL_EXACT_BY_SEGMENT = "val_exact_by_segment"
    VAL_Q_HALT_ACCURACY = "val_q_halt_accuracy"
    VAL_MEAN_ACT_STEPS = "val_mean_act_steps"
    VAL_PUZZLES = "val_puzzles"
    VAL_ARC_PASS_AT_2 = "val_arc_pass@2"  # ARC data sets only: the ARC protocol's pass@2 of the test split
    EPOCH_SECONDS = "epoch_seconds"
    EVAL_SECONDS = "eval_seconds"
    WALL_SECONDS = "wall_seconds"
    SAMPLES_PER_SECOND = "samples_per_second"
    PUZZLES_PER_SECOND = "puzzles_per_second"
    CURRICULUM_DIFFICULTY = "curriculum_difficulty"
    CURRICULUM_EXACT = "curriculum_exact"


# Wall-clock figures: the only keys that differ between two runs with the same seed and settings.
TIMING_KEYS: tuple[str, ...] = (HistoryKey.EPOCH_SECONDS, HistoryKey.SAMPLES_PER_SECOND,
                                HistoryKey.PUZZLES_PER_SECOND, HistoryKey.WALL_SECONDS,
                                HistoryKey.EVAL_SECONDS)


HELD_OUT_PREFIX = "val_"


def held_out(key: str) -> str:
    """The held-out twin of a training history key (`mean_act_steps` → `val_mean_act_steps`)."""
    return f"{HELD_OUT_PREFIX}{key}"


def pattern_key(pattern: str, metric: str, *, on_held_out: bool = False) -> str:
    """`copy_accuracy`, `val_copy_token_accuracy`, …: one pattern's metric in a history row."""
    key = f"{pattern}_{metric}"
    return held_out(key) if on_held_out else key
