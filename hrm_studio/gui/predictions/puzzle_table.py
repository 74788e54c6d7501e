"""The puzzle browser's table: one row per puzzle, sortable and filterable.

Why a model over numpy columns: a split can hold thousands of puzzles and is replaced
every epoch during training. The model computes each column once per PredictionSet
and answers `data()` by indexing arrays, so sorting 2,000 rows and moving from one
puzzle to the next stay instant.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from hrm_studio.runstore.prediction_set import PredictionSet

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("#", "Pattern", "Token acc", "Exact", "Steps", "Halt conf", "Right from")
TOOLTIPS = (
    "The puzzle's position in its split.",
    "The rule this puzzle follows.",
    "Share of scored cells right after the last reasoning segment.",
    "Every scored cell right after the last segment (the official reading).",
    "Reasoning segments used before the model's Q-head chose to halt.",
    "sigmoid(q_halt) where the model halts: how sure it is that its answer is right.",
    "First segment from which the answer is right and stays right (— if never).",
)
# The widest text each column shows, to size the columns without reading every row.
COLUMN_SAMPLES = ("0000", "increment", "100.0 %", "✓", "16", "0.00", "16")
SORT_ROLE = Qt.ItemDataRole.UserRole
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
RESULTS = ("all", "wrong", "correct")


class PuzzleTableModel(QAbstractTableModel):
    """Columns computed once from a PredictionSet."""

    def __init__(self) -> None:
        super().__init__()
        self.predictions: PredictionSet | None = None
        self._columns: dict[str, np.ndarray] = {}
        self._rows = 0

    def set_predictions(self, ps: PredictionSet | None) -> None:
        self.beginResetModel()
        self.predictions = ps
        self._rows = 0 if ps is None else len(ps)
        if ps is None:
            self._columns = {}
        else:
            self._columns = {
                "index": np.asarray(ps.indices),
                "pattern": np.asarray(ps.puzzles.patterns).astype(str),
                "token": ps.token_accuracy(),
                "exact": ps.exact(),
                "steps": np.asarray(ps.predictions.halt_step, np.int64),
                "halt": ps.halt_confidence(),
                "from": ps.correct_from(),
            }
        self.endResetModel()

    def column(self, name: str) -> np.ndarray:
        return self._columns[name]

    # ----- Qt model API ---------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt API)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 (Qt API)
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return TOOLTIPS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.predictions is None:
            return None
        row, col = index.row(), index.column()
        c = self._columns
        if role == ROW_ROLE:
            return row
        if role == SORT_ROLE:
            return (int(c["index"][row]), str(c["pattern"][row]), float(c["token"][row]), int(c["exact"][row]),
                    int(c["steps"][row]), float(c["halt"][row]), int(c["from"][row]) or 10**6)[col]
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return str(int(c["index"][row]))
            if col == 1:
                return str(c["pattern"][row])
            if col == 2:
                return f"{100 * float(c['token'][row]):.1f} %"
            if col == 3:
                return "✓" if c["exact"][row] else "✗"
            if col == 4:
                return str(int(c["steps"][row]))
            if col == 5:
                return f"{float(c['halt'][row]):.2f}"
            k = int(c["from"][row])
            return str(k) if k else "—"
        if role == Qt.ItemDataRole.ForegroundRole and col == 3:
            from PySide6.QtGui import QColor

            return QColor("#2e9e44") if c["exact"][row] else QColor("#e0364b")
        if role == Qt.ItemDataRole.TextAlignmentRole and col != 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class PuzzleFilter(QSortFilterProxyModel):
    """Pattern and right/wrong filters over PuzzleTableModel, sorting by real numbers."""

    def __init__(self) -> None:
        super().__init__()
        self.pattern = ""
        self.result = "all"
        self.setSortRole(SORT_ROLE)

    def set_pattern(self, pattern: str) -> None:
        self._refilter(lambda: setattr(self, "pattern", pattern))

    def set_result(self, result: str) -> None:
        if result not in RESULTS:
            raise ValueError(f"result filter must be one of {RESULTS}")
        self._refilter(lambda: setattr(self, "result", result))

    def _refilter(self, change: Callable[[], None]) -> None:
        """Qt ≥ 6.9 wants the change bracketed; older versions only know invalidateFilter."""
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            change()
            self.endFilterChange()
        else:
            change()
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:  # noqa: N802 (Qt API)
        model = self.sourceModel()
        assert isinstance(model, PuzzleTableModel)
        if model.predictions is None:
            return False
        if self.pattern and model.column("pattern")[source_row] != self.pattern:
            return False
        if self.result != "all" and bool(model.column("exact")[source_row]) != (self.result == "correct"):
            return False
        return True

    def lessThan(self, left: Index, right: Index) -> bool:  # noqa: N802 (Qt API)
        return left.data(SORT_ROLE) < right.data(SORT_ROLE)

    def source_rows(self) -> list[int]:
        """Source rows in the order shown: what the browser lists right now."""
        return [self.mapToSource(self.index(r, 0)).row() for r in range(self.rowCount())]
