"""The Runs tab: the library of every run, and the comparison of the ones selected.

The library lists every run folder under the runs folder, every folder added with
*Add folder…* (remembered between sessions) and recently opened run folders. It follows
the disk by itself: a QFileSystemWatcher on those folders notices runs appearing, going
or being renamed at once, and a cheap timer re-scan (only while the tab is visible)
picks up what a watcher cannot see — a headless run's new epochs, or its process ending.
Scans read only small files, skip runs that have not changed (runs/library.py) and run
on a worker thread, so a long library never stalls the window.

Every command that needs an answer from the person (a name, a yes, a folder) asks a
replaceable callable first and then calls a method taking the answer, so tests and
scripts drive the tab without a modal dialog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from PySide6.QtCore import QFileSystemWatcher, QItemSelectionModel, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFileDialog, QHBoxLayout, QHeaderView,
                               QInputDialog, QLabel, QLineEdit, QPushButton, QStackedWidget, QTableView,
                               QVBoxLayout, QWidget)

from hrm_studio.errors import UserError
from hrm_studio.gui.widgets.background import JobError, JobRunner
from hrm_studio.gui.runs.compare_view import CompareView
from hrm_studio.gui.widgets.empty_state import EmptyState
from hrm_studio.gui.widgets.flow_layout import flow_row
from hrm_studio.gui.runs.run_library_model import STATUS_FILTERS, RunFilterProxy, RunLibraryModel
from hrm_studio.gui.shell.user_state import UserState
from hrm_studio.runs.compare import ComparedRun, load_runs
from hrm_studio.runs.discovery import RunInfo
from hrm_studio.runstore.keys import RunState
from hrm_studio.gui.runs.trash import move_to_trash
from hrm_studio.runs.library import LibraryScan, deletion_question, rename_run, scan_library, trash_run
from hrm_studio.gui.widgets.words import count

POLL_MS = 2000          # re-scan while visible: new epochs and ended processes change no folder listing
WATCH_DELAY_MS = 250    # a burst of file events (a run folder being created) becomes one scan


class RunsTab(QWidget):
    """The run library and the comparison. `open_requested(path)` when the person opens a run."""

    open_requested = Signal(Path)
    renamed = Signal(Path, Path)        # old, new
    deleted = Signal(Path)
    error = Signal(str)
    message = Signal(str)
    scanned = Signal()                  # the table shows a fresh scan
    compare_shown = Signal()
    compare_saved = Signal(object)      # list[Path]: files the comparison's exports wrote

    def __init__(self, root: Path, state: UserState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root = Path(root)
        self.state = state
        self._recent: list[Path] = []
        self._cache: dict = {}
        self._generation = 0
        self._scanning = False
        self._dirty = False
        self.jobs = JobRunner(self)
        # Replaceable questions (tests and scripts set them; the defaults open a dialog).
        self.confirm: Callable[[str, str], bool] = lambda title, text: False
        self.ask_name: Callable[[str], str | None] = self._ask_name
        self.ask_folder: Callable[[], Path | None] = self._ask_folder
        self.smoothing: Callable[[], float | None] = lambda: None

        self.model = RunLibraryModel(self)
        self.proxy = RunFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self._build_table()
        filters = self._build_filters()
        buttons = self._build_buttons()
        library = self._build_library_page(filters, buttons)
        self._build_pages(library)
        self._build_watchers()
        self.refresh()

    # ======================================================================================
    # Layout
    # ======================================================================================
    def _build_table(self) -> None:
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(6, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        # One line per row: wrapped at its hyphens, a run name showed as "copy-…" in a 24-px row.
        # Names end in their start time (copy-increment-20261208-043756), so a narrow column keeps
        # both ends and runs of one task still tell apart.
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        self.table.doubleClicked.connect(lambda index: self.open_run(self.proxy.path(index.row())))
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

    def _build_filters(self) -> QHBoxLayout:
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by name or task")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._filter_changed)
        self.status_box = QComboBox()
        for status in STATUS_FILTERS:
            self.status_box.addItem("Any status" if status == "all" else status.capitalize(), status)
        self.status_box.setToolTip("Show only the runs in this state.")
        self.status_box.currentIndexChanged.connect(lambda _: self._filter_changed())
        self.count_label = QLabel()
        self.count_label.setObjectName("hint")
        filters = QHBoxLayout()
        filters.addWidget(self.filter_edit, 2)
        filters.addWidget(self.status_box)
        filters.addStretch(1)
        filters.addWidget(self.count_label)
        return filters

    @staticmethod
    def _command_button(text: str, tip: str, slot: Callable[[], object]) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.clicked.connect(lambda: slot())
        return b

    def _build_buttons(self) -> QWidget:
        button = self._command_button
        self.open_button = button("Open", "Open the selected run in the Metrics and Predictions tabs: its "
                                  "settings, curves and model (double-click does the same).", self._open_selected)
        self.compare_button = button("Compare", "Overlay the selected runs' curves and put their results and "
                                     "settings side by side (select two or more with Ctrl or Shift).",
                                     self._compare_selected)
        self.rename_button = button("Rename…", "Rename the selected run's folder.", self._prompt_rename)
        self.delete_button = button("Delete…", "Move the selected runs' folders to the trash (asks first).",
                                    self._prompt_delete)
        self.folder_button = button("Show folder", "Show the run's folder in the file manager.",
                                    self._show_folder)
        self.add_button = button("Add folder…", "List the runs in another folder too (a run folder, or a folder "
                                 "of runs such as a sweep); remembered for next time.", self._prompt_add_folder)
        self.refresh_button = button("Refresh", "Read the runs folders again now.", self.refresh)
        # A flow row: on a narrow window the buttons wrap onto a second line instead of widening it.
        return flow_row(self.open_button, self.compare_button, self.rename_button, self.delete_button,
                        self.folder_button, right=(self.add_button, self.refresh_button))

    def _build_library_page(self, filters: QHBoxLayout, buttons: QWidget) -> QWidget:
        self.empty = EmptyState("No runs yet", "Press Start to train one. Every run you train here or with "
                                "`hrm-studio train` in the runs folder is listed, and so are folders you add "
                                "with Add folder….")
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.empty)
        self.list_stack.addWidget(self.table)
        library = QWidget()
        library_layout = QVBoxLayout(library)
        library_layout.setContentsMargins(0, 0, 0, 0)
        library_layout.addLayout(filters)
        library_layout.addWidget(self.list_stack, 1)
        library_layout.addWidget(buttons)
        self.library_page = library
        return library

    def _build_pages(self, library: QWidget) -> None:
        self._compare_view: CompareView | None = None   # built when first shown: see compare_view
        self.pages = QStackedWidget()
        self.pages.addWidget(library)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.pages)

    def _build_watchers(self) -> None:
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(lambda _: self._watch_timer.start())
        self._watch_timer = QTimer(self)
        self._watch_timer.setSingleShot(True)
        self._watch_timer.setInterval(WATCH_DELAY_MS)
        self._watch_timer.timeout.connect(self.scan_soon)
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(POLL_MS)
        self.poll_timer.timeout.connect(self.scan_soon)
        self.poll_timer.start()

    # ======================================================================================
    # Which folders
    # ======================================================================================
    def set_extra(self, paths: Iterable[Path]) -> None:
        """Recently opened run folders, listed even when they are outside the runs folder."""
        self._recent = [Path(p) for p in paths]

    def added_folders(self) -> list[Path]:
        return [Path(p) for p in self.state.library_folders()] if self.state is not None else []

    def add_folder(self, path: str | Path) -> None:
        """List a run folder, or the runs in a folder, from now on (and next time)."""
        path = Path(path)
        if not path.is_dir():
            self.error.emit(f"{path} is not a folder; choose a run folder or a folder of runs.")
            return
        if self.state is not None:
            self.state.add_library_folder(path)
        else:
            self._recent.append(path)
        self.refresh()
        self.message.emit(f"Listing the runs in {path} too.")

    def _extra(self) -> list[Path]:
        return self.added_folders() + self._recent

    def _watch(self) -> None:
        wanted = {str(p) for p in [self.root, *self.added_folders()] if p.is_dir()}
        watched = set(self.watcher.directories())
        if wanted - watched:
            self.watcher.addPaths(sorted(wanted - watched))
        if watched - wanted:
            self.watcher.removePaths(sorted(watched - wanted))

    # ======================================================================================
    # Scanning
    # ======================================================================================
    def refresh(self) -> None:
        """Scan now, on this thread (the Refresh button, and after a change made here)."""
        self._generation += 1
        self._apply(self._generation, scan_library(self.root, self._extra(), self._cache))

    def scan_soon(self) -> None:
        """Scan on a worker thread, unless one is running or nobody can see the list."""
        if not self.isVisible() or self.pages.currentWidget() is not self.library_page:
            self._dirty = True
            return
        if self._scanning:
            return
        self._scanning = True
        generation = self._generation
        root, extra, cache = self.root, self._extra(), dict(self._cache)
        self.jobs.submit(lambda: scan_library(root, extra, cache),
                         lambda scan: self._scanned(generation, scan), self._scan_failed)

    def _scanned(self, generation: int, scan: LibraryScan) -> None:
        self._scanning = False
        if generation == self._generation:     # a scan made on this thread since is newer: keep it
            self._apply(generation, scan)

    def _scan_failed(self, error: JobError) -> None:
        self._scanning = False
        self.error.emit(f"The runs folder could not be read: {error.message}")

    def _apply(self, generation: int, scan: LibraryScan) -> None:
        self._cache = scan.cache
        self._dirty = False
        self._watch()
        selected = set(self.selected_paths())
        current = self._current_path()
        if self.model.set_runs(scan.runs):
            self._select(selected, current)
        self.list_stack.setCurrentWidget(self.table if scan.runs else self.empty)
        self._update_count()
        self._update_buttons()
        self.scanned.emit()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._dirty:
            QTimer.singleShot(0, self.scan_soon)

    def shutdown(self) -> None:
        """Stop watching and wait for a scan in flight (the window is closing)."""
        self.poll_timer.stop()
        self._watch_timer.stop()
        self.jobs.shutdown()
        if self._compare_view is not None:
            self._compare_view.dashboard.flush()

    # ======================================================================================
    # The table
    # ======================================================================================
    def runs(self) -> list[RunInfo]:
        """Every run in the library (filtered or not), newest first."""
        return self.model.runs()

    def shown_runs(self) -> list[RunInfo]:
        """The rows as shown: filtered and sorted."""
        by_path = {str(r.path): r for r in self.model.runs()}
        return [by_path[str(self.proxy.path(row))] for row in range(self.proxy.rowCount())]

    def paths(self) -> list[Path]:
        return [r.path for r in self.shown_runs()]

    def info(self, path: str | Path) -> RunInfo | None:
        path = Path(path).resolve()
        return next((r for r in self.model.runs() if r.path.resolve() == path), None)

    def selected_paths(self) -> list[Path]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.proxy.path(row) for row in rows]

    def _current_path(self) -> Path | None:
        index = self.table.currentIndex()
        return self.proxy.path(index.row()) if index.isValid() else None

    def select(self, paths: Iterable[str | Path]) -> None:
        """Select these runs in the table (the others are deselected)."""
        wanted = {Path(p).resolve() for p in paths}
        self._select(wanted, next(iter(wanted), None))

    def _select(self, paths: set[Path], current: Path | None) -> None:
        selection = self.table.selectionModel()
        selection.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        wanted = {p.resolve() for p in paths}
        for row in range(self.proxy.rowCount()):
            path = self.proxy.path(row)
            if path.resolve() in wanted:
                index = self.proxy.index(row, 0)
                selection.select(index, flags)
                if current is not None and path.resolve() == Path(current).resolve():
                    selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
        self._update_buttons()

    def set_filter(self, text: str = "", status: str = "all") -> None:
        self.filter_edit.setText(text)
        self.status_box.setCurrentIndex(self.status_box.findData(status))
        self._filter_changed()

    def _filter_changed(self) -> None:
        self.proxy.set_text(self.filter_edit.text())
        self.proxy.set_status(self.status_box.currentData() or "all")
        self._update_count()
        self._update_buttons()

    def _update_count(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        self.count_label.setText(count(total, "run") if shown == total else f"{shown} of {count(total, 'run')}")

    def _update_buttons(self) -> None:
        selected = self.selected_paths()
        one = len(selected) == 1
        self.open_button.setEnabled(one)
        self.compare_button.setEnabled(len(selected) >= 2)
        self.rename_button.setEnabled(one)
        self.delete_button.setEnabled(bool(selected))
        self.folder_button.setEnabled(one)

    # ======================================================================================
    # Commands
    # ======================================================================================
    def open_run(self, path: str | Path) -> None:
        self.open_requested.emit(Path(path))

    def _open_selected(self) -> None:
        selected = self.selected_paths()
        if len(selected) == 1:
            self.open_run(selected[0])

    def rename(self, path: str | Path, new_name: str) -> Path | None:
        """Rename a run's folder; None (and a plain error) when it cannot be."""
        path = Path(path)
        try:
            new = rename_run(path, new_name)
        except UserError as exc:
            self.error.emit(str(exc))
            return None
        if new != path:
            if self.state is not None:
                self.state.rename_library_folder(path, new)
                if path.resolve().parent != self.root.resolve() and not self._listed_by_parent(new):
                    self.state.add_library_folder(new)     # keep listing a run kept outside the runs folder
            self._recent = [new if p == path else p for p in self._recent]
            self.refresh()
            self.select([new])
            self.renamed.emit(path, new)
            self.message.emit(f"Renamed {path.name} to {new.name}.")
        return new

    def _listed_by_parent(self, path: Path) -> bool:
        parents = {p.resolve() for p in self.added_folders()}
        return path.resolve().parent in parents

    def delete(self, paths: Iterable[str | Path]) -> list[Path]:
        """Move run folders to the system trash after one confirmation naming each folder and its size;
        returns what went. A folder the trash cannot take stays where it is (nothing is deleted for good)."""
        paths = [Path(p) for p in paths]
        if not paths:
            return []
        running = [p.name for p in paths if (info := self.info(p)) is not None and info.status == RunState.RUNNING]
        if running:
            self.error.emit(f"{', '.join(running)} {'is' if len(running) == 1 else 'are'} still training, so "
                            f"nothing was deleted. Stop the run first (or wait until it finishes), then delete it.")
            return []
        question = deletion_question(paths)
        if not self.confirm("Delete runs" if len(paths) > 1 else "Delete run", question):
            return []
        gone: dict[Path, str] = {}
        for path in paths:
            try:
                gone[path] = trash_run(path, move_to_trash)
            except UserError as exc:
                self.error.emit(str(exc))
                continue
            if self.state is not None:
                self.state.remove_library_folder(path)
        self.refresh()
        for path in gone:
            self.deleted.emit(path)
        if gone:
            where = "; ".join(f"{path.name} → {place}" for path, place in gone.items())
            self.message.emit(f"Moved to the trash (restore from there if needed): {where}.")
        return list(gone)

    def compare(self, paths: Iterable[str | Path]) -> None:
        """Read the runs' settings and histories on a worker thread, then show them side by side."""
        paths = [Path(p) for p in paths]
        if len(paths) < 2:
            self.error.emit("Select two or more runs to compare (Ctrl-click or Shift-click in the list).")
            return
        self.message.emit(f"Reading {count(len(paths), 'run')} to compare…")
        self.jobs.submit(lambda: load_runs(paths), self._show_compare,
                         lambda error: self.error.emit(error.message))

    def _show_compare(self, runs: list[ComparedRun]) -> None:
        self.compare_view.set_runs(runs, self.smoothing())
        self.pages.setCurrentWidget(self.compare_view)
        self.message.emit(f"Comparing {', '.join(r.name for r in runs)}. Esc goes back to the list.")
        self.compare_shown.emit()

    @property
    def compare_view(self) -> CompareView:
        """The comparison page, built on first use: its dashboard of plots took ~0.5 s of every window's
        start on a busy 2-core machine, and most sessions never compare runs."""
        if self._compare_view is None:
            view = CompareView()
            view.back_requested.connect(self.show_library)
            view.error.connect(self.error.emit)
            view.saved.connect(self.compare_saved.emit)
            view.export_plots_button.clicked.connect(self._prompt_export_plots)
            view.export_csv_button.clicked.connect(self._prompt_export_csv)
            self.pages.addWidget(view)
            self._compare_view = view
        return self._compare_view

    @property
    def comparing(self) -> bool:
        return self._compare_view is not None and self.pages.currentWidget() is self._compare_view

    def show_library(self) -> None:
        """Leave the comparison (the Metrics tab never left the open run)."""
        self.pages.setCurrentWidget(self.library_page)
        self.scan_soon()

    def _compare_selected(self) -> None:
        self.compare(self.selected_paths())

    # ----- the questions ---------------------------------------------------------------------------
    def _ask_name(self, current: str) -> str | None:
        text, ok = QInputDialog.getText(self, "Rename run", "New name for the run folder:", QLineEdit.EchoMode.Normal,
                                        current)
        return text if ok else None

    def _ask_folder(self) -> Path | None:
        start = self.root if self.root.is_dir() else Path.home()
        path = QFileDialog.getExistingDirectory(self, "Add a folder of runs", str(start))
        return Path(path) if path else None

    def _prompt_rename(self) -> None:
        selected = self.selected_paths()
        if len(selected) == 1:
            name = self.ask_name(selected[0].name)
            if name is not None:
                self.rename(selected[0], name.strip())

    def _prompt_delete(self) -> None:
        self.delete(self.selected_paths())

    def _prompt_add_folder(self) -> None:
        path = self.ask_folder()
        if path is not None:
            self.add_folder(path)

    def _show_folder(self) -> None:
        selected = self.selected_paths()
        if len(selected) == 1:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(selected[0])))

    def _prompt_export_plots(self) -> None:
        self._export(self.compare_view.export_plots, "runs-compared.png", "Export plots",
                     "PNG image (*.png);;SVG drawing (*.svg)")

    def _prompt_export_csv(self) -> None:
        self._export(self.compare_view.export_csv, "runs-compared.csv", "Export histories",
                     "CSV table (*.csv);;JSON (*.json)")

    def _export(self, write: Callable[[Path], Path], name: str, title: str, filters: str) -> None:
        start = self.root if self.root.is_dir() else Path.home()
        path, chosen = QFileDialog.getSaveFileName(self, title, str(start / name), filters)
        if not path:
            return
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix("." + chosen.split("*.")[-1].rstrip(")"))
            # The dialog asked before replacing the typed name, not the one with its extension added.
            if target.exists() and not self.confirm("Replace file?", f"{target.name} already exists in "
                                                    f"{target.parent}. Replace it?"):
                return
        try:
            write(target)
        except UserError as exc:
            self.error.emit(str(exc))
