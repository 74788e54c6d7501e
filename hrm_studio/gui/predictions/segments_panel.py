"""The Predictions tab's Segments view: accuracy after every ACT segment, and more segments on request.

Why: a recurrent model can be asked to think longer than it was trained to (`eval --segments N`).
Whether that helps, hurts or changes nothing is read off one curve: token and exact accuracy
after each segment, a dashed line where training stopped, a grey line at the segment the slider
shows. The spin box and its button evaluate the split again with N segments, N past the trained
halt_max_steps allowed, on the tab's background job (prediction_jobs.py). No torch here.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hrm_studio.config import ModelConfig
from hrm_studio.evaluation.metrics import accuracy_by_segment
from hrm_studio.gui.predictions.difficulty_panel import styled_plot
from hrm_studio.gui.widgets.theme import plot_colours

if TYPE_CHECKING:
    from hrm_studio.runstore.prediction_set import PredictionSet

MAX_SEGMENTS = next(int(f.metadata["max"]) for f in fields(ModelConfig) if f.name == "halt_max_steps")


class SegmentsPanel(QWidget):
    """Segments spin box + Evaluate, and the per-segment accuracy plot of the set shown.

    Read by tests: `rows` (accuracy_by_segment of the set), `trained`, `curve(name)`."""

    segments_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.predictions: PredictionSet | None = None
        self.rows: list[dict[str, Any]] = []
        self.trained: int | None = None
        self.available = False
        self.spin = QSpinBox()
        self.spin.setRange(1, MAX_SEGMENTS)
        self.spin.setValue(8)
        self.spin.setToolTip(f"How many reasoning (ACT) segments to run for every puzzle, 1 to {MAX_SEGMENTS}; more "
                             f"than the model was trained with lets it think longer.")
        self.run_button = QPushButton("Evaluate with these segments")
        self.run_button.setToolTip("Run the model over every puzzle of this split again with that many segments "
                                   "(in the background). The result is shown, not saved in the run folder.")
        self.run_button.clicked.connect(lambda: self.segments_requested.emit(self.spin.value()))
        self.info_label = QLabel()
        self.info_label.setWordWrap(True)
        self.info_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._build_plot()
        top = QHBoxLayout()
        top.addWidget(QLabel("Segments:"))
        top.addWidget(self.spin)
        top.addWidget(self.run_button)
        top.addWidget(self.info_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        self._refresh()

    def _build_plot(self) -> None:
        colours = plot_colours()
        self.plot = styled_plot("Accuracy after each segment", "%", "segment")
        item = self.plot.getPlotItem()
        legend = item.addLegend(offset=(-2, 2), labelTextSize="8pt", labelTextColor=colours.foreground, colCount=2)
        self.exact_curve = pg.PlotDataItem([], [], pen=pg.mkPen(colours.train, width=2), symbol="o", symbolSize=6,
                                           symbolBrush=colours.train, name="exact match")
        self.token_curve = pg.PlotDataItem([], [], pen=pg.mkPen(colours.validation, width=2), symbol="o",
                                           symbolSize=6, symbolBrush=colours.validation, name="token accuracy")
        item.addItem(self.exact_curve)
        item.addItem(self.token_curve)
        legend.setBrush(pg.mkBrush(colours.background))
        self.trained_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(colours.foreground, style=Qt.PenStyle.DashLine),
                                            label="trained", labelOpts={"position": 0.08, "color": colours.foreground})
        self.cursor_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(colours.cursor, width=1))
        item.addItem(self.trained_line)
        item.addItem(self.cursor_line)
        self.plot.setToolTip("Exact match and token accuracy of the whole set after each reasoning segment; the "
                             "dashed line is where training stopped, the grey one the segment the slider shows.")

    # ----- data in ---------------------------------------------------------------------------------
    def set_trained(self, segments: int | None) -> None:
        """How many segments the model was trained with (None: not known); the spin box starts at twice that."""
        if segments is not None and segments != self.trained:
            self.spin.setValue(min(2 * segments, MAX_SEGMENTS))
        self.trained = segments
        self._refresh()

    def set_available(self, available: bool) -> None:
        """Whether a model can be evaluated now (a checkpoint is open, nothing else is running)."""
        self.available = available
        self.run_button.setEnabled(available)
        self.spin.setEnabled(available)

    def set_predictions(self, ps: PredictionSet | None, segment: int | None = None) -> None:
        self.predictions = ps
        self.rows = accuracy_by_segment(ps.predictions) if ps is not None else []
        self._refresh()
        self.set_segment(segment)

    def set_segment(self, segment: int | None) -> None:
        """Mark the 0-based segment the slider shows (None = the last)."""
        steps = len(self.rows)
        at = steps if segment is None else segment + 1
        self.cursor_line.setPos(at)
        self.cursor_line.setVisible(steps > 0)

    def curve(self, name: str) -> list[float]:
        """The percentages drawn for "exact" or "token", one per segment."""
        _, y = (self.exact_curve if name == "exact" else self.token_curve).getData()
        return [] if y is None else [float(v) for v in y]

    # ----- internals --------------------------------------------------------------------------------
    def _refresh(self) -> None:
        rows = self.rows
        x = [r["segment"] for r in rows]
        self.exact_curve.setData(x, [100 * r["exact_match_accuracy"] for r in rows])
        self.token_curve.setData(x, [100 * r["token_accuracy"] for r in rows])
        show_trained = self.trained is not None and bool(rows)
        self.trained_line.setVisible(show_trained)
        if show_trained:
            self.trained_line.setPos(self.trained + 0.0)
        item = self.plot.getPlotItem()
        last = max(len(rows), self.trained or 0, 1)
        item.setXRange(0.5, last + 0.5, padding=0)
        item.getAxis("bottom").setTicks([[(k, str(k)) for k in range(1, last + 1, max(1, last // 12))]])
        item.setYRange(0, 118, padding=0)
        self.info_label.setText(self._info())

    def _info(self) -> str:
        if not self.rows:
            return "No predictions shown."
        best = max(self.rows, key=lambda r: (r["exact_match_accuracy"], -r["segment"]))
        last = self.rows[-1]
        trained = f" The model was trained with {self.trained}." if self.trained is not None else ""
        return (f"{len(self.rows)} segments shown: exact {100 * last['exact_match_accuracy']:.1f}% after the last, "
                f"best {100 * best['exact_match_accuracy']:.1f}% after segment {best['segment']}.{trained}")
