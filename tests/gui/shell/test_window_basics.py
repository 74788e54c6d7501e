"""Window shell: no torch at import, identity, shortcuts, remembered state, tabs, plots' options."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QGuiApplication

from hrm_studio.gui.shell.qt_app import DESKTOP_FILE_NAME, create_application
from hrm_studio.render.plot_ranges import nice_ceiling, x_range, y_range
from hrm_studio.render.smoothing import debiased_ema
from hrm_studio.gui.shell.user_state import MAX_RECENT, UserState
from hrm_studio.runstore.keys import HistoryKey, RunState
from hrm_studio.runstore.run_dir import RunDir

WINDOW_WITHOUT_TORCH = """
import sys, pkgutil, importlib
import hrm_studio.gui
for mod in pkgutil.walk_packages(hrm_studio.gui.__path__, 'hrm_studio.gui.'):
    importlib.import_module(mod.name)
assert 'torch' not in sys.modules, 'importing hrm_studio.gui pulled in torch'
from hrm_studio.gui.shell.qt_app import create_application
from hrm_studio.gui.shell.main_window import MainWindow
app = create_application()
window = MainWindow()
window.show()
app.processEvents()
assert window.isVisible()
assert 'torch' not in sys.modules, 'showing the window pulled in torch'
print('WINDOW WITHOUT TORCH')
from hrm_studio.gui.shell.qt_app import dispose
dispose(window)
"""


def test_the_window_appears_before_torch_is_imported():
    done = subprocess.run([sys.executable, "-c", WINDOW_WITHOUT_TORCH], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "WINDOW WITHOUT TORCH" in done.stdout


def test_application_identity(qapp):
    create_application()
    assert QGuiApplication.desktopFileName() == DESKTOP_FILE_NAME


def test_every_command_has_a_shortcut_and_appears_in_a_menu(make_window):
    window = make_window()
    from PySide6.QtWidgets import QMenu

    in_menus = {a for menu in window.menuBar().findChildren(QMenu) for a in menu.actions()}
    shortcuts = set()
    for action in window.commands.all():
        assert not action.shortcut().isEmpty(), action.text()
        shortcuts.add(action.shortcut().toString())
        assert action in in_menus, action.text()
    assert len(shortcuts) == len(window.commands.all())
    assert "New run" in window.windowTitle()


def test_tabs_and_the_predictions_empty_state(make_window):
    window = make_window()
    window.show_tab("predictions")
    assert window.tabs.currentWidget() is window.predictions
    tab = window.predictions
    assert tab.empty_label.isVisible() and not tab.body.isVisible()
    assert "No predictions yet" in tab.empty_label.text()
    assert not tab.evaluate_button.isEnabled()
    window.show_tab("runs")
    assert window.tabs.currentWidget() is window.runs_tab


def test_window_remembers_geometry_settings_and_recent_items(qtbot, make_window, tmp_path, tiny):
    window = make_window(tiny(lr=0.0042), state_file="remember.json")
    window.resize(1100, 520)
    window.close()
    saved = json.loads((tmp_path / "remember.json").read_text())
    assert saved["last_config"]["train"]["lr"] == 0.0042 and saved["geometry"]
    again = make_window(state_file="remember.json")
    assert again.settings.config().train.lr == 0.0042
    assert again.size().height() == 520


def test_recent_list_is_capped_and_prunes_missing_paths(tmp_path):
    state = UserState(tmp_path / "s.json")
    for i in range(MAX_RECENT + 3):
        path = tmp_path / f"c{i}.pt"
        path.write_bytes(b"x")
        state.add_recent(path, "checkpoint")
    assert len(state.recent()) == MAX_RECENT
    assert state.recent()[0]["path"].endswith(f"c{MAX_RECENT + 2}.pt")
    (tmp_path / f"c{MAX_RECENT + 2}.pt").unlink()
    state.save()
    assert all(not item["path"].endswith(f"c{MAX_RECENT + 2}.pt") for item in UserState(state.path).recent())
    (tmp_path / "broken.json").write_text("{not json")
    assert UserState(tmp_path / "broken.json").recent() == []


def test_runs_tab_lists_runs_and_opens_one(qtbot, make_window, tmp_path):
    folder = RunDir(tmp_path / "runs" / "copy-increment-1").create()
    folder.write_config({"data": {"task": "copy-increment"}, "train": {"epochs": 5}})
    folder.append_metrics({HistoryKey.EPOCH: 1, HistoryKey.VAL_EXACT: 0.5})
    folder.write_status(RunState.STOPPED, reason=RunState.STOPPED)
    run = folder.path
    window = make_window()
    window.runs_tab.refresh()
    assert window.runs_tab.paths() == [run.resolve()]
    proxy = window.runs_tab.proxy
    assert proxy.index(0, 3).data() == "1/5" and proxy.index(0, 4).data() == "50.0 %"
    with qtbot.waitSignal(window.runs_tab.open_requested) as requested:
        window.runs_tab.select([run])
        window.runs_tab.open_button.click()
    assert Path(requested.args[0]) == run.resolve()


def test_debiased_ema_starts_at_the_first_value():
    assert debiased_ema([2.0, 2.0, 2.0], 0.9) == [2.0, 2.0, 2.0]
    smoothed = debiased_ema([1.0, 0.0, math.nan, 0.0], 0.5)
    assert smoothed[0] == 1.0 and math.isnan(smoothed[2]) and smoothed[3] < smoothed[1] < 1.0
    assert debiased_ema([3.0, 1.0], 0.0) == [3.0, 1.0]


def test_axis_ranges_move_in_round_steps():
    assert nice_ceiling(2.07) == 2.5 and nice_ceiling(0.00105) == 0.002 and nice_ceiling(7) == 10
    assert y_range([50.0], None, percent=True, log=False) == (0.0, 100.0)
    first = y_range([2.0, 1.5], None, percent=False, log=False)
    assert first == (0.0, 2.5)
    assert y_range([2.0, 1.5, 1.2], first, percent=False, log=False) == first      # still fits: unchanged
    assert y_range([0.2, 0.1], first, percent=False, log=False) == (0.0, 0.25)    # far inside: shrinks
    assert x_range([1, 2], None, planned=30, start=1) == (1, 30)


def test_plot_options_smoothing_log_scale_wall_time_and_hover(make_window):
    window = make_window()
    rows = [{"epoch": e, "loss": 1.0 / e, "val_loss": 2.0 / e, "learning_rate": 1e-3, "wall_seconds": 1.5 * e,
             "exact_match_accuracy": e / 10, "val_exact_match_accuracy": None if e % 2 else e / 10,
             "copy_accuracy": 0.1, "val_copy_accuracy": 0.2}
            for e in range(1, 6)]
    board = window.dashboard
    board.set_history(rows, ["copy"])
    assert list(board.curve("loss").yData) == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert len(board.curve("val_exact_match_accuracy").xData) == 2       # only evaluated epochs
    board.set_smoothing(0.6)
    assert board.curve("loss").yData[0] == 1.0 and board.curve("loss").yData[1] > 0.5
    assert list(board.curve("learning_rate").yData) == [1e-3] * 5         # rates are never smoothed
    board.set_smoothing(0)
    board.set_log_y(True)
    assert board.plot("loss").getAxis("left").logMode
    board.set_log_y(False)
    board.set_x_axis("wall")
    assert list(board.curve("loss").xData) == [1.5, 3.0, 4.5, 6.0, 7.5]
    text = board.readout_at("loss", 4.4)
    assert text.startswith("Epoch 3") and "train 0.3333" in text and "held-out 0.6667" in text
    board.set_x_axis("epoch")
    assert "copy (held-out) 20.0 %" in board.readout_at("exact_match", 2)
