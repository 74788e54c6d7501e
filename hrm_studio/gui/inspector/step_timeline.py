"""StepTimeline: every high-level update of one puzzle's reasoning at a glance.

One column per step (HRM: each H cycle; TRM: each full recursion) across all segments:
whether the answer was right after it, how many cells it changed, and per segment the
Q-head's sigmoid(q_halt). Segment boundaries are drawn, segments beyond the trained
`halt_max_steps` are shaded as extra thinking, the step from which the answer stays right
is marked, and the shown step is outlined. Clicking a column shows that step.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from hrm_studio.analysis import ReasoningTrace

LABEL_WIDTH = 120
ROW_HEIGHT = 18
ROWS = ("Segment", "Right after it", "Cells changed", "sigmoid(q_halt)")
GOOD, BAD, UNKNOWN = QColor("#2e7d32"), QColor("#c62828"), QColor("#9e9e9e")
EXTRA_SHADE = QColor(128, 128, 128, 40)
CURRENT = QColor("#1565c0")
SETTLED = QColor("#f9a825")


class StepTimeline(QWidget):
    """The strip under the grids; `step_clicked` carries the 0-based global step."""

    step_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trace: ReasoningTrace | None = None
        self.trained_segments = 0
        self.step = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(self._height())
        self.setMinimumWidth(LABEL_WIDTH + 80)
        self.setToolTip("Each column is one high-level update. Click a column to show the answer after it.")

    @staticmethod
    def _height() -> int:
        return ROW_HEIGHT * len(ROWS) + 8

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(500, self._height())

    def set_trace(self, trace: ReasoningTrace | None, trained_segments: int) -> None:
        self.trace = trace
        self.trained_segments = trained_segments
        self.step = 0 if trace is None else min(self.step, trace.steps - 1)
        self.update()

    def set_step(self, step: int) -> None:
        self.step = step
        self.update()

    def column_width(self) -> float:
        steps = self.trace.steps if self.trace is not None else 1
        return max(1.0, (self.width() - LABEL_WIDTH - 4) / steps)

    def step_at(self, x: float) -> int | None:
        if self.trace is None or x < LABEL_WIDTH:
            return None
        step = int((x - LABEL_WIDTH) // self.column_width())
        return step if 0 <= step < self.trace.steps else None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        step = self.step_at(event.position().x())
        if step is not None:
            self.step_clicked.emit(step)

    # ----- painting -----------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        text = self.palette().windowText().color()
        painter.setPen(text)
        for r, name in enumerate(ROWS):
            painter.drawText(QRectF(2, 4 + r * ROW_HEIGHT, LABEL_WIDTH - 6, ROW_HEIGHT),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, name)
        if self.trace is not None:
            self._paint_segments(painter, self.trace, text)
            self._paint_steps(painter, self.trace, text)
            self._paint_marks(painter, self.trace)
        painter.end()

    def _x(self, step: int) -> float:
        return LABEL_WIDTH + step * self.column_width()

    def _paint_segments(self, painter: QPainter, trace: ReasoningTrace, text: QColor) -> None:
        per, bottom = trace.steps_per_segment, 4 + len(ROWS) * ROW_HEIGHT
        for s in range(trace.segments):
            left, right = self._x(s * per), self._x((s + 1) * per)
            extra = s >= self.trained_segments
            if extra:
                painter.fillRect(QRectF(left, 4, right - left, bottom - 4), EXTRA_SHADE)
            painter.setPen(text)
            name = f"{'extra ' if extra else ''}{s + 1}"
            painter.drawText(QRectF(left, 4, right - left, ROW_HEIGHT), Qt.AlignmentFlag.AlignCenter, name)
            p = float(trace.q_halt_prob[s])
            bar = QRectF(left + 3, 4 + 3 * ROW_HEIGHT + 2, max(0.0, (right - left - 6) * p), ROW_HEIGHT - 4)
            painter.fillRect(bar, GOOD if p >= 0.5 else UNKNOWN)
            painter.setPen(text)
            painter.drawText(QRectF(left, 4 + 3 * ROW_HEIGHT, right - left, ROW_HEIGHT),
                             Qt.AlignmentFlag.AlignCenter, f"{p:.2f}")
            painter.setPen(QPen(text, 2))
            painter.drawLine(QPointF(left, 4), QPointF(left, bottom))
        painter.drawLine(QPointF(self._x(trace.steps), 4), QPointF(self._x(trace.steps), bottom))

    def _paint_steps(self, painter: QPainter, trace: ReasoningTrace, text: QColor) -> None:
        width = self.column_width()
        changed = trace.changed.sum(axis=1)
        for t in range(trace.steps):
            x = self._x(t)
            cell = QRectF(x + 1, 4 + ROW_HEIGHT + 2, width - 2, ROW_HEIGHT - 4)
            right = None if trace.correct is None else bool(trace.correct[t])
            painter.fillRect(cell, UNKNOWN if right is None else GOOD if right else BAD)
            if width >= 14:
                painter.setPen(QColor("#ffffff"))
                mark = "?" if right is None else "✓" if right else "✗"
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, mark)
            if width >= 12:
                painter.setPen(text)
                painter.drawText(QRectF(x, 4 + 2 * ROW_HEIGHT, width, ROW_HEIGHT), Qt.AlignmentFlag.AlignCenter,
                                 str(int(changed[t])))

    def _paint_marks(self, painter: QPainter, trace: ReasoningTrace) -> None:
        width = self.column_width()
        step = min(max(self.step, 0), trace.steps - 1)
        painter.setPen(QPen(CURRENT, 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(self._x(step) + 1, 5 + ROW_HEIGHT, width - 2, (len(ROWS) - 1) * ROW_HEIGHT - 2))
        if trace.settled_step is not None:
            x = self._x(trace.settled_step) + width / 2
            y = 4 + ROW_HEIGHT
            painter.setPen(QPen(SETTLED.darker(130), 1))
            painter.setBrush(SETTLED)
            painter.drawPolygon(QPolygonF([QPointF(x - 6, y - 8), QPointF(x + 6, y - 8), QPointF(x, y)]))


def settled_text(trace: ReasoningTrace) -> str:
    """One sentence on when the answer became right, for the label under the timeline."""
    if trace.correct is None:
        return "No ground truth for this puzzle, so right and wrong are not marked."
    if trace.settled_step is None:
        return ("Never right at the last step." if not np.any(trace.correct)
                else "Right at some steps, but not from one step to the end.")
    seg = trace.segment_of(trace.settled_step)
    inner = trace.settled_step - seg * trace.steps_per_segment
    return (f"Right from step {trace.settled_step + 1} on (segment {seg + 1}, update {inner + 1} of "
            f"{trace.steps_per_segment}): marked ▼.")
