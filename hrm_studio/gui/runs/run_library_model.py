"""The run library as a Qt table model, and the proxy that sorts and filters it.

Why a model and not a QTreeWidget: the library is re-scanned every few seconds, and a
model can keep the selection and sort order while rows change underneath; sorting uses
the numbers (epochs, seconds, Unix times), not the text shown.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QFont

from hrm_studio.runs.discovery import RunInfo
from hrm_studio.runstore.keys import RunState

COLUMNS = ("Run", "Task", "Status", "Epochs", "Best held-out exact", "Wall time", "Created", "Architecture")
STATUS_FILTERS = ("all", *(str(state) for state in RunState))
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
PATH_ROLE = Qt.ItemDataRole.UserRole + 2

Index = QModelIndex | QPersistentModelIndex


def status_text(run: RunInfo) -> str:
    """"finished", "finished (solved)", "stopped", "running" …: the state, with why it ended when that says more."""
    reason = run.reason.replace("_", " ")
    if run.reason and run.reason not in (run.status, "completed"):
        return f"{run.status} ({reason})"
    return run.status


def wall_text(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class RunLibraryModel(QAbstractTableModel):
    """One row per RunInfo."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._runs: list[RunInfo] = []
        self._paused: Path | None = None   # the window's own run, paused: its folder still says "running"

    # ----- contents ------------------------------------------------------------------------------
    def set_runs(self, runs: list[RunInfo]) -> bool:
        """Replace the rows; False (and nothing redrawn) when nothing changed."""
        if runs == self._runs:
            return False
        self.beginResetModel()
        self._runs = list(runs)
        self.endResetModel()
        return True

    def runs(self) -> list[RunInfo]:
        return list(self._runs)

    def set_paused(self, path: Path | None) -> None:
        """The run folder this window's paused run writes (None: no run of ours is paused)."""
        path = Path(path).resolve() if path is not None else None
        if path != self._paused:
            self._paused = path
            if self._runs:
                self.dataChanged.emit(self.index(0, 2), self.index(len(self._runs) - 1, 2))

    def status(self, run: RunInfo) -> str:
        """What the Status column says: "paused" for our paused run, else the folder's own state."""
        if self._paused is not None and run.status == RunState.RUNNING and run.path.resolve() == self._paused:
            return "paused"
        return status_text(run)

    def run(self, row: int) -> RunInfo:
        return self._runs[row]

    # ----- QAbstractTableModel ---------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else len(self._runs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt name)
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        run, column = self._runs[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.status(run) if column == 2 else self._text(run, column)
        if role == SORT_ROLE:
            return self._sort_key(run, column)
        if role == PATH_ROLE:
            return str(run.path)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 2 and run.message:
                return run.message
            if column == 2 and self.status(run) == "paused":
                return "Paused in this window: Run → Resume (F6) goes on."
            if column == 2 and run.status == RunState.RUNNING and run.pid:
                return f"Training now (process {run.pid})."
            if column == 2 and run.status == RunState.INTERRUPTED:
                return "Its process ended without finishing; open it to continue from its last whole epoch."
            return str(run.path)
        if role == Qt.ItemDataRole.FontRole and column == 2 and run.status == RunState.RUNNING:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (3, 4, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(run: RunInfo, column: int) -> str:
        if column == 0:
            return run.name
        if column == 1:
            return run.task
        if column == 2:
            return status_text(run)
        if column == 3:
            return f"{run.epochs_done}/{run.epochs}" if run.epochs else str(run.epochs_done)
        if column == 4:
            return "–" if run.best_exact is None else f"{100 * run.best_exact:.1f} %"
        if column == 5:
            return wall_text(run.wall_seconds)
        if column == 6:
            return "–" if run.created is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(run.created))
        if column == 7:
            return run.arch.upper()
        return ""

    @staticmethod
    def _sort_key(run: RunInfo, column: int) -> Any:
        # Missing numbers sort below every real one.
        return (run.name.lower(), run.task.lower(), status_text(run), run.epochs_done,
                -1.0 if run.best_exact is None else run.best_exact,
                -1.0 if run.wall_seconds is None else run.wall_seconds,
                run.created or run.modified, run.arch)[column]


class RunFilterProxy(QSortFilterProxyModel):
    """Sorts by the numbers behind a column; keeps rows matching the text and the status."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._text = ""
        self._status = "all"

    def set_text(self, text: str) -> None:
        self._change(lambda: setattr(self, "_text", text.strip().lower()))

    def set_status(self, status: str) -> None:
        if status not in STATUS_FILTERS:
            raise ValueError(f"status filter must be one of {', '.join(STATUS_FILTERS)}")
        self._change(lambda: setattr(self, "_status", status))

    def _change(self, apply: Callable[[], None]) -> None:
        if hasattr(self, "beginFilterChange"):      # Qt ≥ 6.9; invalidateFilter() is deprecated there
            self.beginFilterChange()
            apply()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            apply()
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:  # noqa: N802 (Qt name)
        model = self.sourceModel()
        if not isinstance(model, RunLibraryModel) or row >= model.rowCount():
            return True
        run = model.run(row)
        if self._status != "all" and run.status != self._status:
            return False
        return not self._text or self._text in run.name.lower() or self._text in run.task.lower()

    def path(self, row: int) -> Path:
        return Path(self.data(self.index(row, 0), PATH_ROLE))
