"""The live results table of a sweep: one row per run, the best one highlighted.

It only listens: `on_event` takes the core's sweep events (on the GUI thread) and redraws
the rows they name. The running row also follows its run's epochs, so a long run shows
its best held-out exact so far instead of a blank until it ends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QFont
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from hrm_studio.costs import format_duration
from hrm_studio.events import EpochEnd
from hrm_studio.runstore.keys import HistoryKey
from hrm_studio.runstore.run_dir import RunDir
from hrm_studio.training.sweep import (FAILED, FINISHED, PENDING, RUNNING, SKIPPED, RowChanged, RunEvent, SweepEnded,
                                       SweepRow, SweepStarted, best_row, format_value)
from hrm_studio.gui.widgets.words import count

RESULT_COLUMNS = ("Status", "Best held-out exact", "Epochs to solve", "Epochs", "Wall time")
STATUS_WORDS = {"pending": "waiting", "running": "training…", "finished": "finished", "stopped": "stopped",
                "failed": "failed", "skipped": "skipped"}


class SweepResultsPanel(QWidget):
    """Rows of a sweep; `cancel_requested` when Cancel is pressed, `open_run(path)` on a double-click."""

    cancel_requested = Signal()
    open_run = Signal(Path)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sweep_dir: Path | None = None
        self._names: list[str] = []
        self._rows: list[SweepRow] = []
        self._goals: dict[int, float] = {}
        self._estimate: float | None = None
        self._running = False
        self._cancelled = False
        self.title = QLabel("No sweep yet: Run → New sweep… trains many runs that differ in a few settings.")
        self.title.setWordWrap(True)
        self.progress = QLabel("")
        self.progress.setObjectName("hint")
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.cellDoubleClicked.connect(lambda row, _: self._open(row))
        self.table.setMinimumSize(160, 48)   # a short dock under the tabs still fits a 640 px tall screen
        self.cancel_button = QPushButton("Cancel sweep")
        self.cancel_button.setToolTip("Stop the run in progress (it keeps what it learned so far) and skip the "
                                      "runs still waiting. Finished runs stay.")
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.cancel_button.setEnabled(False)
        self.folder_button = QPushButton("Open folder")
        self.folder_button.setToolTip("Show the sweep folder: its runs, sweep.json and sweep.csv.")
        self.folder_button.clicked.connect(self._open_folder)
        self.folder_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.folder_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    # ----- what tests and the window read --------------------------------------------------
    @property
    def running(self) -> bool:
        return self._running

    def rows(self) -> list[SweepRow]:
        return list(self._rows)

    def headers(self) -> list[str]:
        return ["#", *self._names, *RESULT_COLUMNS]

    def cell(self, row: int, column: str) -> str:
        item = self.table.item(row, self.headers().index(column))
        return item.text() if item is not None else ""

    def best_index(self) -> int | None:
        """Table row of the highlighted best run, or None."""
        best = best_row(self._rows)
        return None if best is None else self._rows.index(best)

    # ----- events ----------------------------------------------------------------------------
    def on_event(self, event: Any) -> None:
        if isinstance(event, SweepStarted):
            self._begin(event)
        elif isinstance(event, RowChanged):
            self._set_row(event.row)
        elif isinstance(event, RunEvent) and isinstance(event.event, EpochEnd):
            self._epoch(event.index, event.event)
        elif isinstance(event, SweepEnded):
            for row in event.rows:
                self._set_row(row)
            self._cancelled = event.stopped
            self.set_running(False)

    def set_running(self, running: bool, *, stopping: bool = False) -> None:
        self._running = running
        self.cancel_button.setEnabled(running and not stopping)
        self.cancel_button.setText("Cancelling…" if stopping else "Cancel sweep")
        self._show_progress()

    def show_failure(self, message: str) -> None:
        self.set_running(False)
        self.progress.setText(message.splitlines()[0])

    def _begin(self, event: SweepStarted) -> None:
        self.sweep_dir = Path(event.sweep_dir)
        self._names = list(event.names)
        self._rows = list(event.rows)
        self._estimate = event.estimate_seconds
        self.title.setText(f"Sweep <b>{self.sweep_dir.name}</b>: {count(len(self._rows), 'run')}, one at a time. "
                           f"Double-click a run to open it.")
        self.table.clear()
        self.table.setColumnCount(len(self.headers()))
        self.table.setHorizontalHeaderLabels(self.headers())
        self.table.setRowCount(len(self._rows))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        for position, row in enumerate(self._rows):
            self._draw(position, row)
        self.folder_button.setEnabled(True)
        self._cancelled = False
        self.set_running(True)

    def _position(self, index: int) -> int | None:
        for position, row in enumerate(self._rows):
            if row.index == index:
                return position
        return None

    def _set_row(self, row: SweepRow) -> None:
        position = self._position(row.index)
        if position is None:
            return
        self._rows[position] = row
        self._draw(position, row)
        self._highlight_best()
        self._show_progress()

    def _epoch(self, index: int, event: EpochEnd) -> None:
        """The running row follows its run: epochs so far and the best held-out exact so far."""
        position = self._position(index)
        if position is None:
            return
        row = self._rows[position]
        exact = event.metrics.get(HistoryKey.VAL_EXACT)
        row.epochs_done = event.epoch
        if exact is not None:
            row.best_exact = exact if row.best_exact is None else max(row.best_exact, exact)
            if row.epochs_to_solve is None and exact >= row.solve_at:
                row.epochs_to_solve = event.epoch
        self._draw(position, row)
        self._highlight_best()
        self._show_progress()

    # ----- drawing ---------------------------------------------------------------------------
    def _draw(self, position: int, row: SweepRow) -> None:
        status = STATUS_WORDS.get(row.status, row.status)
        if row.status == RUNNING and row.epochs_done:
            status = f"training… epoch {row.epochs_done}"
        cells = [str(row.index), *(format_value(row.values[n]) for n in self._names), status,
                 "–" if row.best_exact is None else f"{100 * row.best_exact:.1f}%",
                 "–" if row.epochs_to_solve is None else str(row.epochs_to_solve),
                 "–" if row.status == SKIPPED else str(row.epochs_done) if row.status != PENDING else "",
                 format_duration(row.wall_seconds) if row.wall_seconds is not None else
                 (f"≈ {format_duration(row.estimate_seconds)}" if row.status == PENDING and row.estimate_seconds
                  else "–" if row.status == SKIPPED else "")]
        for column, text in enumerate(cells):
            item = self.table.item(position, column)
            if item is None:
                item = QTableWidgetItem()
                self.table.setItem(position, column, item)
            item.setText(text)
            numeric = column == 0 or column > len(self._names)
            item.setTextAlignment(Qt.AlignmentFlag.AlignVCenter |
                                  (Qt.AlignmentFlag.AlignRight if numeric and column != len(self._names) + 1
                                   else Qt.AlignmentFlag.AlignLeft))
        tip = row.error if row.status == FAILED and row.error else \
            (str(self.sweep_dir / row.run_dir) if self.sweep_dir is not None else "")
        for column in range(len(cells)):
            self.table.item(position, column).setToolTip(tip)

    def _highlight_best(self) -> None:
        best = self.best_index()
        colour = QColor(self.palette().highlight().color())
        colour.setAlpha(60)
        for position in range(self.table.rowCount()):
            for column in range(self.table.columnCount()):
                item = self.table.item(position, column)
                if item is None:
                    continue
                font = QFont(item.font())
                font.setBold(position == best)
                item.setFont(font)
                item.setBackground(QBrush(colour) if position == best else QBrush())

    def _show_progress(self) -> None:
        rows = self._rows
        if not rows:
            return
        done = [r for r in rows if r.status not in (PENDING, RUNNING)]
        best = best_row(rows)
        if best is not None:
            best_text = (f"best{' so far' if self._running else ''}: run {best.index} "
                         f"({100 * best.best_exact:.1f}% held-out exact)")
        else:
            best_text = "no held-out puzzle solved yet" if self._running else \
                "no run scored above 0 % — nothing to mark"
        if self._running:
            left = [r.estimate_seconds for r in rows if r.status in (PENDING, RUNNING)]
            remaining = sum(e for e in left if e is not None) * _observed_scale(rows) if None not in left else None
            time_left = f"about {format_duration(remaining)} left" if remaining is not None else "time left not known"
            self.progress.setText(f"{len(done)} of {count(len(rows), 'run')} done · {time_left} · {best_text}")
        else:
            ended = "cancelled" if self._cancelled else "done"
            self.progress.setText(f"Sweep {ended}: {len(done)} of {count(len(rows), 'run')} · {best_text} · "
                                  f"summary in sweep.json and sweep.csv")

    def _open(self, position: int) -> None:
        if self.sweep_dir is None or not 0 <= position < len(self._rows):
            return
        path = self.sweep_dir / self._rows[position].run_dir
        if RunDir.holds_run(path):
            self.open_run.emit(path)

    def _open_folder(self) -> None:
        if self.sweep_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.sweep_dir)))


def _observed_scale(rows: list[SweepRow]) -> float:
    """How much slower (or faster) than estimated the finished runs were: the estimate is a
    model, the finished runs are a measurement on this machine."""
    pairs = [(r.wall_seconds, r.estimate_seconds) for r in rows
             if r.status == FINISHED and r.wall_seconds and r.estimate_seconds]
    if not pairs:
        return 1.0
    return sum(w for w, _ in pairs) / sum(e for _, e in pairs)
