"""InspectorController: what the Reasoning tab asks the model, and what it does with the answers.

Why apart from the tab: the tab only draws; this object turns the person's choices (puzzle,
extra segments, step, clicked cell, level / layer / head) into questions for `ModelJobs`,
and their answers into calls on the tab. It stays idle until the tab is first shown
(`refresh()`), so a person who never opens the tab never pays for loading the model twice.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from hrm_studio.analysis import AttentionMap, ReasoningTrace, StepCurve
from hrm_studio.gui.inspector import questions
from hrm_studio.gui.inspector.inspector_tab import EMPTY, InspectorTab
from hrm_studio.gui.inspector.model_jobs import ModelFacts, ModelJobs, must_load_model, puzzle_row
from hrm_studio.gui.inspector.questions import PuzzleQuery
from hrm_studio.gui.widgets.background import JobError, JobRunner


def attention_levels(facts: ModelFacts) -> dict[str, tuple[int, int]]:
    """Level → (layers, heads): HRM has H and L modules; TRM's one network is its L level."""
    if facts.arch == "trm":
        return {"L": (facts.L_layers, facts.num_heads)}
    return {"H": (facts.H_layers, facts.num_heads), "L": (facts.L_layers, facts.num_heads)}


class InspectorController(QObject):
    """Connects an InspectorTab to a ModelJobs; `trace_shown` fires after each trace is drawn."""

    trace_shown = Signal(object)     # ReasoningTrace
    saved = Signal(object)           # list[Path]
    failed = Signal(str)

    def __init__(self, tab: InspectorTab, jobs: ModelJobs, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tab, self.jobs = tab, jobs
        self.files = JobRunner(self)
        self.facts: ModelFacts | None = None
        self.query: PuzzleQuery | None = None
        self.started = False
        self._source: object = None
        self._puzzle = ("test", 0)
        tab.puzzle_chosen.connect(self.show_puzzle)
        tab.recompute_requested.connect(self.recompute)
        tab.extra_box.valueChanged.connect(lambda _: self.recompute())
        tab.pca_box.currentIndexChanged.connect(lambda _: self.recompute())
        tab.step_changed.connect(lambda _: self._ask_attention())
        tab.cell_chosen.connect(self._cell_chosen)
        tab.attention_changed.connect(self._ask_attention)
        tab.curve_requested.connect(self.compute_curve)

    @property
    def puzzle(self) -> tuple[str, int]:
        """(split, index) of the puzzle shown, or to be shown once the model is loaded."""
        return self._puzzle

    # ----- the model ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Start (the tab was shown) or catch up with a new model (a run opened or ended)."""
        self.started = True
        if not must_load_model(self.jobs, self.tab, self._source, self.facts is not None, EMPTY):
            return
        self._source, self.facts = self.jobs.source(), None
        self.jobs.forget_model()
        self.tab.set_status("Loading the model…")
        self.jobs.ask("facts", questions.facts(), self._facts_ready, self._failed)

    def _facts_ready(self, facts: ModelFacts) -> None:
        self.facts = facts
        sizes = {split: len(puzzles) for split, puzzles in facts.splits.items()}
        self.tab.set_model(facts.task, sizes, facts.halt_max_steps, attention_levels(facts))
        self.tab.set_available(True)
        self.tab.show_curve(None, "Exact match and token accuracy after every step, over the chosen split.")
        self.show_puzzle(*self._puzzle)

    # ----- one puzzle ---------------------------------------------------------------------------------
    def follow_prediction(self, split: str, index: int) -> None:
        """The Predictions tab selected puzzle `index` of `split`."""
        self._puzzle = (split, index)
        if self.facts is not None:
            self.tab.choose_puzzle(split, index)

    def show_puzzle(self, split: str, index: int) -> None:
        self._puzzle = (split, index)
        facts = self.facts
        if facts is None or not self.started:
            return
        puzzles = facts.splits.get(split)
        if puzzles is None or len(puzzles) == 0:
            self.tab.set_status(f"The {split} split has no puzzles.")
            return
        inputs, identifier, labels = puzzle_row(puzzles, min(index, len(puzzles) - 1))
        self.query = PuzzleQuery(inputs, identifier, labels, self.segments(), self.tab.pca_cell())
        self._ask_trace()

    def segments(self) -> int:
        trained = self.facts.halt_max_steps if self.facts is not None else 1
        return trained + self.tab.extra_box.value()

    def recompute(self) -> None:
        if self.query is not None:
            self.show_puzzle(*self._puzzle)

    def _ask_trace(self) -> None:
        assert self.query is not None
        self.tab.set_status("Thinking…")
        self.jobs.ask("trace", questions.trace(self.query), self._traced, self._failed)

    def _traced(self, trace: ReasoningTrace) -> None:
        assert self.query is not None
        split, index = self._puzzle
        self.tab.set_status("")
        title = f"{'Held-out' if split == 'test' else 'Training'} puzzle {index}"
        self.tab.show_trace(trace, self.query.inputs, self.query.labels, title)
        self._ask_attention()
        self.trace_shown.emit(trace)

    # ----- attention ------------------------------------------------------------------------------------
    def _cell_chosen(self, cell: int) -> None:
        if self.tab.pca_box.currentData() == "cell":
            self.recompute()
        self._ask_attention()

    def _ask_attention(self) -> None:
        if self.query is None or self.tab.cell is None or self.tab.trace is None:
            return
        level, layer, head = self.tab.attention_choice()
        question = questions.attention(self.query, step=self.tab.slider.value(), level=level, layer=layer,
                                       head=head, cell=self.tab.cell)
        self.jobs.ask("attention", question, self._attended, self._failed)

    def _attended(self, attention: AttentionMap) -> None:
        self.tab.show_attention(attention)

    # ----- the split --------------------------------------------------------------------------------------
    def compute_curve(self) -> None:
        split = self.tab.split
        self.tab.show_curve(None, f"Running every {'held-out' if split == 'test' else 'training'} puzzle…")
        self.jobs.ask("curve", questions.curve(split, self.segments()), lambda c: self._curve_ready(c, split),
                      self._failed)

    def _curve_ready(self, curve: StepCurve, split: str) -> None:
        critical = curve.critical_step()
        where = f"; the biggest jump comes at step {critical + 1}" if critical is not None else ""
        self.tab.show_curve(curve, f"{curve.count} {'held-out' if split == 'test' else 'training'} puzzles: exact "
                                   f"match {curve.exact[-1]:.1%} after the last step{where}.")

    def _failed(self, error: JobError) -> None:
        self.tab.set_status(error.message)
        self.failed.emit(error.message)

    # ----- exports ------------------------------------------------------------------------------------------
    def export(self, kind: str, path: str | Path) -> bool:
        """Save the timeline ("strip" PNG, "gif") or a plot ("dynamics", "curve": .png or .svg) at `path`."""
        from hrm_studio.gui.metrics.plot_export import save_png, save_svg

        tab, path = self.tab, Path(path)
        if kind in ("dynamics", "curve"):
            widget = tab.dynamics.view if kind == "dynamics" else tab.curve.view
            saved = save_svg(widget, path, "HRM Studio reasoning") if path.suffix.lower() == ".svg" \
                else save_png(widget, path)
            self.saved.emit([saved])
            return True
        trace, inputs, task = tab.trace, tab.inputs, tab.task
        if trace is None or inputs is None or task is None:
            self.failed.emit("There is no timeline to save yet: wait for the puzzle's answer first.")
            return False
        labels, title = tab.labels, tab.summary_title

        def work() -> list[Path]:
            from hrm_studio.render import trace_exports as ex

            save = ex.save_timeline_gif if kind == "gif" else ex.save_timeline_png
            return [save(trace, inputs, labels, task, path, title)]
        self.files.submit(work, self.saved.emit, lambda e: self.failed.emit(e.message))
        return True

    def shutdown(self) -> None:
        self.files.shutdown()
