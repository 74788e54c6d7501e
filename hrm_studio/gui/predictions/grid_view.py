"""TokenGridView: one token sequence drawn as a grid of coloured cells.

Why a custom widget and not a table or an image: every cell must answer a hover
(row, column, token, label, the model's probability), marks for wrong and changed
cells must sit on top of the colours, and four of these redraw each time the person
moves to the next puzzle — plain QPainter rectangles do that in well under a
millisecond per view. Colours, labels and the crop come from `hrm_studio.render`, the
same facts the PNG/GIF exports use, so the screen and the files agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from hrm_studio.data.grid import IGNORE
from hrm_studio.render.grid_geometry import GridGeometry
from hrm_studio.render.grid_style import GridStyle

MIN_CELL, MAX_CELL = 1.0, 64.0   # a 30×30 maze fits a small pane at a few pixels a cell
TITLE_HEIGHT, CAPTION_HEIGHT, MARGIN = 20, 18, 6


def heat_colour(p: float) -> QColor:
    """Probability 0 → red, 0.5 → amber, 1 → green: the confidence overlay."""
    p = min(max(float(p), 0.0), 1.0)
    if p < 0.5:
        return QColor.fromRgbF(0.85, 0.15 + 1.3 * p, 0.1)
    return QColor.fromRgbF(0.85 - 1.5 * (p - 0.5), 0.8, 0.1 + 0.3 * (p - 0.5))


@dataclass
class GridContent:
    """What one view shows: the tokens, and the optional layers drawn over them."""

    tokens: np.ndarray                        # int [S]
    geometry: GridGeometry
    style: GridStyle
    labels: np.ndarray | None = None          # int [S] ground truth, for hover
    confidence: np.ndarray | None = None      # float [S] probability of each shown token
    wrong: np.ndarray | None = None           # bool [S]
    changed: np.ndarray | None = None         # bool [S]
    heatmap: bool = False                     # fill cells by confidence instead of token colour
    violations: np.ndarray | None = None      # bool [S] Sudoku cells repeating a digit in their row/column/box


class TokenGridView(QWidget):
    """A titled grid with its 'H×W' caption; wheel zooms, hover explains a cell."""

    zoom_requested = Signal(float)   # new cell size in pixels; the tab applies it to every view
    cell_hovered = Signal(str)       # the hover text, also shown as a tooltip
    pan_requested = Signal(QPoint)   # a drag moved by this many pixels: scroll the zoomed grids

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.content: GridContent | None = None
        self.cell = 22.0
        self.show_numbers = False
        self.placeholder = "No puzzle selected"
        self._drag: QPointF | None = None
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setMinimumSize(80, 80)

    # ----- content ------------------------------------------------------------------------------
    def set_content(self, content: GridContent | None, title: str | None = None) -> None:
        self.content = content
        if title is not None:
            self.title = title
        self.updateGeometry()
        self.update()

    def set_cell_size(self, cell: float) -> None:
        self.cell = min(max(float(cell), MIN_CELL), MAX_CELL)
        self.updateGeometry()
        self.update()

    def set_show_numbers(self, on: bool) -> None:
        self.show_numbers = bool(on)
        self.update()

    @property
    def caption(self) -> str:
        return self.content.geometry.shape_text if self.content is not None else ""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        if self.content is None:
            return QSize(160, 160)
        width, height = self.content.geometry.extent(self.cell)
        return QSize(int(width) + 2 * MARGIN, int(height) + TITLE_HEIGHT + CAPTION_HEIGHT + 2 * MARGIN)

    # ----- geometry ---------------------------------------------------------------------------
    def _origin(self) -> QPointF:
        """Top-left of the grid: centred horizontally under the title."""
        assert self.content is not None
        width, _ = self.content.geometry.extent(self.cell)
        return QPointF(max(MARGIN, (self.width() - width) / 2), self._top() + TITLE_HEIGHT)

    def _top(self) -> float:
        """Top of the title: the title, grid and caption sit in the middle of a pane taller than they are."""
        if self.content is None:
            return MARGIN
        _, height = self.content.geometry.extent(self.cell)
        return max(MARGIN, (self.height() - height - TITLE_HEIGHT - CAPTION_HEIGHT) / 2)

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """Grid (row, column) under widget pixel (x, y)."""
        if self.content is None:
            return None
        origin = self._origin()
        return self.content.geometry.cell_at(x - origin.x(), y - origin.y(), self.cell)

    def describe_cell(self, row: int, col: int) -> str:
        """Hover text: where, which token, what the label is, how sure the model was."""
        c = self.content
        if c is None:
            return ""
        pos = row * c.geometry.grid_cols + col
        token = int(c.tokens[pos])
        parts = [f"row {row + 1 - c.geometry.row_start}, column {col + 1 - c.geometry.col_start}",
                 f"token {c.style.label(token)!r} (id {token})"]
        if c.labels is not None:
            label = int(c.labels[pos])
            parts.append("not scored" if label == IGNORE else f"label {c.style.label(label)!r} (id {label})")
        if c.confidence is not None:
            parts.append(f"model's probability {float(c.confidence[pos]):.3f}")
        if c.wrong is not None and bool(c.wrong[pos]):
            parts.append("WRONG")
        if c.changed is not None and bool(c.changed[pos]):
            parts.append("changed in this segment")
        if c.violations is not None and bool(c.violations[pos]):
            parts.append("repeats a digit in its row, column or box")
        return " · ".join(parts)

    # ----- painting -----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        text_colour = self.palette().windowText().color()
        painter.setPen(text_colour)
        title_font = QFont(self.font())
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.drawText(QRectF(0, self._top(), self.width(), TITLE_HEIGHT), Qt.AlignmentFlag.AlignHCenter,
                         self.title)
        painter.setFont(self.font())
        c = self.content
        if c is None:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            painter.end()
            return
        self._paint_cells(painter, c)
        width, height = c.geometry.extent(self.cell)
        origin = self._origin()
        painter.setFont(self.font())
        painter.setPen(text_colour)
        painter.drawText(QRectF(0, origin.y() + height + 2, self.width(), CAPTION_HEIGHT),
                         Qt.AlignmentFlag.AlignHCenter, self.caption)
        painter.end()

    def _paint_cells(self, painter: QPainter, c: GridContent) -> None:
        g = c.geometry
        origin = self._origin()
        tops, lefts = g.offsets(self.cell)
        tops = tops + origin.y()
        lefts = lefts + origin.x()
        index = g.visible_index()
        fills = [QColor(f) for f in c.style.fills]
        stray = QColor("#ff00ff")
        marks = c.style.marks
        wrong_pen = QPen(QColor(marks["wrong"]), max(1.5, self.cell / 10))
        halo_pen = QPen(QColor("#ffffff"), wrong_pen.widthF() + 2)   # keeps the mark visible on red cells
        changed_pen = QPen(QColor(marks["changed"]), max(1.5, self.cell / 12))
        rule_pen = QPen(QColor(marks["wrong"]), max(2.0, self.cell / 9), Qt.PenStyle.DashLine)
        line = QColor(marks["grid_line"])
        text_font = QFont(self.font())
        text_font.setPixelSize(max(6, int(self.cell * 0.55)))
        numbers = self.show_numbers and self.cell >= 10
        cross = not numbers   # an X over a digit would hide which digit was wrong: outline only then
        painter.setFont(text_font)
        for r in range(g.rows):
            for col in range(g.cols):
                pos = int(index[r, col])
                token = int(c.tokens[pos])
                rect = QRectF(lefts[col], tops[r], lefts[col + 1] - lefts[col], tops[r + 1] - tops[r])
                if c.heatmap and c.confidence is not None:
                    fill = heat_colour(float(c.confidence[pos]))
                else:
                    fill = fills[token] if 0 <= token < len(fills) else stray
                painter.fillRect(rect, fill)
                thin = g.thin_rows[r] or g.thin_cols[col]
                if thin and c.wrong is not None and c.wrong[pos]:
                    painter.fillRect(rect, wrong_pen.color())   # a strip is too thin for an outline
                if numbers and not thin:
                    painter.setPen(QColor(c.style.text_colour(token)) if not c.heatmap else QColor("#111111"))
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, c.style.label(token))
                if c.changed is not None and c.changed[pos]:
                    painter.setPen(changed_pen)
                    painter.drawRect(rect.adjusted(1.5, 1.5, -1.5, -1.5))
                if c.violations is not None and c.violations[pos]:   # dashed: a broken rule, not a wrong cell
                    inset = rule_pen.widthF() / 2 + 1
                    painter.setPen(rule_pen)
                    painter.drawRect(rect.adjusted(inset, inset, -inset, -inset))
                if c.wrong is not None and c.wrong[pos]:
                    inner = rect.adjusted(1, 1, -1, -1)
                    for pen in (halo_pen, wrong_pen):
                        painter.setPen(pen)
                        painter.drawRect(inner)
                        if cross and not thin:
                            painter.drawLine(inner.topLeft(), inner.bottomRight())
                            painter.drawLine(inner.topRight(), inner.bottomLeft())
        if self.cell < 4:   # lines would cover the colours of cells this small
            return
        painter.setPen(QPen(line, 1))
        for x in lefts:
            painter.drawLine(QPointF(x, tops[0]), QPointF(x, tops[-1]))
        for y in tops:
            painter.drawLine(QPointF(lefts[0], y), QPointF(lefts[-1], y))

    # ----- interaction ------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag = event.globalPosition()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        self._drag = None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if self._drag is not None and event.buttons() & Qt.MouseButton.LeftButton:
            moved = event.globalPosition() - self._drag
            self._drag = event.globalPosition()
            self.pan_requested.emit(moved.toPoint())
            return
        pos = event.position()
        hit = self.cell_at(pos.x(), pos.y())
        if hit is None:
            QToolTip.hideText()
            return
        text = self.describe_cell(*hit)
        self.cell_hovered.emit(text)
        QToolTip.showText(event.globalPosition().toPoint(), text, self)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt name)
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            return
        self.zoom_requested.emit(min(max(self.cell * (1.15 ** steps), MIN_CELL), MAX_CELL))
        event.accept()
