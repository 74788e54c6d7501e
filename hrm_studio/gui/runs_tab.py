"""The Runs tab: recent run folders, newest first, each one a double-click from reopening.

It reads only the small files of each run (config, status, the metrics lines), so a
long list stays quick; the full run library with comparison grows from here.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterable

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QHBoxLayout, QHeaderView, QPushButton, QStackedWidget, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from hrm_studio.gui.empty_state import EmptyState
from hrm_studio.runs.discovery import RunInfo, read_run

MAX_RUNS = 50
COLUMNS = ("Run", "Task", "State", "Epochs", "Best held-out exact", "Last change")


def scan_runs(root: Path, extra: Iterable[Path] = ()) -> list[RunInfo]:
    """Run folders under `root` plus `extra` ones, newest first."""
    candidates: dict[Path, None] = {}
    if root.is_dir():
        try:
            for child in root.iterdir():
                if (child / "config.json").exists():
                    candidates[child.resolve()] = None
        except OSError:
            pass
    for path in extra:
        if (Path(path) / "config.json").exists():
            candidates[Path(path).resolve()] = None
    summaries = [s for s in (read_run(p) for p in candidates) if s is not None]
    summaries.sort(key=lambda s: s.modified, reverse=True)
    return summaries[:MAX_RUNS]


class RunsTab(QWidget):
    """Lists runs; `open_requested(path)` when the user opens one."""

    open_requested = Signal(Path)

    def __init__(self, root: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root = root
        self._extra: list[Path] = []
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSortingEnabled(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.itemDoubleClicked.connect(lambda item, _: self._open(item))
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.empty = EmptyState("No runs yet", "Press Start to train one; every run you train or open is "
                                "listed here, and a double-click opens it again.")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.tree)
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Open the selected run: its settings, curves and checkpoint.")
        self.open_button.clicked.connect(lambda: self._open(self.tree.currentItem()))
        self.folder_button = QPushButton("Show folder")
        self.folder_button.setToolTip("Show the run's folder in the file manager.")
        self.folder_button.clicked.connect(self._show_folder)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.folder_button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack, 1)
        layout.addLayout(buttons)
        self.refresh()

    def set_extra(self, paths: Iterable[Path]) -> None:
        """Run folders outside the default folder that should be listed too (recent ones)."""
        self._extra = [Path(p) for p in paths]

    def refresh(self) -> None:
        self.tree.clear()
        for s in scan_runs(self.root, self._extra):
            total = f"{s.epochs_done}/{s.epochs}" if s.epochs else str(s.epochs_done)
            best = "–" if s.best_exact is None else f"{100 * s.best_exact:.1f} %"
            item = QTreeWidgetItem([s.path.name, s.task, (s.reason or s.status).replace("_", " "), total, best,
                                    time.strftime("%Y-%m-%d %H:%M", time.localtime(s.modified))])
            item.setData(0, Qt.ItemDataRole.UserRole, str(s.path))
            item.setToolTip(0, str(s.path))
            self.tree.addTopLevelItem(item)
        for column in range(1, len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        self.stack.setCurrentWidget(self.tree if self.tree.topLevelItemCount() else self.empty)
        self._selection_changed()

    def paths(self) -> list[Path]:
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [Path(item.data(0, Qt.ItemDataRole.UserRole)) for item in items]

    def _selection_changed(self) -> None:
        has = self.tree.currentItem() is not None
        self.open_button.setEnabled(has)
        self.folder_button.setEnabled(has)

    def _open(self, item: QTreeWidgetItem | None) -> None:
        if item is not None:
            self.open_requested.emit(Path(item.data(0, Qt.ItemDataRole.UserRole)))

    def _show_folder(self) -> None:
        item = self.tree.currentItem()
        if item is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(item.data(0, Qt.ItemDataRole.UserRole)))
