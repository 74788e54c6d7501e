"""The ARC protocol over a model's pass through a stored test split.

``evaluation.predict`` runs every row of the split (every augmented test example) through every
ACT segment; this module takes the last segment's tokens and q_halt logits (or another
segment's), and hands them with the puzzle names of ``identifiers.json`` to
``protocol.score_arc``. The true answers come from the build's ``arc_tasks.json`` when it has
one (HRM Studio's build), else from the test split's un-augmented labels (an upstream build), as
the official notebook reads them.

Numpy only: the window can score a PredictionSet it already holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hrm_studio.data.arc.augment import parse_puzzle_name
from hrm_studio.data.arc.build import ARC_TASKS_FILE, SEQ_LEN, read_arc_tasks
from hrm_studio.errors import DatasetError
from hrm_studio.evaluation.arc.protocol import (
    KS,
    ArcScore,
    answers_from_tasks,
    answers_from_test_split,
    predictions_from_arrays,
    score_arc,
)


def check_arc_split(puzzles: Any, dataset_dir: str | Path) -> None:
    """DatasetError unless the split is an ARC test split (30×30 canvas rows) with puzzles in it."""
    seq_len = int(puzzles.inputs.shape[1])
    if seq_len != SEQ_LEN:
        raise DatasetError(f"The ARC protocol needs an ARC data set (30×30 canvas, {SEQ_LEN} tokens per example) "
                           f"but {dataset_dir} holds {seq_len} tokens per example; build one with "
                           f"'hrm-studio dataset arc'.")
    if len(puzzles) == 0:
        raise DatasetError(f"{dataset_dir} has no test examples to score; its test/ split is empty "
                           f"(the build needs at least one evaluation task).")


def arc_answers(dataset_dir: str | Path, puzzles: Any, identifier_names: Sequence[str]) -> dict[str, list[np.ndarray]]:
    """Task id → true output grid of each test input, for the tasks of the data set's test split."""
    if (Path(dataset_dir) / ARC_TASKS_FILE).is_file():
        return answers_from_tasks(read_arc_tasks(dataset_dir))
    return answers_from_test_split(puzzles.labels, puzzles.puzzle_identifiers, identifier_names)


def score_arc_split(puzzles: Any, predictions: Any, identifier_names: Sequence[str],
                    answers: Mapping[str, Sequence[np.ndarray]], *, segment: int = -1,
                    only_tasks_seen: bool = False, ks: Sequence[int] = KS) -> ArcScore:
    """Vote and score the predictions of ``segment`` (default: the last) for the rows of ``puzzles``.

    only_tasks_seen: score only the tasks with at least one predicted row (a partial pass, e.g.
    ``eval --limit``); otherwise a task of ``answers`` with no rows fails.
    """
    ids = np.asarray(puzzles.puzzle_identifiers)
    preds = predictions_from_arrays(predictions.predictions[:, segment], predictions.q_halt[:, segment], ids,
                                    identifier_names)
    if only_tasks_seen:
        seen = {parse_puzzle_name(identifier_names[int(i)])[0] for i in np.unique(ids) if i != 0}
        answers = {tid: outs for tid, outs in answers.items() if tid in seen}
    if not answers:
        raise DatasetError("There are no ARC tasks to score: the test split holds no evaluation task's test pairs.")
    return score_arc(preds, answers, ks)
