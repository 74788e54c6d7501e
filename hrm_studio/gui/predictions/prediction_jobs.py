"""Background work for the Predictions tab: read saved predictions, evaluate a model, export.

Why a separate object: evaluating thousands of puzzles or writing a GIF takes seconds,
so it must never run on the GUI thread, must be cancellable, and must report progress.
Each job runs on its own JobRunner thread and hands back plain data; the tab only
draws. Predictions a job computes are saved into the run folder, so reopening the run
shows them without evaluating again.
"""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from hrm_studio.config import RunConfig
from hrm_studio.errors import UserError
from hrm_studio.gui.widgets.background import JobError, JobRunner
from hrm_studio.gui.predictions.predictions_tab import PredictionsTab
from hrm_studio.runstore.keys import RunState
from hrm_studio.runstore.prediction_set import SPLITS, PredictionSet
from hrm_studio.runstore.run_dir import RunDir

CONTACT_SHEET_PUZZLES = 16


@dataclass(frozen=True)
class PredictionSource:
    """The model whose predictions the tab shows, and where to keep them."""

    checkpoint: Path | None
    config: RunConfig
    run_dir: Path | None = None
    keep: bool = True   # save what is evaluated in run_dir (not when other settings than the run's were used)


# What the settings panel holds when an evaluation starts: the settings, or why they cannot be used.
ScreenSettings = Callable[[], "RunConfig | str"]


def with_screen_settings(source: PredictionSource, screen: RunConfig) -> PredictionSource:
    """`source` evaluated with the settings on screen; kept in its run folder only when those are the run's
    own model and data settings (predictions of other puzzles must not pass for the run's)."""
    own = source.config.to_dict()
    now = screen.to_dict()
    same = all(own.get(section) == now.get(section) for section in ("model", "data"))
    return replace(source, config=screen, keep=source.keep and same)


def dataset_dir_of(source: PredictionSource | None) -> str | None:
    """The data set folder the source's model reads (an ARC build's holds its tasks), None for a generated task."""
    return (source.config.data.dataset_dir or None) if source is not None else None


def load_saved(run_dir: Path | None) -> dict[str, PredictionSet]:
    """Every split the run folder has saved predictions for (run on a job thread)."""
    found: dict[str, PredictionSet] = {}
    if run_dir is None:
        return found
    for split in SPLITS:
        path = RunDir(run_dir).predictions_path(split)
        if path.is_file():
            found[split] = PredictionSet.load(path)
    return found


def evaluate_split(source: PredictionSource, split: str, on_progress: Callable[[int, int], None],
                   should_stop: Callable[[], bool], segments: int | None = None) -> tuple[PredictionSet, str] | None:
    """The whole split through the model (run on a job thread); also saved in the run folder.

    segments: run this many ACT segments instead of the trained number (more thinking at test time);
              such predictions are shown, never saved as the run's.
    None when `should_stop()` turned true: the person cancelled or started training.
    """
    from hrm_studio.training import checkpoint as ckpt
    from hrm_studio.training.checkpoint_scoring import EvaluationCancelled, score_weights

    if source.checkpoint is None:
        raise UserError("There is no model to evaluate yet: train a run or open a checkpoint first.")
    if segments is not None:
        source = replace(source, keep=False)
    try:
        result = score_weights(ckpt.read_weights(source.checkpoint), source.config, split, on_progress=on_progress,
                               should_stop=should_stop, segments=segments)
    except EvaluationCancelled:
        return None
    if should_stop():
        return None
    ps = result[0]
    note = ""
    # Kept in the run folder for next time, unless another process is still training that run: the folder
    # is its writer's, and predictions of an older checkpoint could land over the ones it writes at its end.
    if (source.keep and source.run_dir is not None and source.run_dir.is_dir()
            and RunDir(source.run_dir).state() != RunState.RUNNING):
        try:
            ps.save(RunDir(source.run_dir).predictions_path(split))
        except OSError as exc:
            note = f"The predictions could not be saved in the run folder ({exc}); they are shown but will be " \
                   f"computed again next time."
    return ps, note


