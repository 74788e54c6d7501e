"""PaintGridView: the puzzle editor's grid, painted with the mouse or typed into with the keyboard.

Click or drag with the left button to paint cells with the chosen token; the keyboard moves a
cursor (arrow keys) and types a token into the cell under it (digits, or the task's own
symbols). The view only reports *where* and *what key*; the editor tab decides which token
that means and which cells may change (never a PAD or EOS frame cell of an ARC grid).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QWidget

from hrm_studio.gui.inspector.grid_row import CellGridView
from hrm_studio.gui.predictions.grid_view import GridContent

CURSOR = QColor("#f9a825")
MOVES = {Qt.Key.Key_Left: (0, -1), Qt.Key.Key_Right: (0, 1), Qt.Key.Key_Up: (-1, 0), Qt.Key.Key_Down: (1, 0)}


class PaintGridView(CellGridView):
    """`paint_at(pos)` on a click or drag over a cell; `key_typed(text, pos)` for a key at the cursor."""

    paint_at = Signal(int)
    key_typed = Signal(str, int)

    def __init__(self, title: str = "Your puzzle", parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.editable: np.ndarray | None = None   # bool [S]
        self.cursor_pos: int | None = None
        self._painting = False
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip("Click or drag to paint with the chosen token; arrow keys move the cursor and a digit "
                        "or symbol key types into its cell.")

    def set_editable(self, editable: np.ndarray | None) -> None:
        self.editable = editable
        if editable is not None and (self.cursor_pos is None or not editable[self.cursor_pos]):
            where = np.flatnonzero(editable)
            self.cursor_pos = int(where[0]) if where.size else None
        self.update()

    def _can_paint(self, pos: int | None) -> bool:
        return pos is not None and self.editable is not None and bool(self.editable[pos])

    # ----- mouse ------------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self.setFocus()
        pos = self.position_at(event.position().x(), event.position().y())
        self._painting = True
        if self._can_paint(pos):
            self.cursor_pos = pos
            self.paint_at.emit(pos)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if not (self._painting and event.buttons() & Qt.MouseButton.LeftButton):
            super().mouseMoveEvent(event)
            return
        pos = self.position_at(event.position().x(), event.position().y())
        if self._can_paint(pos) and pos != self.cursor_pos:
            self.cursor_pos = pos
            self.paint_at.emit(pos)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        self._painting = False

    # ----- keyboard -------------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        if self.content is None or self.cursor_pos is None:
            super().keyPressEvent(event)
            return
        move = MOVES.get(Qt.Key(event.key()))
        if move is not None:
            self._move(*move)
            return
        text = event.text()
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            text = "\b"
        if text and text.isprintable() or text == "\b":
            self.key_typed.emit(text, self.cursor_pos)
            return
        super().keyPressEvent(event)

    def _move(self, dr: int, dc: int) -> None:
        assert self.content is not None and self.cursor_pos is not None
        cols = self.content.geometry.grid_cols
        rows = self.content.geometry.grid_rows
        r, c = divmod(self.cursor_pos, cols)
        while True:
            r, c = r + dr, c + dc
            if not (0 <= r < rows and 0 <= c < cols):
                return
            if self._can_paint(r * cols + c):
                self.cursor_pos = r * cols + c
                self.update()
                return

    # ----- painting -------------------------------------------------------------------------------------
    def _paint_cells(self, painter: QPainter, c: GridContent) -> None:
        super()._paint_cells(painter, c)
        if self.cursor_pos is None or not self.hasFocus():
            return
        g = c.geometry
        r, col = divmod(self.cursor_pos, g.grid_cols)
        if not (g.row_start <= r < g.row_stop and g.col_start <= col < g.col_stop):
            return
        tops, lefts = g.offsets(self.cell)
        origin = self._origin()
        r, col = r - g.row_start, col - g.col_start
        rect = QRectF(lefts[col] + origin.x(), tops[r] + origin.y(), lefts[col + 1] - lefts[col],
                      tops[r + 1] - tops[r])
        painter.setPen(QPen(CURSOR, max(2.0, self.cell / 9)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(rect.adjusted(2, 2, -2, -2))
