"""Every label tells the present state: the Start choice during a new run, the legend before Start, a
paused run in the Runs tab, a sweep where nothing scored, skipped runs, counts, the evaluation progress,
keyboard focus in reading order, and Reset while a red field has focus."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QGraphicsView, QTableView

from hrm_studio.gui.predictions.predictions_tab import PredictionsTab
from hrm_studio.gui.shell.opened_run import OpenedRun
from hrm_studio.gui.shell.run_controller import IDLE, PAUSED
from hrm_studio.gui.sweeps.sweep_results import SweepResultsPanel
from hrm_studio.gui.widgets.words import count
from hrm_studio.training.sweep import FINISHED, SKIPPED, SweepEnded, SweepRow, SweepStarted


def _running_folder(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"data": {"task": "copy-increment"}, "train": {"epochs": 4}}))
    (folder / "metrics.jsonl").write_text('{"epoch": 1, "val_exact_match_accuracy": 0.25}\n')
    (folder / "status.json").write_text(json.dumps({"state": "running", "pid": os.getpid()}))
    return folder


def test_a_paused_run_reads_paused_in_the_runs_tab_and_one_run_is_one_run(qtbot: Any, make_window: Any,
                                                                          tmp_path: Path) -> None:
    folder = _running_folder(tmp_path / "runs", "copy-increment-now")
    window = make_window()
    tab = window.runs_tab
    tab.refresh()
    qtbot.waitUntil(lambda: len(tab.runs()) == 1, timeout=10_000)
    assert tab.count_label.text() == "1 run"
    status = tab.proxy.index(0, 2)
    assert status.data() == "running"
    window.session.run_dir = folder
    window.controller._set_state(PAUSED)   # what Pause does to the window's own run
    try:
        assert tab.proxy.index(0, 2).data() == "paused"
        assert window.windowTitle().startswith("copy-increment-now (paused)") or "(paused)" in window.windowTitle()
    finally:
        window.controller._set_state(IDLE)
    assert tab.proxy.index(0, 2).data() == "running"


def test_counted_words_take_their_number() -> None:
    assert [count(n, "epoch") for n in (0, 1, 2)] == ["0 epochs", "1 epoch", "2 epochs"]
    assert count(1, "cell") == "1 cell" and count(1200, "puzzle") == "1,200 puzzles"
    assert count(3, "file or folder") == "3 files or folders"


def test_the_legend_follows_the_task_before_start(make_window: Any) -> None:
    window = make_window()
    assert window.dashboard.patterns == ["copy", "increment"]
    window.settings.set_value("task", "sudoku-4x4")
    assert window.dashboard.patterns == ["sudoku"]


def test_the_start_choice_says_what_trains_not_the_run_opened_before(make_window: Any, tiny: Any) -> None:
    window = make_window(tiny(epochs=1))
    older = OpenedRun(name="older-run", config=tiny(epochs=8), history=[], patterns=[], source="studio",
                      resumable=True, epoch=8, resume_from=Path("nowhere.pt"))
    window.session.open(older)
    window.start_choice.offer(older)
    choice = window.start_choice
    assert choice.buttons["resume"].text() == "Continue this run (from epoch 8)"
    choice.set_mode("scratch")
    window.settings.set_config(tiny(epochs=1))
    requests: list[Any] = []
    window.controller.start = requests.append   # what Start hands the training thread; no thread here
    assert window.start() and requests
    assert choice.title() == "Training" and "from scratch" in choice.source.text()
    assert "older-run" not in choice.source.text() and not choice.buttons["resume"].isVisible()
    window.lifecycle.on_run_ended(None)   # it ended before training (nothing to offer): the choice comes back
    assert choice.title() == "Start from" and choice.opened is older and choice.buttons["resume"].isVisible()


def _row(index: int, status: str, exact: float | None) -> SweepRow:
    return SweepRow(index=index, values={"lr": 0.001 * index}, run_dir=f"run-{index}", status=status,
                    best_exact=exact, epochs_done=0 if status == SKIPPED else 2,
                    wall_seconds=None if status == SKIPPED else 3.0)


def test_a_sweep_where_no_run_scored_marks_nothing_and_says_so(qtbot: Any, tmp_path: Path) -> None:
    panel = SweepResultsPanel()
    qtbot.addWidget(panel)
    rows = [_row(1, FINISHED, 0.0), _row(2, FINISHED, 0.0), _row(3, SKIPPED, None)]
    panel.on_event(SweepStarted(str(tmp_path / "sweep"), ["lr"], rows, None))
    panel.on_event(SweepEnded(str(tmp_path / "sweep"), True, rows))
    assert panel.best_index() is None
    assert "no run scored above 0 % — nothing to mark" in panel.progress.text()
    assert "3 runs" in panel.progress.text()
    assert [panel.cell(2, c) for c in ("Status", "Epochs", "Wall time")] == ["skipped", "–", "–"]


def test_the_evaluation_progress_starts_plainly_and_its_text_fits(qtbot: Any) -> None:
    tab = PredictionsTab()
    qtbot.addWidget(tab)
    tab.show()
    tab.show_progress(0, 0)
    assert tab.progress.text() == "starting…"
    tab.show_progress(192, 100_000)
    text = tab.progress.text()
    assert text == "192 / 100000 puzzles"
    assert tab.progress.fontMetrics().horizontalAdvance(text) + 16 <= tab.progress.width()


def test_tab_walks_the_window_in_reading_order_and_only_stops_where_focus_shows(qtbot: Any,
                                                                                make_window: Any) -> None:
    window = make_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    visited = [QApplication.focusWidget()]
    for _ in range(90):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        visited.append(QApplication.focusWidget())
    assert None not in visited
    dock = window.settings_dock
    assert dock.isAncestorOf(visited[0]), "after New run the keyboard starts in the settings, top left"
    bar = window.tabs.tabBar()
    assert bar in visited
    first_bar = visited.index(bar)
    assert all(dock.isAncestorOf(w) for w in visited[:first_bar]), "the settings first, then the tabs"
    assert window.dashboard.isAncestorOf(visited[first_bar + 1])
    for widget in visited:   # no stop on a plot or a bare scroll frame, which draw no focus
        assert not isinstance(widget, QGraphicsView), widget
        assert not isinstance(widget, QAbstractScrollArea) or isinstance(widget, QTableView), widget


def test_reset_to_defaults_wins_over_a_red_field_being_typed_in(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    settings = window.settings
    field = settings.editor("hidden_size").input
    field.setFocus()
    field.lineEdit().selectAll()
    QTest.keyClicks(field, "65")   # 65 is not a multiple of the heads: the field turns red
    assert settings.problems() and field.hasFocus()
    QTest.mouseClick(settings.reset_button, Qt.MouseButton.LeftButton)
    assert settings.problems() == {}
    assert settings.config().model.hidden_size == type(settings.config().model)().hidden_size
    assert settings.config().to_dict() == type(settings.config())().to_dict()
