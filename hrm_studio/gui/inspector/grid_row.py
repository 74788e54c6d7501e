"""GridRow: a few token grids side by side, always fitted whole into their pane.

The inspector shows Input | Answer after step k | Ground truth and the editor shows its
painted puzzle beside the model's answer and the solver's; both want every grid whole at
the largest cell size the pane allows, recomputed on every resize and new puzzle shape
(the Predictions tab's GridArea does the same for its four fixed views, with zoom and pan
on top). `CellGridView` adds a click that names the sequence position under the mouse.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QMouseEvent, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QWidget

from hrm_studio.gui.predictions.grid_view import CAPTION_HEIGHT, MARGIN, MAX_CELL, MIN_CELL, TITLE_HEIGHT, GridContent
from hrm_studio.gui.predictions.grid_view import TokenGridView

SPACING = 6


class CellGridView(TokenGridView):
    """A TokenGridView whose left click (without a drag) emits the sequence position clicked."""

    cell_clicked = Signal(int)

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self._pressed_at: QPointF | None = None

    def position_at(self, x: float, y: float) -> int | None:
        hit = self.cell_at(x, y)
        if hit is None or self.content is None:
            return None
        return hit[0] * self.content.geometry.grid_cols + hit[1]

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.button() == Qt.MouseButton.LeftButton:
            self._pressed_at = event.position()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        pressed, self._pressed_at = self._pressed_at, None
        if pressed is None or (event.position() - pressed).manhattanLength() > 4:
            return
        pos = self.position_at(event.position().x(), event.position().y())
        if pos is not None:
            self.cell_clicked.emit(pos)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if not event.buttons():
            super().mouseMoveEvent(event)   # hover text only; no drag-to-pan in a fitted row


class GridRow(QWidget):
    """Named views in one row; `fit()` sizes their cells so every grid is whole."""

    def __init__(self, views: dict[str, TokenGridView], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views = views
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(SPACING)
        for view in views.values():
            layout.addWidget(view, 1)
        self.setMinimumSize(120, 80)

    def set_content(self, name: str, content: GridContent | None, title: str | None = None) -> None:
        """Show `content` in view `name`, with its tokens written in (Sudoku digits) where its style says so."""
        if content is not None:
            self.views[name].set_show_numbers(content.style.shows_text_by_default())
        self.views[name].set_content(content, title)
        self.fit()

    def fit(self) -> None:
        extents = [v.content.geometry.extent(1.0) for v in self.views.values()
                   if v.content is not None and not v.isHidden()]
        if not extents:
            return
        unit_w, unit_h = max(e[0] for e in extents), max(e[1] for e in extents)
        # Never taller than the grids at their largest cells: the room left goes below, not around them.
        self.setMaximumHeight(int(unit_h * MAX_CELL) + TITLE_HEIGHT + CAPTION_HEIGHT + 2 * MARGIN + 4)
        columns = sum(1 for v in self.views.values() if not v.isHidden())
        room_w = (self.width() - (columns - 1) * SPACING) / max(columns, 1) - 2 * MARGIN - 2
        room_h = self.height() - TITLE_HEIGHT - CAPTION_HEIGHT - 2 * MARGIN - 2
        cell = max(min(room_w / max(unit_w, 1e-9), room_h / max(unit_h, 1e-9), MAX_CELL), MIN_CELL)
        for view in self.views.values():
            view.set_cell_size(cell)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self.fit()
