"""The window on a small screen: with every tab filled it still fits 1024×640, and a 30×30 grid is
shown whole at 1280×720, zooms and pans from there, and Fit brings it back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent

from hrm_studio.gui.shell.window_layout import TABS
from hrm_studio.runstore.keys import HistoryKey
from tests.gui.predictions.square_sets import square_prediction_set

SMALL = (1024, 640)


def _fake_run(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"data": {"task": "maze"}, "train": {"epochs": 2}}))
    (folder / "metrics.jsonl").write_text('{"epoch": 1, "val_exact_match_accuracy": 0.25}\n')
    (folder / "status.json").write_text(json.dumps({"state": "finished"}))
    return folder


def _history(epochs: int = 3) -> list[dict[str, Any]]:
    return [{HistoryKey.EPOCH: e, HistoryKey.LOSS: 1.0 / e, HistoryKey.VAL_EXACT: 0.1 * e,
             HistoryKey.VAL_TOKEN_ACCURACY: 0.3 * e, "val_maze_exact_match_accuracy": 0.1 * e}
            for e in range(1, epochs + 1)]


def test_every_tab_filled_fits_a_1024x640_screen(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    _fake_run(tmp_path / "runs", "maze-30x30-run")
    window = make_window()
    window.dashboard.set_history(_history(), ["maze"])
    window.show_tab("predictions")
    window.predictions.set_predictions(square_prediction_set(30))
    window.runs_tab.refresh()
    qtbot.waitUntil(lambda: len(window.runs_tab.runs()) == 1, timeout=10_000)
    window.sweep_dock.show()
    for tab in TABS:
        window.show_tab(tab)
        qtbot.wait(0)   # let the shown tab lay itself out
        least = window.minimumSizeHint().expandedTo(window.minimumSize())
        assert least.width() <= SMALL[0] and least.height() <= SMALL[1], (tab, least)
        window.resize(*SMALL)
        qtbot.waitUntil(lambda: window.size().toTuple() == SMALL, timeout=5000)


def test_a_30x30_grid_is_whole_at_1280x720_then_zooms_pans_and_fits_again(qtbot: Any, make_window: Any) -> None:
    window = make_window()
    window.resize(1280, 720)
    window.show_tab("predictions")
    tab = window.predictions
    tab.set_predictions(square_prediction_set(30))
    area = tab.grid_area
    qtbot.waitUntil(lambda: area.fits() and not area.zoomed, timeout=5000)
    assert area.cell >= 3, "a 30×30 grid should be drawn at a readable size, not a few dots"
    assert area.horizontalScrollBar().maximum() == 0 and area.verticalScrollBar().maximum() == 0
    fitted = area.cell
    view = tab.views["prediction"]
    wheel = QWheelEvent(QPointF(20, 40), QPointF(view.mapToGlobal(QPoint(20, 40))), QPoint(0, 0), QPoint(0, 360),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    view.wheelEvent(wheel)
    assert area.zoomed and area.cell > fitted
    qtbot.waitUntil(lambda: area.horizontalScrollBar().maximum() > 0, timeout=5000)
    assert not area.fits()
    area.pan(QPoint(-40, 0))   # a drag to the left shows more of the right
    assert area.horizontalScrollBar().value() == 40
    tab.fit_cells()
    qtbot.waitUntil(lambda: area.fits() and area.horizontalScrollBar().maximum() == 0, timeout=5000)
    assert area.cell == fitted
