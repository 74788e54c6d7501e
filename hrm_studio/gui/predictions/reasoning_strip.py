"""ReasoningStrip: the selected puzzle's ACT segments at a glance.

One column per segment: was the answer right after it (✓/✗), how sure the Q-head was
that it could stop (sigmoid(q_halt)) and that it should go on (sigmoid(q_continue)),
the segment where the model halts, and the one the step slider shows. This is where
"why does exact match stall" becomes visible: a puzzle that is right at segment 2 and
wrong again at 4, or one the model halts on before it is right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

LABEL_WIDTH = 150
ROW_HEIGHT = 18
ROWS = ("Right after it", "sigmoid(q_halt)", "sigmoid(q_continue)")


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


@dataclass(frozen=True)
class SegmentFacts:
    """Per segment of one puzzle (T entries each)."""

    exact: np.ndarray        # bool
    halt_p: np.ndarray       # sigmoid(q_halt)
    continue_p: np.ndarray   # sigmoid(q_continue)
    halt_step: int           # 1-based
    correct_from: int        # 1-based, 0 = never

    @property
    def summary(self) -> str:
        """One sentence for the label under the strip."""
        t = len(self.exact)
        right = (f"right from segment {self.correct_from} on" if self.correct_from
                 else "never right in all segments" if not self.exact.any()
                 else "right at some segments but not at the last")
        return (f"The model halts at segment {self.halt_step} of {t} "
                f"({'right' if self.exact[self.halt_step - 1] else 'wrong'} there); {right}.")


class ReasoningStrip(QWidget):
    segment_clicked = Signal(int)   # 0-based segment

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.facts: SegmentFacts | None = None
        self.current = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumHeight(ROW_HEIGHT * (len(ROWS) + 1) + 6)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(500, ROW_HEIGHT * (len(ROWS) + 1) + 6)

    def set_facts(self, facts: SegmentFacts | None, current: int = 0) -> None:
        self.facts = facts
        self.current = current
        self.update()

    def set_current(self, segment: int) -> None:
        self.current = segment
        self.update()

    def _column_width(self) -> float:
        t = len(self.facts.exact) if self.facts is not None else 1
        return max(8.0, (self.width() - LABEL_WIDTH - 4) / max(t, 1))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        text = self.palette().windowText().color()
        f = self.facts
        if f is None:
            painter.end()
            return
        t = len(f.exact)
        w = self._column_width()
        painter.setPen(text)
        painter.drawText(QRectF(0, 0, LABEL_WIDTH, ROW_HEIGHT), Qt.AlignmentFlag.AlignVCenter, "Segment")
        for r, name in enumerate(ROWS, start=1):
            painter.drawText(QRectF(0, r * ROW_HEIGHT, LABEL_WIDTH, ROW_HEIGHT), Qt.AlignmentFlag.AlignVCenter, name)
        green, red = QColor("#2e9e44"), QColor("#e0364b")
        for k in range(t):
            x = LABEL_WIDTH + k * w
            head = QRectF(x, 0, w, ROW_HEIGHT)
            painter.setPen(text)
            mark = " ■" if k + 1 == f.halt_step else ""
            painter.drawText(head, Qt.AlignmentFlag.AlignCenter, f"{k + 1}{mark}")
            right = QRectF(x + 1, ROW_HEIGHT + 1, w - 2, ROW_HEIGHT - 2)
            painter.fillRect(right, green if f.exact[k] else red)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(right, Qt.AlignmentFlag.AlignCenter, "✓" if f.exact[k] else "✗")
            for row, values in ((2, f.halt_p), (3, f.continue_p)):
                cell = QRectF(x + 1, row * ROW_HEIGHT + 1, w - 2, ROW_HEIGHT - 2)
                p = float(values[k])
                painter.fillRect(cell, QColor.fromRgbF(0.35, 0.55, 0.9, 0.15 + 0.75 * p))
                painter.setPen(text)
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, f"{p:.2f}")
        if 0 <= self.current < t:
            painter.setPen(QPen(QColor("#ffb000"), 2))
            painter.drawRect(QRectF(LABEL_WIDTH + self.current * w + 1, 1, w - 2, ROW_HEIGHT * 4 - 2))
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if self.facts is None:
            return
        k = int((event.position().x() - LABEL_WIDTH) // self._column_width())
        if 0 <= k < len(self.facts.exact):
            self.segment_clicked.emit(k)
