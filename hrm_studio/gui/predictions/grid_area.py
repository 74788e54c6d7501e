"""GridArea: the four grids of the selected puzzle (Input | Prediction | Ground truth | Diff), scaled to
fit their pane.

Why its own widget: the grids must always show the whole puzzle first — a 30×30 maze on a
laptop screen included — and only then zoom and pan from there. So *Fit* is the default and
comes back on every new puzzle shape and every resize; the mouse wheel, − and + zoom all four
grids together; once zoomed past the pane the grids scroll, and dragging a grid pans it. The
four grids sit in one row, or in two rows of two when the pane is narrow and tall and that
gives bigger cells.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QScrollArea, QWidget

from hrm_studio.gui.predictions.grid_view import CAPTION_HEIGHT, MARGIN, MAX_CELL, MIN_CELL, TITLE_HEIGHT, TokenGridView

VIEW_TITLES = {"input": "Input", "prediction": "Prediction", "truth": "Ground truth", "diff": "Diff"}
SPACING = 6
ZOOM_STEP = 1.25


class GridArea(QScrollArea):
    """The four views, fitted (`fit`) or zoomed (`set_cell_size`); `cell_hovered` passes hover text on."""

    cell_hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.views = {name: TokenGridView(title) for name, title in VIEW_TITLES.items()}
        self.zoomed = False   # the person zoomed: keep their cell size until Fit or a new shape
        self.columns = len(self.views)
        self._shape: tuple[int, int] | None = None
        host = QWidget()
        self._grid = QGridLayout(host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(SPACING)
        for view in self.views.values():
            view.zoom_requested.connect(self.set_cell_size)
            view.cell_hovered.connect(self.cell_hovered)
            view.pan_requested.connect(self.pan)
        self._arrange(len(self.views))
        self.setWidget(host)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # the puzzle list has the keyboard; the grids the mouse
        self.setMinimumSize(120, 60)
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(0)
        self._refit.timeout.connect(self._fit_if_not_zoomed)

    # ----- zoom ------------------------------------------------------------------------------------
    @property
    def cell(self) -> float:
        return self.views["input"].cell

    def set_cell_size(self, cell: float) -> None:
        """Zoom every grid together; the size stays until Fit (or another puzzle shape)."""
        self.zoomed = True
        self._apply(cell)

    def zoom_in(self) -> None:
        self.set_cell_size(self.cell * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_cell_size(self.cell / ZOOM_STEP)

    def fit(self) -> None:
        """The largest cell size at which the four grids fit the pane, in the arrangement that allows
        the largest (one row of four, or two rows of two)."""
        self.zoomed = False
        content = self.views["input"].content
        if content is None:
            return
        unit_w, unit_h = content.geometry.extent(1.0)
        best = max((self._fitting_cell(columns, unit_w, unit_h), columns) for columns in (4, 2))
        self._arrange(best[1])
        self._apply(best[0])

    def shape_shown(self, shape: tuple[int, int]) -> None:
        """A puzzle of this (rows, columns) is drawn: a new shape starts from Fit again."""
        if shape != self._shape:
            self._shape = shape
            self.zoomed = False
        if not self.zoomed:
            self.fit()

    def pan(self, delta: QPoint) -> None:
        """Move the zoomed grids by `delta` pixels (a drag on a grid)."""
        for bar, step in ((self.horizontalScrollBar(), delta.x()), (self.verticalScrollBar(), delta.y())):
            bar.setValue(bar.value() - step)

    def fits(self) -> bool:
        """Whether every grid is drawn whole inside the pane (nothing to scroll to)."""
        viewport = self.viewport().rect()
        for view in self.views.values():
            if view.content is None:
                continue
            width, height = view.content.geometry.extent(view.cell)
            top_left = view.mapTo(self.viewport(), QPoint(0, 0))
            needed_w, needed_h = int(width) + 2 * MARGIN, int(height) + TITLE_HEIGHT + CAPTION_HEIGHT + MARGIN
            if (top_left.x() < 0 or top_left.y() < 0 or view.width() < needed_w or view.height() < needed_h
                    or top_left.x() + needed_w > viewport.width() or top_left.y() + needed_h > viewport.height()):
                return False
        return True

    # ----- internals -------------------------------------------------------------------------------
    def _fitting_cell(self, columns: int, unit_w: float, unit_h: float) -> float:
        rows = len(self.views) // columns
        area = self.viewport().size()
        room_w = (area.width() - (columns - 1) * SPACING) / columns - 2 * MARGIN - 2
        room_h = (area.height() - (rows - 1) * SPACING) / rows - TITLE_HEIGHT - CAPTION_HEIGHT - 2 * MARGIN - 2
        return max(min(room_w / max(unit_w, 1e-9), room_h / max(unit_h, 1e-9), MAX_CELL), MIN_CELL)

    def _apply(self, cell: float) -> None:
        for view in self.views.values():
            view.set_cell_size(cell)
        # Zoomed, the grids ask for their whole size and the pane scrolls; fitted, they already fit.
        self.widget().setMinimumSize(self.widget().layout().sizeHint() if self.zoomed else QSize(0, 0))

    def _arrange(self, columns: int) -> None:
        if columns == self.columns and self._grid.count() == len(self.views):
            return
        self.columns = columns
        for view in self.views.values():
            self._grid.removeWidget(view)
        for index, view in enumerate(self.views.values()):
            self._grid.addWidget(view, index // columns, index % columns)

    def _fit_if_not_zoomed(self) -> None:
        if not self.zoomed:
            self.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._refit.start()
