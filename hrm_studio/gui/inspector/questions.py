"""The questions the inspector and the editor ask a loaded model, as job-thread callables.

Each function returns a `Question` (LoadedModel → plain data) for `ModelJobs.ask`; the
analysis functions (they import torch) are imported inside, on the job thread, so the
window never imports torch itself. The arrays passed in are copies: the GUI thread may
change its own while the job runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hrm_studio.gui.inspector.model_jobs import ModelFacts, Question, model_facts


@dataclass(frozen=True)
class PuzzleQuery:
    """One puzzle to trace: its tokens, identifier, labels (None: no ground truth) and how far to think."""

    inputs: np.ndarray
    puzzle_identifier: int
    labels: np.ndarray | None
    segments: int
    pca_cell: int | None = None


def facts() -> Question:
    def ask(loaded: Any) -> ModelFacts:
        return model_facts(loaded)
    return ask


def trace(query: PuzzleQuery) -> Question:
    inputs = np.array(query.inputs, copy=True)
    labels = None if query.labels is None else np.array(query.labels, copy=True)

    def ask(loaded: Any) -> Any:
        from hrm_studio.analysis import trace_puzzle

        return trace_puzzle(loaded.head, inputs, query.puzzle_identifier, labels, segments=query.segments,
                            pca_cell=query.pca_cell)
    return ask


def attention(query: PuzzleQuery, *, step: int, level: str, layer: int, head: int, cell: int) -> Question:
    inputs = np.array(query.inputs, copy=True)

    def ask(loaded: Any) -> Any:
        from hrm_studio.analysis import attention_map

        return attention_map(loaded.head, inputs, query.puzzle_identifier, step=step, level=level, layer=layer,
                             head=head, cell=cell)
    return ask


def curve(split: str, segments: int) -> Question:
    def ask(loaded: Any) -> Any:
        from hrm_studio.analysis import step_curve

        puzzles = loaded.data.test if split == "test" else loaded.data.train
        return step_curve(loaded.head, puzzles, segments=segments)
    return ask


@dataclass(frozen=True)
class EditorAnswer:
    """The model's reasoning on an edited puzzle, and what the task's solver says (labels None: no answer)."""

    trace: Any                  # ReasoningTrace, scored against the solver's answer when there is one
    solver_labels: np.ndarray | None
    solver_note: str
    inputs: np.ndarray


def editor_answer(task: dict[str, Any], query: PuzzleQuery, pattern: str) -> Question:
    """Solve the edited puzzle by the task's rules (when it has a solver), then trace the model on it."""
    inputs = np.array(query.inputs, copy=True)

    def ask(loaded: Any) -> EditorAnswer:
        from hrm_studio.analysis import trace_puzzle
        from hrm_studio.data.tasks.solvers import has_solver, solve

        name = str(task.get("task", ""))
        if has_solver(name):
            solved = solve(name, tuple(task["grid_shape"]), inputs, pattern)
            labels, note = solved.labels, solved.note
        else:
            labels, note = None, f"The task {name!r} has no solver, so there is no ground truth to compare with."
        trace_ = trace_puzzle(loaded.head, inputs, query.puzzle_identifier, labels, segments=query.segments)
        return EditorAnswer(trace_, labels, note, inputs)
    return ask
