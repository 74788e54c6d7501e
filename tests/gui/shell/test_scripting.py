"""Driving the window from a script: waits that run the event loop and end on a condition, a
signal or a deadline; a window that trains to the end and is saved as a picture."""

from __future__ import annotations

import json

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from hrm_studio.events import Finished
from hrm_studio.gui.shell.scripting import (
    pause,
    save_and_close,
    scripted_window,
    train_to_end,
    wait_for_signal,
    wait_until,
)
from hrm_studio.gui.shell.start_choice import RESUME
from hrm_studio.runstore.run_dir import RunDir
from tests.gui.conftest import RUN_TIMEOUT_MS


class _Probe(QObject):
    ping = Signal(int)


def test_pause_runs_the_event_loop(qapp):
    fired: list[int] = []
    QTimer.singleShot(10, lambda: fired.append(1))
    pause(200)
    assert fired == [1]


def test_wait_until_ends_when_the_condition_holds_and_reports_a_deadline(qapp):
    ready: list[int] = []
    QTimer.singleShot(20, lambda: ready.append(1))
    assert wait_until(lambda: ready, 10_000)
    assert wait_until(lambda: True, 1), "a condition that already holds needs no event loop"
    assert not wait_until(lambda: False, 60)


def test_wait_for_signal_says_whether_it_fired_and_lets_go_of_it(qapp):
    probe = _Probe()
    QTimer.singleShot(10, lambda: probe.ping.emit(3))
    assert wait_for_signal(probe.ping, 10_000)
    assert not wait_for_signal(probe.ping, 60)
    seen: list[int] = []
    probe.ping.connect(seen.append)
    probe.ping.emit(4)   # the waits' slots are gone: only this test's slot sees it
    assert seen == [4]


def test_a_scripted_window_trains_to_the_end_is_refused_a_finished_resume_and_saves(qtbot, tmp_path, tiny):
    window = scripted_window(tmp_path / "runs", size=(1000, 700), config=tiny(epochs=1), tab="metrics")
    assert window.isVisible() and window.size().toTuple() == (1000, 700)
    assert window.confirm("Overwrite?", "The run folder exists."), "a scripted window never waits for a person"
    last, problem = train_to_end(window, RUN_TIMEOUT_MS)
    assert problem is None and isinstance(last, Finished) and last.epochs_done == 1
    run = RunDir(window.current_run.run_dir)
    assert len(json.loads(run.history_path.read_text())) == 1

    window.start_choice.set_mode(RESUME)   # the same epochs again: nothing left to train
    last, problem = train_to_end(window, RUN_TIMEOUT_MS)
    assert last is None and problem is not None and problem.startswith("cannot start:") and "raise Epochs above 1" in problem

    picture = save_and_close(window, tmp_path / "shots" / "window.png")
    image = QImage(str(picture))
    assert not image.isNull() and image.width() >= 1000
    assert not shiboken6.isValid(window), "closed and deleted, its threads stopped"
