"""The run library: CLI runs appear by themselves with the right status; filter, sort, rename, delete,
added folders remembered."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from hrm_studio.gui.shell.user_state import UserState
from tests.cli.test_cli import TINY
from tests.gui.run_folders import make_interrupted

CLI_TIMEOUT_MS = 90_000


def cli_train(out: Path, *more: str) -> subprocess.Popen:
    """`hrm-studio train` in its own process, as a person would run it in a terminal."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "hrm_studio", "train", *TINY, *more, "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def status_of(tab, name: str) -> str | None:
    return next((r.status for r in tab.runs() if r.name == name), None)


def fake_run(root: Path, name: str, state: str = "finished", task: str = "copy-increment") -> Path:
    folder = root / name
    (folder / "checkpoints").mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"data": {"task": task}, "train": {"epochs": 2}}))
    (folder / "metrics.jsonl").write_text('{"epoch": 1, "val_exact_match_accuracy": 0.25}\n')
    (folder / "checkpoints" / "last.pt").write_bytes(b"x" * 5000)
    status = {"state": state, "pid": os.getpid()} if state == "running" else {"state": state}
    (folder / "status.json").write_text(json.dumps(status))
    return folder


def test_cli_runs_appear_finished_and_interrupted_ones_are_marked(qtbot, make_window, tmp_path):
    window = make_window()
    window.show_tab("runs")
    tab = window.runs_tab
    assert tab.runs() == []
    process = cli_train(tmp_path / "runs" / "from-cli", "--set", "epochs=2")
    try:
        # No Refresh pressed: the watcher and the timer find it, and see it finish.
        qtbot.waitUntil(lambda: status_of(tab, "from-cli") is not None, timeout=CLI_TIMEOUT_MS)
        qtbot.waitUntil(lambda: process.poll() is not None, timeout=CLI_TIMEOUT_MS)
        assert process.returncode == 0, process.stderr.read().decode()
    finally:
        process.kill()
        process.wait()
        process.stderr.close()
    qtbot.waitUntil(lambda: status_of(tab, "from-cli") == "finished", timeout=10_000)
    info = next(r for r in tab.runs() if r.name == "from-cli")
    assert info.epochs_done == 2 and info.task == "copy-increment" and info.best_exact is not None
    # A run whose process died mid-run (status.json says running, its pid is gone).
    make_interrupted(Path(shutil.copytree(tmp_path / "runs" / "from-cli", tmp_path / "runs" / "killed")))
    qtbot.waitUntil(lambda: status_of(tab, "killed") == "interrupted", timeout=10_000)
    tab.set_filter(status="interrupted")
    assert [r.name for r in tab.shown_runs()] == ["killed"]
    tab.set_filter(text="from")
    assert [r.name for r in tab.shown_runs()] == ["from-cli"]


def test_filter_and_sort(qtbot, make_window, tmp_path):
    root = tmp_path / "runs"
    fake_run(root, "b-sudoku", task="sudoku-4x4")
    fake_run(root, "a-copy")
    fake_run(root, "c-live", state="running")
    window = make_window()
    tab = window.runs_tab
    tab.refresh()
    assert len(tab.shown_runs()) == 3 and tab.count_label.text() == "3 runs"
    tab.table.sortByColumn(0, tab.table.horizontalHeader().sortIndicatorOrder().AscendingOrder)
    assert [r.name for r in tab.shown_runs()] == ["a-copy", "b-sudoku", "c-live"]
    tab.set_filter(text="SUDOKU")
    assert [r.name for r in tab.shown_runs()] == ["b-sudoku"] and tab.count_label.text() == "1 of 3 runs"
    tab.set_filter(status="running")
    assert [r.name for r in tab.shown_runs()] == ["c-live"]


def test_a_long_run_name_keeps_both_ends_on_one_line(qtbot, make_window, tmp_path):
    name = "copy-increment-20261208-043756"
    fake_run(tmp_path / "runs", name)
    window = make_window()
    tab = window.runs_tab
    tab.refresh()
    table = tab.table
    table.horizontalHeader().setSectionResizeMode(0, table.horizontalHeader().ResizeMode.Interactive)
    table.setColumnWidth(0, 140)
    rect = table.visualRect(tab.proxy.index(0, 0))
    # What the view paints: one line (no wrapping at the hyphens into "copy-…"), cut in the middle.
    shown = table.fontMetrics().elidedText(name, table.textElideMode(), rect.width() - 8)
    assert not table.wordWrap()
    assert shown.startswith("copy-") and shown.endswith("043756") and len(shown) < len(name), shown


def test_rename_and_delete_refuse_a_running_run(qtbot, make_window, tmp_path, trash):
    root = tmp_path / "runs"
    done = fake_run(root, "done")
    live = fake_run(root, "live", state="running")
    fake_run(root, "taken")
    window = make_window()
    tab = window.runs_tab
    tab.refresh()
    asked: list[str] = []
    window.confirm = lambda title, text: asked.append(text) or True

    with qtbot.waitSignal(window.error_shown) as shown:
        assert tab.rename(live, "other") is None
    assert "still training" in shown.args[0] and live.exists()
    with qtbot.waitSignal(window.error_shown) as shown:
        assert tab.delete([live]) == []
    assert "still training" in shown.args[0] and live.exists() and asked == []
    with qtbot.waitSignal(window.error_shown) as shown:
        assert tab.rename(done, "taken") is None
    assert "already a folder called taken" in shown.args[0]

    tab.ask_name = lambda current: "renamed"
    tab.select([done])
    tab.rename_button.click()
    assert not done.exists() and (root / "renamed").is_dir()
    assert "renamed" in [r.name for r in tab.runs()] and tab.selected_paths() == [(root / "renamed").resolve()]

    window.confirm = lambda title, text: asked.append(text) or False     # "No": nothing goes
    tab.select([root / "renamed"])
    tab.delete_button.click()
    assert (root / "renamed").is_dir() and str((root / "renamed").resolve()) in asked[-1]
    assert "KB" in asked[-1]                                             # the folder's size is named
    window.confirm = lambda title, text: True
    tab.delete_button.click()
    assert not (root / "renamed").exists() and (trash / "files" / "renamed" / "config.json").is_file()
    assert sorted(r.name for r in tab.runs()) == ["live", "taken"]


def test_added_folder_is_listed_and_remembered(qtbot, make_window, tmp_path):
    outside = tmp_path / "elsewhere"
    fake_run(outside, "far-away")
    window = make_window(state_file="library.json")
    window.runs_tab.ask_folder = lambda: outside
    window.runs_tab.add_button.click()
    assert [r.name for r in window.runs_tab.runs()] == ["far-away"]
    window.close()
    assert UserState(tmp_path / "library.json").library_folders() == [str(outside.resolve())]
    again = make_window(state_file="library.json")
    assert [r.name for r in again.runs_tab.runs()] == ["far-away"]
