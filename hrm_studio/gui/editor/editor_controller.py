"""EditorController: every edit of the puzzle asks the model again, in the background.

Each edit changes the puzzle at once on screen and queues one question in the "editor" lane
of `ModelJobs`: the task's solver and the model's whole reasoning on the new puzzle. A newer
edit replaces a question still waiting and makes a running one stale, so only the answer to
the latest puzzle is ever drawn and the window never waits (`last_round_trip_ms` is the
time from the edit to its answer on screen). Kept puzzles are saved as an official-layout
data set labelled with the solver's answers.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from hrm_studio.data.edited_set import EditedPuzzle, save_edited_set
from hrm_studio.data.task_data import TaskInfo
from hrm_studio.gui.editor.brush import blank_inputs, editable_cells, palette_tokens, token_for_key
from hrm_studio.gui.editor.editor_tab import EMPTY, EditorTab
from hrm_studio.gui.inspector import questions
from hrm_studio.gui.inspector.model_jobs import ModelFacts, ModelJobs, must_load_model, puzzle_row
from hrm_studio.gui.inspector.questions import EditorAnswer, PuzzleQuery
from hrm_studio.gui.widgets.background import JobError, JobRunner


class EditorController(QObject):
    """Connects an EditorTab to a ModelJobs. `current_puzzle()` names the puzzle "Start from" copies."""

    answered = Signal(object)    # EditorAnswer, once drawn
    saved = Signal(object)       # list[Path]
    failed = Signal(str)

    def __init__(self, tab: EditorTab, jobs: ModelJobs,
                 current_puzzle: Callable[[], tuple[str, int]] = lambda: ("test", 0),
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tab, self.jobs, self.current_puzzle = tab, jobs, current_puzzle
        self.files = JobRunner(self)
        self.facts: ModelFacts | None = None
        self.inputs: np.ndarray | None = None
        self.identifier, self.pattern = 1, ""
        self.original: tuple[np.ndarray, np.ndarray] | None = None   # the puzzle started from, and its labels
        self.kept: list[EditedPuzzle] = []
        self.tokens: list[int] = []   # the palette
        self.started = False
        self.last_round_trip_ms: float | None = None
        self._source: object = None
        self._edited_at = 0.0
        tab.start_requested.connect(self.start)
        tab.identifier_chosen.connect(self.set_identifier)
        tab.keep_requested.connect(self.keep)
        tab.extra_box.valueChanged.connect(lambda _: self._ask() if self.inputs is not None else None)
        tab.paint_view.paint_at.connect(self._paint)
        tab.paint_view.key_typed.connect(self._typed)

    def refresh(self) -> None:
        """Start (the tab was shown) or catch up with a new model."""
        self.started = True
        if not must_load_model(self.jobs, self.tab, self._source, self.facts is not None, EMPTY):
            return
        self._source, self.facts, self.inputs = self.jobs.source(), None, None
        self.jobs.forget_model()
        self.tab.set_status("Loading the model…")
        self.jobs.ask("editor-facts", questions.facts(), self._facts_ready, self._failed)

    def _facts_ready(self, facts: ModelFacts) -> None:
        self.facts = facts
        self.tokens = palette_tokens(facts.task, facts.splits)
        self.tab.set_task(facts.task, self.tokens, facts.halt_max_steps)
        self.tab.set_available(True)
        self.start("current")

    # ----- the puzzle -------------------------------------------------------------------------------------
    def start(self, kind: str) -> None:
        """Copy the current puzzle ("current") or a blank one of its size ("blank")."""
        facts = self.facts
        if facts is None:
            return
        split, index = self.current_puzzle()
        puzzles = facts.splits.get(split)
        if puzzles is None or len(puzzles) == 0:
            puzzles = next((p for p in facts.splits.values() if len(p)), None)
            index = 0
        if puzzles is None:
            self.tab.set_status("The model's data set has no puzzles to start from.")
            return
        index = min(index, len(puzzles) - 1)
        inputs, identifier, labels = puzzle_row(puzzles, index)
        self.original = (inputs.copy(), labels)
        if kind == "blank":
            inputs = blank_inputs(facts.task, inputs, self.tokens)
        self.identifier, self.pattern = identifier, str(puzzles.patterns[index])
        self.tab.set_identifier(identifier)
        self.set_inputs(inputs)

    def set_inputs(self, inputs: np.ndarray) -> None:
        assert self.facts is not None
        self.inputs = np.asarray(inputs).copy()
        self.tab.show_inputs(self.inputs, editable_cells(self.facts.task, self.inputs))
        self._ask()

    def edit(self, pos: int, token: int) -> None:
        """Set cell `pos` to `token` and ask the model again (the answer to the previous edit is dropped)."""
        if self.inputs is None or self.facts is None or int(self.inputs[pos]) == token:
            return
        if not editable_cells(self.facts.task, self.inputs)[pos] or token not in self.tokens:
            return   # a PAD or EOS frame cell, or a token the task's puzzles never hold
        inputs = self.inputs.copy()
        inputs[pos] = token
        self.set_inputs(inputs)

    def set_identifier(self, identifier: int) -> None:
        assert self.facts is not None
        self.identifier = identifier
        names = self.facts.task.get("identifier_names") or []
        if identifier < len(names) and names[identifier] in (self.facts.task.get("pattern_names") or []):
            self.pattern = names[identifier]
        if self.inputs is not None:
            self._ask()

    def _paint(self, pos: int) -> None:
        token = self.tab.brush()
        if token is not None:
            self.edit(pos, token)

    def _typed(self, text: str, pos: int) -> None:
        labels = list((self.facts.task if self.facts else {}).get("vocab_labels") or [])
        token = token_for_key(text, self.tokens, labels)
        if token is None:
            self.tab.set_status(f"The key {text!r} paints nothing here; use the palette's symbols or 1–"
                                f"{len(self.tokens)}.")
            return
        self.edit(pos, token)

    # ----- the model's answer ---------------------------------------------------------------------------
    def _ask(self) -> None:
        assert self.facts is not None and self.inputs is not None
        self._edited_at = time.perf_counter()
        query = PuzzleQuery(self.inputs, self.identifier, None, self.facts.halt_max_steps + self.tab.extra_box.value())
        self.tab.set_status("Answering…")
        self.jobs.ask("editor", questions.editor_answer(self.facts.task, query, self.pattern), self._answered,
                      self._failed)

    def _answered(self, answer: EditorAnswer) -> None:
        self.tab.show_answer(answer)
        self.last_round_trip_ms = (time.perf_counter() - self._edited_at) * 1000
        self.tab.set_status(f"Answered in {self.last_round_trip_ms:.0f} ms.")
        self.answered.emit(answer)

    def _failed(self, error: JobError) -> None:
        self.tab.set_status(error.message)
        self.failed.emit(error.message)

    # ----- keeping and saving -------------------------------------------------------------------------------
    def current_puzzle_labels(self) -> np.ndarray | str:
        """The label to save for the puzzle on screen: the solver's answer, the original label of an unedited
        puzzle, or why there is none."""
        answer = self.tab.answer
        if self.inputs is None:
            return "There is no puzzle yet."
        if self.original is not None and np.array_equal(self.inputs, self.original[0]):
            return self.original[1]
        if answer is None or not np.array_equal(answer.inputs, self.inputs):
            return "Wait for the answer to the last edit, then try again."
        if answer.solver_labels is None:
            return f"This puzzle has no ground truth to save as its label: {answer.solver_note}"
        return answer.solver_labels

    def keep(self) -> bool:
        labels = self.current_puzzle_labels()
        if isinstance(labels, str):
            self.tab.set_status(labels)
            return False
        assert self.inputs is not None
        self.kept.append(EditedPuzzle(self.inputs.copy(), np.asarray(labels).copy(), self.identifier))
        self.tab.set_status(f"Kept {len(self.kept)} puzzle{'s' if len(self.kept) != 1 else ''} to save.")
        return True

    def save(self, folder: str | Path) -> bool:
        """Write the kept puzzles (or, with none kept, the one on screen) at `folder`, a folder that must not
        exist yet; `saved` or `failed` says how it went."""
        if self.facts is None:
            self.failed.emit("There is no model's task to save puzzles of yet.")
            return False
        puzzles = list(self.kept)
        if not puzzles:
            labels = self.current_puzzle_labels()
            if isinstance(labels, str):
                self.failed.emit(labels)
                return False
            assert self.inputs is not None
            puzzles = [EditedPuzzle(self.inputs.copy(), np.asarray(labels).copy(), self.identifier)]
        info = TaskInfo.from_dict(self.facts.task)
        folder = Path(folder)
        self.files.submit(lambda: [save_edited_set(folder, puzzles, info)], self.saved.emit,
                          lambda e: self.failed.emit(e.message))
        return True

    def shutdown(self) -> None:
        self.files.shutdown()