def collect_quietly() -> None:
    """Run the cyclic garbage collector now, on the GUI thread, while no other thread is in torch.

    Why: a finished run or evaluation leaves torch modules in reference cycles. Collected later
    by chance, while another thread is inside torch (the next run loading its checkpoint), the
    collection crashed the process in about one try in four (a segfault in the hammer test);
    collected here, before the next torch thread starts, it never did."""
    gc.collect()


class PredictionJobs(QObject):
    """Owns the tab's background jobs; errors go to `failed`, files written to `saved`."""

    progress = Signal(int, int)
    failed = Signal(str)
    saved = Signal(object)      # list[Path]
    message = Signal(str)       # a status-bar line

    def __init__(self, tab: PredictionsTab, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tab = tab
        self.jobs = JobRunner(self)
        self.source: PredictionSource | None = None
        self.screen_settings: ScreenSettings | None = None   # evaluations use these when set (the window's)
        self.training = False
        self._cancel = threading.Event()
        self._evaluating: str | None = None
        self.progress.connect(tab.show_progress)
        tab.evaluate_requested.connect(self.evaluate)
        tab.cancel_requested.connect(self.cancel)
        tab.split_box.currentIndexChanged.connect(lambda _: self._split_chosen())
        tab.summaries.segments.segments_requested.connect(lambda n: self.evaluate(self.tab.split, segments=n))

    @property
    def busy(self) -> bool:
        return self.jobs.busy

    # ----- what to show ---------------------------------------------------------------------------
    def set_source(self, source: PredictionSource | None, *, show_saved: bool = True) -> None:
        """A new model: forget the old predictions, show saved ones, evaluate the chosen split if none."""
        self.cancel()
        self.source = source
        self.tab.arc.set_dataset_dir(dataset_dir_of(source))
        self._show_model(source)
        self.tab.clear()
        self.tab.set_evaluation_available(source is not None and source.checkpoint is not None)
        if source is None:
            return
        if show_saved and source.run_dir is not None:
            run_dir = source.run_dir
            self.jobs.submit(lambda: load_saved(run_dir), self._saved_loaded, self._failed)
        else:
            self._split_chosen()

    def training_started(self, dataset_dir: str | None = None) -> None:
        """Live predictions come from the trainer now; stop anything running and disable evaluation.

        A running evaluation is cancelled and waited for (it ends within a batch), then the
        garbage it left is collected here, before the training thread exists: see `collect_quietly`.
        `dataset_dir`: the run's data set folder (an ARC build's holds its tasks' demonstrations)."""
        self.cancel()
        self.jobs.wait(30_000)
        collect_quietly()
        self.training = True
        self.source = None
        self.tab.arc.set_dataset_dir(dataset_dir or None)   # the running run's data set folder, if any
        self._show_model(None)   # and so may its ratings: none are read until the run has ended
        self.tab.clear()
        self.tab.set_evaluation_available(False)

    def training_ended(self, source: PredictionSource | None, evaluate: bool = True) -> None:
        """Keep the live predictions; evaluate the chosen split in full if it was only a sample."""
        self.training = False
        self.source = source
        self.tab.arc.set_dataset_dir(dataset_dir_of(source))
        self._show_model(source)
        can = source is not None and source.checkpoint is not None
        self.tab.set_evaluation_available(can)
        current = self.tab.current_set()
        if evaluate and can and (current is None or not current.complete):
            self.evaluate(self.tab.split, announce=False)

    def _show_model(self, source: PredictionSource | None) -> None:
        """Tell the summaries how many segments the model was trained with and where its ratings are."""
        config = source.config if source is not None else None
        self.tab.summaries.set_model(config.model.halt_max_steps if config else None,
                                     config.data.dataset_dir if config else None)

    def _saved_loaded(self, found: dict[str, PredictionSet]) -> None:
        for ps in found.values():
            self.tab.set_predictions(ps)
        if found:
            self.message.emit(f"Showing the run's saved predictions ({', '.join(sorted(found))}).")
        self._split_chosen()

    def _split_chosen(self) -> None:
        current = self.tab.current_set()
        if self.training or self.source is None or self.source.checkpoint is None or current is not None:
            return
        self.evaluate(self.tab.split, announce=False)

    # ----- evaluation -----------------------------------------------------------------------------
    def evaluate(self, split: str, announce: bool = True, segments: int | None = None) -> None:
        """Every puzzle of `split` through the model, in the background; `announce` in the status bar
        (automatic evaluations only show the tab's progress bar, so they never hide a run's message);
        `segments` ACT segments instead of the trained number (the Segments control)."""
        if self.source is None or self.training or self.source.checkpoint is None:
            self.failed.emit("There is no model to evaluate: the run is still training or nothing is open.")
            return
        if self._evaluating is not None:
            return
        source = self.source
        screen = self.screen_settings() if self.screen_settings is not None else None
        if isinstance(screen, str):
            self.failed.emit(f"Cannot evaluate with the settings shown: {screen}")
            return
        if screen is not None:   # what the person sees is what the model is evaluated with
            source = with_screen_settings(source, screen)
        self._cancel = threading.Event()
        cancel = self._cancel
        self._evaluating = split
        collect_quietly()
        self.tab.show_progress(0, 0)   # "starting…" until the job knows how many puzzles
        if announce:
            longer = f" with {segments} segments" if segments is not None else ""
            self.message.emit(f"Evaluating every {'held-out' if split == 'test' else 'training'} puzzle{longer}…")
        self.jobs.submit(lambda: evaluate_split(source, split, lambda d, n: self.progress.emit(d, n),
                                                cancel.is_set, segments),
                         self._evaluated, self._evaluation_failed)

    def settings_changed(self) -> None:
        """The settings were made to fit the model (a preset applied): evaluate the split shown again
        unless predictions are already on view."""
        if self.source is not None and self.source.checkpoint is not None and not self.training \
                and self.tab.current_set() is None:
            self.evaluate(self.tab.split)

    def cancel(self) -> None:
        self._cancel.set()

    def _evaluated(self, result: tuple[PredictionSet, str] | None) -> None:
        self._evaluating = None
        self.tab.hide_progress()
        if result is None:
            self.message.emit("Evaluation cancelled.")
            return
        ps, note = result
        if self.source is not None and not self._cancel.is_set():
            self.tab.set_predictions(ps)
        if note:
            self.failed.emit(note)

    def _evaluation_failed(self, error: JobError) -> None:
        self._evaluating = None
        self.tab.hide_progress()
        self._failed(error)

    def _failed(self, error: JobError) -> None:
        self.failed.emit(error.message)

    # ----- exports ----------------------------------------------------------------------------------
    def export(self, kind: str, path: str | Path) -> bool:
        """Write the selected puzzle's panel (png), its steps (gif) or a contact sheet (sheet)."""
        from hrm_studio.render import puzzle_exports as ex

        ps, row = self.tab.current_set(), self.tab.selected_row()
        path = Path(path)
        if ps is None or (row is None and kind != "sheet"):
            self.failed.emit("Select a puzzle first: there is nothing to export yet.")
            return False
        segment = self.tab.segment
        work: Callable[[], Any]
        if kind == "png":
            work = lambda: [ex.save_puzzle_png(ps, row, path, segment=segment)]  # noqa: E731
        elif kind == "gif":
            work = lambda: [ex.save_steps_gif(ps, row, path)]  # noqa: E731
        elif kind == "sheet":
            rows = self.tab.shown_rows()[:CONTACT_SHEET_PUZZLES]
            if not rows:
                self.failed.emit("No puzzles are listed: change the filters to list some, then save again.")
                return False
            work = lambda: [ex.save_contact_sheet(ps, rows, path)]  # noqa: E731
        else:
            raise ValueError(f"unknown export {kind!r}")
        self.jobs.submit(work, self.saved.emit, self._failed)
        return True

    def shutdown(self) -> None:
        self.cancel()
        self.jobs.shutdown()
        self.tab.arc.shutdown()
