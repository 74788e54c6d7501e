"""ARC tasks as a person reads them: demonstrations, test inputs, ranked candidates, every augmentation.

The Predictions tab shows an ARC build task by task rather than as thousands of augmented
puzzles. This module turns a test split and the model's predictions for it into plain data for
that view: per task its demonstration pairs (from the build's ``arc_tasks.json``), and per test
input the candidates after voting (``protocol.score_arc``: the same votes, ranks and pass@k as
``eval --protocol arc``) and each augmentation's prediction — in its augmented frame and mapped
back — with the candidate it voted for.

Only the tasks the predictions reach are listed (a live sample during training reaches some).
Numpy only: the window builds this on a worker thread.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hrm_studio.data.arc.augment import Augmentation, parse_puzzle_name
from hrm_studio.data.arc.build import read_arc_tasks
from hrm_studio.data.arc.detect import has_arc_tasks
from hrm_studio.data.arc.task import ArcPair
from hrm_studio.errors import DatasetError
from hrm_studio.evaluation.arc.protocol import (
    ArcScore,
    Candidate,
    Vote,
    answers_from_tasks,
    answers_from_test_split,
    crop_prediction,
    grid_key,
    positions_in_puzzles,
    predictions_from_arrays,
    score_arc,
)

PASS_K = 2   # a task passes when every test input's right answer is among the top two (ARC's two tries)


@dataclass(frozen=True, eq=False)
class AugmentationView:
    """One augmented test example: the model's answer in the augmented frame and mapped back."""

    puzzle_name: str
    augmentation: Augmentation
    task_input: np.ndarray      # the test input in the task's frame (shared, not copied)
    prediction: np.ndarray      # cropped prediction, augmented frame (uint8 colours 0-9: a full build has
                                # hundreds of thousands of these)
    confidence: float           # sigmoid(q_halt)
    candidate_rank: int         # 1-based rank of the candidate it voted for
    correct: bool               # it voted for the right answer

    @property
    def mapped_back(self) -> np.ndarray:
        """The prediction in the task's frame: the grid it voted for."""
        return self.augmentation.undo(self.prediction)

    @property
    def input(self) -> np.ndarray:
        """The test input as the model saw it (augmented frame)."""
        return self.augmentation.apply(self.task_input)

    @property
    def description(self) -> str:
        """Which transform and colour map, in words."""
        aug = self.augmentation
        if aug.is_identity:
            return "original (no augmentation)"
        moved = [f"{c}→{aug.colours[c]}" for c in range(10) if aug.colours[c] != c]
        return f"{DIHEDRAL_WORDS[aug.k]}, colours {' '.join(moved) if moved else 'unchanged'}"


DIHEDRAL_WORDS = ("not turned", "turned 90°", "turned 180°", "turned 270°", "flipped left-right",
                  "flipped up-down", "transposed", "anti-transposed")


@dataclass(frozen=True, eq=False)
class TestInputView:
    """One test input: the grid, its true answer, the ranked candidates and every augmentation's vote."""

    index: int
    input: np.ndarray
    answer: np.ndarray
    candidates: tuple[Candidate, ...]
    augmentations: tuple[AugmentationView, ...]

    @property
    def rank(self) -> int | None:
        """1-based rank of the right answer, None if no augmentation predicted it."""
        return next((i for i, c in enumerate(self.candidates, start=1) if c.correct), None)


@dataclass(frozen=True, eq=False)
class TaskView:
    """A task: its demonstrations (empty when the data set does not store them) and test inputs."""

    task_id: str
    demonstrations: tuple[ArcPair, ...]
    tests: tuple[TestInputView, ...]
    passed: bool                # every test input passes at PASS_K
    pass_fraction: float        # share of test inputs passing at PASS_K


@dataclass(frozen=True, eq=False)
class ArcTaskViews:
    """Every task the predictions reach, in the build's order, and their protocol score."""

    tasks: tuple[TaskView, ...]
    score: ArcScore
    has_demonstrations: bool

    @property
    def passed(self) -> int:
        return sum(t.passed for t in self.tasks)

    @property
    def failed(self) -> int:
        return len(self.tasks) - self.passed

    def task(self, task_id: str) -> TaskView:
        return next(t for t in self.tasks if t.task_id == task_id)


