"""Where one cell looks: attention weights over the grid drawn on the puzzle, the prefix apart.

The heat grid uses the puzzle's own geometry (same crop and EOS lines as every other grid),
fills each cell from white (no weight) to deep blue (the largest weight of this query), and
rings the query cell. The puzzle-embedding prefix positions are not grid cells, so they get
their own strip under it, on the same colour scale, with their share of the whole weight.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from hrm_studio.analysis import AttentionMap
from hrm_studio.gui.inspector.grid_row import CellGridView
from hrm_studio.gui.predictions.grid_view import GridContent
from hrm_studio.gui.widgets.words import count

LOW, HIGH = np.array([255, 255, 255], float), np.array([13, 71, 161], float)
QUERY = QColor("#f9a825")


def heat(value: float) -> QColor:
    """0 → white, 1 → deep blue."""
    v = min(max(float(value), 0.0), 1.0)
    r, g, b = (LOW + (HIGH - LOW) * v).round().astype(int)
    return QColor(int(r), int(g), int(b))


def scaled(weights: np.ndarray, top: float) -> np.ndarray:
    return np.asarray(weights, np.float64) / top if top > 0 else np.zeros(len(weights))


class AttentionGridView(CellGridView):
    """The grid of `content` filled by attention weight; the query cell ringed."""

    def __init__(self, title: str = "Attention", parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.map: AttentionMap | None = None
        self.placeholder = "Click a cell of the answer to see where it looks"

    def set_map(self, content: GridContent | None, attention: AttentionMap | None, title: str) -> None:
        self.map = attention
        self.set_content(content if attention is not None else None, title)

    def top_weight(self) -> float:
        if self.map is None:
            return 0.0
        both = np.concatenate([self.map.grid_weights, self.map.prefix_weights])
        return float(both.max()) if both.size else 0.0

    def _paint_cells(self, painter: QPainter, c: GridContent) -> None:  # noqa: D401 - Qt painting
        if self.map is None:
            return
        g = c.geometry
        origin = self._origin()
        tops, lefts = g.offsets(self.cell)
        tops, lefts = tops + origin.y(), lefts + origin.x()
        values = scaled(self.map.grid_weights, self.top_weight())
        index = g.visible_index()
        line = QColor(c.style.marks["grid_line"])
        for r in range(g.rows):
            for col in range(g.cols):
                pos = int(index[r, col])
                rect = QRectF(lefts[col], tops[r], lefts[col + 1] - lefts[col], tops[r + 1] - tops[r])
                painter.fillRect(rect, heat(values[pos]) if pos < len(values) else QColor("#ff00ff"))
                if pos == self.map.cell:
                    painter.setPen(QPen(QUERY, max(2.0, self.cell / 8)))
                    painter.drawRect(rect.adjusted(1, 1, -1, -1))
        if self.cell >= 4:
            painter.setPen(QPen(line, 1))
            for x in lefts:
                painter.drawLine(x, tops[0], x, tops[-1])
            for y in tops:
                painter.drawLine(lefts[0], y, lefts[-1], y)


class PrefixStrip(QWidget):
    """The prefix positions' weights, one square each, on the grid's colour scale."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.weights = np.zeros(0)
        self.top = 0.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(34)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(300, 34)

    def set_weights(self, weights: np.ndarray, top: float) -> None:
        self.weights, self.top = np.asarray(weights, np.float64), top
        self.update()

    def share(self) -> float:
        return float(self.weights.sum())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        text = self.palette().windowText().color()
        painter.setPen(text)
        n = len(self.weights)
        label = (f"Puzzle-embedding prefix ({count(n, 'position')}): {100 * self.share():.1f} % of the weight" if n
                 else "No puzzle-embedding prefix positions")
        painter.drawText(QRectF(0, 0, self.width(), 16), Qt.AlignmentFlag.AlignLeft, label)
        if n:
            size = min(16.0, max(3.0, (self.width() - 4) / n))
            values = scaled(self.weights, self.top)
            for i in range(n):
                rect = QRectF(2 + i * size, 17, size - 1, 15)
                painter.fillRect(rect, heat(values[i]))
            painter.setPen(QPen(text, 1))
            painter.drawRect(QRectF(1, 16, n * size + 1, 17))
        painter.end()
