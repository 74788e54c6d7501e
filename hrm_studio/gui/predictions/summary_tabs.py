"""The split-wide summaries under the selected puzzle, as tabs: tokens and patterns, difficulty, segments.

Why tabs: each summary needs the width of the pane to be read, and the puzzle above needs the
height; one summary at a time keeps both readable on a laptop screen. This object also knows
what the PredictionSet does not carry: the data set's ratings (read from its folder, once per
split) and how many segments the model was trained with.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtWidgets import QTabWidget, QWidget

from hrm_studio.errors import DatasetError
from hrm_studio.evaluation.difficulty import puzzle_violations
from hrm_studio.gui.predictions.difficulty_panel import DifficultyPanel
from hrm_studio.gui.predictions.segments_panel import SegmentsPanel
from hrm_studio.gui.widgets.words import count

if TYPE_CHECKING:
    from hrm_studio.runstore.prediction_set import PredictionSet


MOST_MINIMUM_HEIGHT = 60


class SummaryTabs(QTabWidget):
    """`aggregates` (the per-pattern table and token charts) | Difficulty | Segments."""

    def __init__(self, aggregates: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.aggregates = aggregates
        self.difficulty = DifficultyPanel()
        self.segments = SegmentsPanel()
        self.addTab(aggregates, "Tokens and patterns")
        self.addTab(self.difficulty, "Difficulty")
        self.addTab(self.segments, "Segments")
        self.setTabToolTip(1, "Accuracy by rating, givens or path length; Sudoku rule breaks.")
        self.setTabToolTip(2, "Accuracy after every reasoning segment; evaluate with more segments.")
        self.setDocumentMode(True)
        # The tab bar and the panels' controls would otherwise make the grids' splitter too tall for
        # a 640-pixel screen: the summaries may be dragged smaller (they scroll or clip), the grids not.
        self.setMinimumHeight(MOST_MINIMUM_HEIGHT)
        self.dataset_dir: Path | None = None
        self._ratings: dict[str, np.ndarray | None] = {}

    def set_model(self, trained_segments: int | None, dataset_dir: str | Path | None) -> None:
        """The model's trained segments and the data set folder its ratings are read from ("" / None: none)."""
        folder = Path(dataset_dir).expanduser() if dataset_dir else None
        if folder != self.dataset_dir:
            self.dataset_dir, self._ratings = folder, {}
        self.segments.set_trained(trained_segments)

    def set_predictions(self, ps: PredictionSet | None, segment: int | None) -> None:
        self.difficulty.set_predictions(ps, self.ratings(ps), segment)
        self.segments.set_predictions(ps, segment)

    def set_segment(self, segment: int | None) -> None:
        self.difficulty.set_segment(segment)
        self.segments.set_segment(segment)

    def ratings(self, ps: PredictionSet | None) -> np.ndarray | None:
        """The data set's rating of each puzzle of `ps`, None when it keeps none for them."""
        if ps is None or self.dataset_dir is None:
            return None
        if ps.split not in self._ratings:
            from hrm_studio.data.csv_import import read_ratings

            try:
                self._ratings[ps.split] = read_ratings(self.dataset_dir, ps.split)
            except DatasetError:   # a damaged ratings file: the other views still work
                self._ratings[ps.split] = None
        ratings = self._ratings[ps.split]
        if ratings is None or (len(ps) and int(np.max(ps.indices)) >= len(ratings)):
            return None
        return ratings[np.asarray(ps.indices, np.int64)]

    def puzzle_violations(self, ps: PredictionSet, tokens: np.ndarray) -> tuple[np.ndarray | None, str]:
        """The cells of one prediction that break a Sudoku rule (None: not a Sudoku) and a sentence about
        them and the split, for the line under the grids."""
        cells = puzzle_violations(ps.task, tokens)
        if cells is None:
            return None, ""
        split = self.difficulty.violations
        broken = int(split.broken.sum()) if split is not None else 0
        mine = (f"This prediction repeats a digit in {count(int(cells.sum()), 'cell')} (red dashes)"
                if cells.any() else "This prediction repeats no digit")
        verb = "breaks" if broken == 1 else "break"
        return cells, f"{mine}; {broken} of {count(len(ps), 'prediction')} in the split {verb} a Sudoku rule."
