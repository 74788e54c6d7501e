"""ArcGridTile: one small ARC grid (colours 0-9, any size up to 30×30) with a title and a caption.

Why not TokenGridView: the task view shows a dozen grids of different sizes side by side
(demonstrations, candidates, augmentations), each cropped to its own shape and fitted to a
fixed tile, with no zoom or per-cell hover; a tile that paints itself into a fixed box keeps
that row tidy at any window size. Colours come from `render.grid_style`, like every grid.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from hrm_studio.data.grid import COLOUR_OFFSET, COLOUR_VOCAB_LABELS
from hrm_studio.render.grid_style import GridStyle

TILE = 96                  # grid box side in pixels
MAX_CELL = 22
TEXT_HEIGHT = 18
RIGHT_COLOUR = "#2e9e44"   # the border of the right answer
MARK_WIDTH = 3


def arc_style() -> GridStyle:
    """ARC's colours (the viewer's colour palette for PAD, EOS and colours 0-9)."""
    return GridStyle.for_task({"display": "colour", "vocab_labels": list(COLOUR_VOCAB_LABELS)})


class ArcGridTile(QWidget):
    """Title, the grid fitted into a TILE box (cells at most MAX_CELL), caption; optionally a green border."""

    def __init__(self, style: GridStyle, title: str = "", side: int = TILE, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.style = style
        self.side = side
        self.grid: np.ndarray | None = None
        self.title = title
        self.caption = ""
        self.right = False
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_grid(self, grid: np.ndarray | None, title: str | None = None, caption: str = "",
                 right: bool = False, tooltip: str = "") -> None:
        self.grid = None if grid is None else np.asarray(grid)
        if title is not None:
            self.title = title
        self.caption = caption
        self.right = right
        self.updateGeometry()
        self.setToolTip(tooltip or " · ".join(t for t in (self.title, self.caption) if t))
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        """The grid box, widened (up to twice) for a longer title or caption."""
        bold = QFont(self.font())
        bold.setBold(True)
        text = max(QFontMetrics(bold).horizontalAdvance(self.title),
                   self.fontMetrics().horizontalAdvance(self.caption)) + 8
        width = min(max(self.side + 2 * MARK_WIDTH + 8, text), 2 * self.side)
        return QSize(width, self.side + 2 * TEXT_HEIGHT + 2 * MARK_WIDTH + 4)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return self.sizeHint()

    def cell_size(self) -> float:
        """Pixels per cell: the whole grid fits the box, and small grids stay small."""
        if self.grid is None or self.grid.size == 0:
            return 0.0
        rows, cols = self.grid.shape
        return float(min(MAX_CELL, self.side // max(rows, cols)) or 1)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        text = self.palette().windowText().color()
        bold = QFont(self.font())
        bold.setBold(True)
        metrics_width = self.width() - 2
        painter.setPen(text)
        painter.setFont(bold)
        painter.drawText(QRectF(1, 0, metrics_width, TEXT_HEIGHT), Qt.AlignmentFlag.AlignCenter,
                         painter.fontMetrics().elidedText(self.title, Qt.TextElideMode.ElideRight, metrics_width))
        painter.setFont(self.font())
        box = QRectF((self.width() - self.side) / 2, TEXT_HEIGHT + MARK_WIDTH, self.side, self.side)
        if self.grid is None or self.grid.size == 0:
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "empty" if self.grid is not None else "—")
        else:
            self._paint_grid(painter, box)
        painter.setPen(text)
        painter.drawText(QRectF(1, box.bottom() + MARK_WIDTH, metrics_width, TEXT_HEIGHT),
                         Qt.AlignmentFlag.AlignCenter,
                         painter.fontMetrics().elidedText(self.caption, Qt.TextElideMode.ElideRight, metrics_width))
        painter.end()

    def _paint_grid(self, painter: QPainter, box: QRectF) -> None:
        assert self.grid is not None
        rows, cols = self.grid.shape
        cell = self.cell_size()
        left = box.left() + (box.width() - cols * cell) / 2
        top = box.top() + (box.height() - rows * cell) / 2
        fills = [QColor(self.style.fill(c + COLOUR_OFFSET)) for c in range(10)]
        for r in range(rows):
            for c in range(cols):
                colour = int(self.grid[r, c])
                painter.fillRect(QRectF(left + c * cell, top + r * cell, cell, cell),
                                 fills[colour] if 0 <= colour < 10 else QColor("#ff00ff"))
        outline = QRectF(left, top, cols * cell, rows * cell)
        if cell >= 4:
            painter.setPen(QPen(QColor(self.style.marks["frame"]), 1))
            for c in range(1, cols):
                painter.drawLine(outline.left() + c * cell, outline.top(), outline.left() + c * cell, outline.bottom())
            for r in range(1, rows):
                painter.drawLine(outline.left(), outline.top() + r * cell, outline.right(), outline.top() + r * cell)
        if self.right:
            pen = QPen(QColor(RIGHT_COLOUR), MARK_WIDTH)
            pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
            painter.setPen(pen)
            half = MARK_WIDTH / 2
            painter.drawRect(outline.adjusted(-half - 1, -half - 1, half + 1, half + 1))
