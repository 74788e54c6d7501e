"""The ARC scoring protocol: crop, undo the augmentation, vote, pass@k in both upstream scorings.

For every augmented test example the model gives a 900-token prediction and a q_halt logit.
Each prediction is cropped (``crop_prediction``: the official notebook's rule), mapped back to
its task's frame through its puzzle name (``{task}_t{k}_{p0…p9}``), and counted as a vote for
that grid on (task, test input). Candidates are ranked by (votes, mean sigmoid(q_halt))
descending; an exact tie keeps the order the candidates were first seen in (the notebook's
stable sort). A test input passes at k when its true answer is among the top k.

Which test input an example belongs to: the build stores a test-split puzzle's examples in
the task's test order, so the j-th example of a puzzle is test input j; over a flattened split
(``PuzzleSet``) that is the number of earlier rows with the same identifier
(``positions_in_puzzles``). Rows with identifier 0 are padding and are skipped.

Two task scores are reported, named apart so nobody confuses them:

* ``pass@k`` — each test input counts fractionally (task score = passed test inputs / test
  inputs; figure = mean over tasks), as TRM's ``evaluators/arc.py`` and ARC Prize score;
* ``pass@k_all_tests`` — a task counts only when all its test inputs pass, as HRM's
  ``arc_eval.ipynb`` scores.

Numpy only (no torch, no Qt), so the window can show the ranked candidates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hrm_studio.data.arc.augment import Augmentation, parse_puzzle_name
from hrm_studio.data.arc.task import ArcTask
from hrm_studio.errors import DatasetError

KS = (1, 2, 5, 10, 100, 1000)
CANVAS = 30
_FIRST_COLOUR, _LAST_COLOUR = 2, 11  # tokens of colours 0 and 9


def crop_prediction(tokens: np.ndarray) -> np.ndarray:
    """The official notebook's crop of a 30×30 token grid → int64 colours (tokens − 2).

    From the top-left corner, row by row: a row's width is where it meets its first non-colour
    token (PAD, EOS, anything outside 2..11), never wider than the rows above; of the
    rectangles (rows so far × that width) the first of largest area is kept. No colour at the
    corner gives an empty 0×0 grid.
    """
    grid = np.asarray(tokens)
    if grid.size != CANVAS * CANVAS:
        raise ValueError(f"a prediction must hold {CANVAS * CANVAS} tokens, not {grid.size}")
    grid = grid.reshape(CANVAS, CANVAS).astype(np.int64)
    colour = (grid >= _FIRST_COLOUR) & (grid <= _LAST_COLOUR)
    first_gap = np.where(colour.all(axis=1), CANVAS, np.argmin(colour, axis=1))
    widths = np.minimum.accumulate(first_gap)
    areas = widths * np.arange(1, CANVAS + 1)
    rows = int(np.argmax(areas))
    if areas[rows] == 0:
        return np.zeros((0, 0), dtype=np.int64)
    return grid[: rows + 1, : widths[rows]] - _FIRST_COLOUR


def positions_in_puzzles(puzzle_identifiers: np.ndarray) -> np.ndarray:
    """For each row, how many earlier rows share its identifier: its test-input index."""
    ids = np.asarray(puzzle_identifiers).ravel()
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(ids)]))
    positions = np.empty(len(ids), dtype=np.int64)
    positions[order] = np.arange(len(ids)) - run_start
    return positions


@dataclass(frozen=True, eq=False)
class ArcPrediction:
    """One augmented test example's prediction (tokens in the augmented frame, 900 of them)."""

    puzzle_name: str
    test_index: int
    tokens: np.ndarray
    q_halt_logit: float


