"""Drag and drop onto the window: run folders and checkpoints dropped from a file manager open
exactly as `hrm-studio gui PATH…` opens them (`RunOpening.open_paths`).

An event filter on the window rather than overridden event methods, so the main window only
creates it. Only drags carrying local files are accepted: text, web links and files of a
remote location (which have no local path) are refused while dragging, so the cursor
says so before the drop.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QMimeData, QObject
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent

if TYPE_CHECKING:
    from hrm_studio.gui.shell.main_window import MainWindow


def dropped_paths(mime: QMimeData | None) -> list[Path]:
    """The local files and folders a drag carries, in its order; [] when it carries anything else too."""
    if mime is None or not mime.hasUrls():
        return []
    urls = mime.urls()
    if not urls or not all(url.isLocalFile() and url.toLocalFile() for url in urls):
        return []
    return [Path(url.toLocalFile()) for url in urls]


class FileDrop(QObject):
    """Accepts drags of local files on the window and opens what is dropped."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, (QDragEnterEvent, QDragMoveEvent))
            if dropped_paths(event.mimeData()):
                event.acceptProposedAction()
            else:
                event.ignore()
            return True
        if kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            paths = dropped_paths(event.mimeData())
            if not paths:
                event.ignore()
                return True
            event.acceptProposedAction()
            self.open(paths)
            return True
        return False

    def open(self, paths: list[Path]) -> None:
        """Open the dropped paths; a path that has gone since the drag started is named, not opened."""
        missing = [p for p in paths if not p.exists()]
        if missing:
            self.window.show_error(f"{', '.join(str(p) for p in missing)} no longer exists, so it was not opened.")
        self.window.opening.open_paths([p for p in paths if p.exists()])