def build_task_views(puzzles: Any, predictions: Any, identifier_names: Sequence[str],
                     dataset_dir: str | Path | None = None, *, segment: int = -1) -> ArcTaskViews:
    """The task view of a test split (``PuzzleSet``-like) and its predictions (``Predictions``-like,
    ``segment`` read: default the last). ``dataset_dir``: the ARC build's folder, for the
    demonstrations and answers of its ``arc_tasks.json``; without it the answers come from the
    test split's un-augmented labels and no demonstrations are shown."""
    ids = np.asarray(puzzles.puzzle_identifiers).ravel()
    stored = read_arc_tasks(dataset_dir) if has_arc_tasks(dataset_dir) else None
    seen = {parse_puzzle_name(identifier_names[int(i)])[0] for i in np.unique(ids) if i != 0}
    if stored is not None:
        answers = answers_from_tasks(stored)
        inputs = {t.task_id: [p.input for p in t.test] for t in stored}
        demos = {t.task_id: t.train for t in stored}
    else:
        answers = answers_from_test_split(puzzles.labels, ids, identifier_names)
        inputs = _inputs_from_test_split(puzzles.inputs, ids, identifier_names)
        demos = {}
    answers = {tid: outs for tid, outs in answers.items() if tid in seen}
    if not answers:
        raise DatasetError("The predictions reach no ARC task with a known answer: the test split holds no "
                           "evaluation task's test pairs, or the predictions are from another data set.")
    preds = predictions_from_arrays(np.asarray(predictions.predictions)[:, segment],
                                    np.asarray(predictions.q_halt)[:, segment], ids, identifier_names)
    task_of = {n: parse_puzzle_name(n)[0] for n in {p.puzzle_name for p in preds}}
    preds = [p for p in preds if task_of[p.puzzle_name] in answers]   # a sample may lack a task's answer
    by_test: dict[tuple[str, int], list[_Ballot]] = {}

    def keep(vote: Vote) -> None:   # compact: a full build counts hundreds of thousands of votes
        by_test.setdefault((vote.task_id, vote.test_index), []).append(
            _Ballot(vote.puzzle_name, vote.augmentation, vote.augmented.astype(np.uint8), _digest(vote.grid),
                    vote.confidence))

    score = score_arc(preds, answers, on_vote=keep)
    tasks = tuple(
        TaskView(task_id=tid, demonstrations=tuple(demos.get(tid, ())),
                 tests=tuple(_test_view(r.index, inputs[tid][r.index], r.answer, r.candidates,
                                        by_test.get((tid, r.index), [])) for r in result.tests),
                 passed=result.passes_all(PASS_K), pass_fraction=result.pass_fraction(PASS_K))
        for tid, result in score.tasks.items())
    return ArcTaskViews(tasks=tasks, score=score, has_demonstrations=stored is not None)


@dataclass(frozen=True, eq=False)
class _Ballot:
    """What the view keeps of a vote: the augmented-frame crop and a digest of the grid voted for."""

    puzzle_name: str
    augmentation: Augmentation
    prediction: np.ndarray
    digest: bytes
    confidence: float


def _digest(grid: np.ndarray) -> bytes:
    return hashlib.blake2b(grid_key(grid), digest_size=16).digest()


def _test_view(index: int, task_input: np.ndarray, answer: np.ndarray, candidates: tuple[Candidate, ...],
               votes: list[_Ballot]) -> TestInputView:
    """The augmentations in stored order, the un-augmented one first."""
    ranks = {_digest(c.grid): rank for rank, c in enumerate(candidates, start=1)}
    views = [AugmentationView(puzzle_name=v.puzzle_name, augmentation=v.augmentation, task_input=task_input,
                              prediction=v.prediction, confidence=v.confidence, candidate_rank=ranks[v.digest],
                              correct=candidates[ranks[v.digest] - 1].correct)
             for v in votes]
    views.sort(key=lambda v: not v.augmentation.is_identity)   # stable: the rest keep their order
    return TestInputView(index=index, input=task_input, answer=np.asarray(answer), candidates=candidates,
                         augmentations=tuple(views))


def _inputs_from_test_split(inputs: np.ndarray, ids: np.ndarray,
                            identifier_names: Sequence[str]) -> dict[str, list[np.ndarray]]:
    """Test inputs read from the un-augmented puzzles of a test split (never translated)."""
    found: dict[str, dict[int, np.ndarray]] = {}
    positions = positions_in_puzzles(ids)
    for row in np.flatnonzero(ids != 0):
        task_id, aug = parse_puzzle_name(identifier_names[int(ids[row])])
        if aug.is_identity:
            found.setdefault(task_id, {})[int(positions[row])] = crop_prediction(inputs[row])
    return {tid: [grids[i] for i in sorted(grids)] for tid, grids in found.items()}