def predictions_from_arrays(
    tokens: np.ndarray,
    q_halt_logits: np.ndarray,
    puzzle_identifiers: np.ndarray,
    identifier_names: Sequence[str],
) -> list[ArcPrediction]:
    """ArcPredictions for the rows of a test split in stored order (padding rows, id 0, skipped)."""
    ids = np.asarray(puzzle_identifiers).ravel()
    tokens = np.asarray(tokens)
    q = np.asarray(q_halt_logits, dtype=np.float64).ravel()
    if not len(tokens) == len(q) == len(ids):
        raise DatasetError(
            f"The predictions do not line up: {len(tokens)} token rows, {len(q)} q_halt values, "
            f"{len(ids)} puzzle identifiers."
        )
    if len(ids) and (ids.min() < 0 or ids.max() >= len(identifier_names)):
        raise DatasetError(
            f"A puzzle identifier lies outside the {len(identifier_names)} names of identifiers.json; "
            f"are these predictions from this data set?"
        )
    positions = positions_in_puzzles(ids)
    return [ArcPrediction(identifier_names[int(ids[i])], int(positions[i]), tokens[i], float(q[i]))
            for i in range(len(ids)) if ids[i] != 0]


def answers_from_tasks(tasks: Iterable[ArcTask]) -> dict[str, list[np.ndarray]]:
    """The true outputs of each evaluation task's test inputs (the tasks the test split holds)."""
    return {t.task_id: [p.output for p in t.test] for t in tasks if t.subset == "evaluation"}


def answers_from_test_split(
    labels: np.ndarray, puzzle_identifiers: np.ndarray, identifier_names: Sequence[str]
) -> dict[str, list[np.ndarray]]:
    """True outputs read from a test split's un-augmented puzzles (cropped labels), as the notebook does."""
    answers: dict[str, list[np.ndarray]] = {}
    for row, ident in enumerate(np.asarray(puzzle_identifiers).ravel()):
        if ident == 0:
            continue
        task_id, aug = parse_puzzle_name(identifier_names[int(ident)])
        if aug.is_identity:
            answers.setdefault(task_id, []).append(crop_prediction(labels[row]))
    return answers


@dataclass(frozen=True, eq=False)
class Candidate:
    """A distinct answer (task frame) with its votes and mean sigmoid(q_halt)."""

    grid: np.ndarray
    votes: int
    mean_confidence: float
    correct: bool


@dataclass(frozen=True, eq=False)
class TestInputResult:
    """One test input: its true answer and the ranked candidates."""

    index: int
    answer: np.ndarray
    candidates: tuple[Candidate, ...]

    @property
    def rank(self) -> int | None:
        """1-based rank of the right answer among the candidates, None if nobody voted for it."""
        return next((i for i, c in enumerate(self.candidates, start=1) if c.correct), None)

    def passes(self, k: int) -> bool:
        rank = self.rank
        return rank is not None and rank <= k


@dataclass(frozen=True, eq=False)
class TaskResult:
    """A task's test inputs and its two scores at each k."""

    task_id: str
    tests: tuple[TestInputResult, ...]

    def pass_fraction(self, k: int) -> float:
        """Passed test inputs / test inputs (TRM, ARC Prize)."""
        return sum(t.passes(k) for t in self.tests) / len(self.tests)

    def passes_all(self, k: int) -> bool:
        """Every test input passes (HRM's notebook)."""
        return all(t.passes(k) for t in self.tests)

    def to_json(self, ks: Sequence[int]) -> dict[str, Any]:
        out: dict[str, Any] = {f"pass@{k}": self.pass_fraction(k) for k in ks}
        out.update({f"pass@{k}_all_tests": float(self.passes_all(k)) for k in ks})
        out["test_inputs"] = len(self.tests)
        out["ranks"] = [t.rank for t in self.tests]
        out["votes"] = [sum(c.votes for c in t.candidates) for t in self.tests]
        out["candidates"] = [len(t.candidates) for t in self.tests]
        return out


