"""FlowLayout: a row of widgets that wraps onto more lines when the pane is narrow.

Why: a toolbar row of combo boxes and buttons laid out with QHBoxLayout makes its whole sum the
window's minimum width, so one such row kept the window wider than a laptop screen. A flow row
asks only for its widest item and grows in height instead (Qt's "Flow Layout" example, with
right-aligned items: those added with `add_widget(w, right=True)` go to the end of the last line,
as a stretch before them would put them in a QHBoxLayout).
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


class FlowLayout(QLayout):
    """Items left to right, wrapping; `right=True` items are pushed to the right edge of their line."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._right: set[int] = set()   # ids of the items pushed right
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    # ----- QLayout's interface -------------------------------------------------------------------
    def add_widget(self, widget: QWidget, right: bool = False) -> None:
        self.addWidget(widget)
        if right:
            self._right.add(id(self._items[-1]))

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 (Qt name)
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 (Qt name)
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 (Qt name)
        if not 0 <= index < len(self._items):
            return None
        item = self._items.pop(index)
        self._right.discard(id(item))
        return item

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 (Qt name)
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt name)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt name)
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 (Qt name)
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        """Everything on one line."""
        width, height = 0, 0
        for item in self._shown():
            hint = item.sizeHint()
            width += hint.width() + self._spacing
            height = max(height, hint.height())
        margins = self.contentsMargins()
        return QSize(max(width - self._spacing, 0) + margins.left() + margins.right(),
                     height + margins.top() + margins.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802 (Qt name)
        """The widest item alone: the row never holds the window wider than that."""
        size = QSize()
        for item in self._shown():
            size = size.expandedTo(item.minimumSize())
        margins: QMargins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    # ----- placing ---------------------------------------------------------------------------------
    def _shown(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _lines(self, width: int) -> list[list[QLayoutItem]]:
        lines: list[list[QLayoutItem]] = [[]]
        used = 0
        for item in self._shown():
            w = item.sizeHint().width()
            if lines[-1] and used + self._spacing + w > width:
                lines.append([])
                used = 0
            used += (self._spacing if lines[-1] else 0) + w
            lines[-1].append(item)
        return [line for line in lines if line]

    def _place(self, rect: QRect, move: bool) -> int:
        """Lay the items out in `rect` (when `move`); the height they need at its width."""
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        y = area.y()
        for line in self._lines(area.width()):
            height = max(item.sizeHint().height() for item in line)
            if move:
                self._place_line(line, area, y, height)
            y += height + self._spacing
        return max(y - self._spacing - area.y(), 0) + margins.top() + margins.bottom()

    def _place_line(self, line: list[QLayoutItem], area: QRect, y: int, height: int) -> None:
        widths = [min(item.sizeHint().width(), area.width()) for item in line]
        right_width = sum(w + self._spacing for item, w in zip(line, widths) if id(item) in self._right)
        x_left, x_right = area.x(), area.x() + area.width() - right_width + self._spacing
        x_right = max(x_right, area.x() + sum(w + self._spacing for item, w in zip(line, widths)
                                              if id(item) not in self._right))
        for item, w in zip(line, widths):
            top = y + (height - item.sizeHint().height()) // 2
            if id(item) in self._right:
                item.setGeometry(QRect(QPoint(x_right, top), QSize(w, item.sizeHint().height())))
                x_right += w + self._spacing
            else:
                item.setGeometry(QRect(QPoint(x_left, top), QSize(w, item.sizeHint().height())))
                x_left += w + self._spacing


def flow_row(*widgets: QWidget, right: tuple[QWidget, ...] = ()) -> QWidget:
    """A widget holding `widgets` (then `right`, pushed to the right edge) in a FlowLayout."""
    host = QWidget()
    layout = FlowLayout(host)
    for widget in widgets:
        layout.add_widget(widget)
    for widget in right:
        layout.add_widget(widget, right=True)
    return host