@dataclass(frozen=True, eq=False)
class ArcScore:
    """Per-task results and the overall figures; ``to_json`` is what ``eval --json`` prints."""

    tasks: Mapping[str, TaskResult]
    ks: tuple[int, ...] = KS
    predictions: int = 0

    def pass_at(self, k: int) -> float:
        """Mean over tasks of the fraction of test inputs passed at k."""
        return float(np.mean([t.pass_fraction(k) for t in self.tasks.values()])) if self.tasks else 0.0

    def pass_at_all_tests(self, k: int) -> float:
        """Fraction of tasks whose test inputs all pass at k."""
        return float(np.mean([t.passes_all(k) for t in self.tasks.values()])) if self.tasks else 0.0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {f"pass@{k}": self.pass_at(k) for k in self.ks}
        out.update({f"pass@{k}_all_tests": self.pass_at_all_tests(k) for k in self.ks})
        out["num_tasks"] = len(self.tasks)
        out["num_test_inputs"] = sum(len(t.tests) for t in self.tasks.values())
        out["num_predictions"] = self.predictions
        out["tasks"] = {tid: t.to_json(self.ks) for tid, t in self.tasks.items()}
        return out


@dataclass(frozen=True, eq=False)
class Vote:
    """One prediction as it was counted: its augmentation, its crop in the augmented frame, the
    grid it voted for (task frame) and its sigmoid(q_halt). ``score_arc`` hands each to ``on_vote``
    (the window's task view browses them); ``grid_key(grid)`` names the candidate it voted for."""

    task_id: str
    test_index: int
    puzzle_name: str
    augmentation: Augmentation
    augmented: np.ndarray
    grid: np.ndarray
    confidence: float


def score_arc(
    predictions: Iterable[ArcPrediction],
    answers: Mapping[str, Sequence[np.ndarray]],
    ks: Sequence[int] = KS,
    on_vote: Callable[[Vote], None] | None = None,
) -> ArcScore:
    """Vote and score. ``answers``: task id → true output grid per test input (task frame).

    Every task in ``answers`` is scored (a test input nobody predicted fails); a prediction for
    a task or test input not in ``answers`` is a DatasetError (predictions from another data set).
    ``on_vote``, when given, is called with each counted prediction (it changes no result).
    """
    ks = _check_ks(ks)
    ballots: dict[tuple[str, int], dict[bytes, list[Any]]] = {}
    count = 0
    for pred in predictions:
        task_id, aug = parse_puzzle_name(pred.puzzle_name)
        if task_id not in answers or not 0 <= pred.test_index < len(answers[task_id]):
            raise DatasetError(
                f"A prediction for ARC task {task_id}, test input {pred.test_index + 1}, has no true "
                f"answer to compare with; are the predictions and the data set from the same build?"
            )
        augmented = crop_prediction(pred.tokens)
        grid = aug.undo(augmented)
        confidence = _sigmoid(pred.q_halt_logit)
        entry = ballots.setdefault((task_id, pred.test_index), {}).setdefault(grid_key(grid), [grid, 0, 0.0])
        entry[1] += 1
        entry[2] += confidence
        count += 1
        if on_vote is not None:
            on_vote(Vote(task_id, pred.test_index, pred.puzzle_name, aug, augmented, grid, confidence))
    tasks = {tid: TaskResult(tid, tuple(_rank(i, np.asarray(a), ballots.get((tid, i), {}))
                                        for i, a in enumerate(outs)))
             for tid, outs in answers.items()}
    return ArcScore(tasks=tasks, ks=ks, predictions=count)


def _rank(index: int, answer: np.ndarray, ballot: dict[bytes, list[Any]]) -> TestInputResult:
    right = grid_key(answer.astype(np.int64))
    stats = [(key, grid, votes, total / votes) for key, (grid, votes, total) in ballot.items()]
    stats.sort(key=lambda s: (s[2], s[3]), reverse=True)  # stable: exact ties keep first-seen order
    ranked = tuple(Candidate(grid, votes, mean, key == right) for key, grid, votes, mean in stats)
    return TestInputResult(index=index, answer=answer, candidates=ranked)


def grid_key(grid: np.ndarray) -> bytes:
    """Equal for equal grids (shape included): what votes are counted by."""
    grid = np.ascontiguousarray(grid, dtype=np.int64)
    return np.asarray(grid.shape, dtype=np.int64).tobytes() + grid.tobytes()


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _check_ks(ks: Sequence[int]) -> tuple[int, ...]:
    ks = tuple(ks)
    if not ks or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in ks):
        raise ValueError(f"pass@k needs whole numbers k ≥ 1, not {ks}")
    return ks
