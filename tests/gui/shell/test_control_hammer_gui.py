"""Start / Pause / Resume / Stop clicked 200 times in a seeded random order through the
window's real actions: no deadlock, no training thread left, and a run folder that loads
and holds exactly the history an untouched run has. Closing the window mid-epoch ends
the run within one batch.
"""

from __future__ import annotations

import json
import random
import threading

import pytest

from hrm_studio.gui.shell.run_controller import IDLE, PAUSED, RUNNING, STARTING, STOPPING
from hrm_studio.training.checkpoint import read_weights
from hrm_studio.events import EpochEnd, Finished, Progress, Started
from hrm_studio.runstore.keys import CheckpointKind, HistoryKey, RunState
from hrm_studio.runstore.run_dir import RunDir
from hrm_studio.training.trainer import Trainer, comparable
from tests.gui.conftest import RUN_TIMEOUT_MS, running_qthreads

CLICKS = 200
EPOCHS = 5000          # far more than the clicks leave time for: the run is alive throughout
WEIGHTS = {"start": 3, "pause": 8, "stop": 1}
EPOCH = HistoryKey.EPOCH


def _python_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.is_alive()}


def _no_thread_left(qtbot, qapp) -> None:
    """The training thread has ended now; short file jobs (the prediction viewer loading a
    run's saved predictions, say) may still be finishing, and must end by themselves."""
    assert "hrm-training" not in running_qthreads(qapp)
    qtbot.waitUntil(lambda: running_qthreads(qapp) == [], timeout=RUN_TIMEOUT_MS)


def _wait_for_training(qtbot, window) -> None:
    """Let the run get somewhere: its next Started, Progress or EpochEnd."""
    with qtbot.waitSignal(window.controller.event, timeout=RUN_TIMEOUT_MS,
                          check_params_cb=lambda e: isinstance(e, (Started, Progress, EpochEnd))):
        pass


def _click(qtbot, window, rng: random.Random) -> tuple[list[str], int]:
    """CLICKS clicks on Start / Pause / Stop, checking each one's effect; returns them and the runs started."""
    ended: list[object] = []
    window.controller.ended.connect(ended.append)
    clicks: list[str] = []
    runs_started = 0
    for _ in range(CLICKS):
        name = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        action = getattr(window.commands, name)
        state = window.controller.state
        enabled = action.isEnabled()
        clicks.append(f"{name}{'' if enabled else '(disabled)'}@{state}")
        action.trigger()
        after = window.controller.state
        if not enabled:
            assert after == state, f"a disabled {name} changed the state; clicks: {clicks[-8:]}"
            continue
        if name == "start":
            assert state == IDLE and after == STARTING, clicks[-8:]
            runs_started += 1
        elif name == "pause":
            assert (state, after) in ((STARTING, PAUSED), (RUNNING, PAUSED), (PAUSED, RUNNING)), clicks[-8:]
        elif name == "stop":
            assert after == STOPPING, clicks[-8:]
            # Stop ends the thread within a batch (after the final save); nothing is clickable meanwhile.
            qtbot.waitUntil(lambda: window.controller.state == IDLE, timeout=RUN_TIMEOUT_MS)
            assert isinstance(ended[-1], Finished) and ended[-1].reason == RunState.STOPPED, ended[-1]
            continue
        if window.controller.state in (STARTING, RUNNING) and rng.random() < 0.7:
            _wait_for_training(qtbot, window)
    return clicks, runs_started


def _the_one_run(window) -> list[dict]:
    """Every Start after a Stop continued the same run from its last whole epoch: one run folder
    whose history, last-epoch checkpoint and status agree with the plots. Returns its history."""
    folders = [p for p in window.runs_root.iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    run = RunDir(folders[0])
    history = run.read_history()
    epochs = [r[EPOCH] for r in history]
    assert epochs == list(range(1, len(epochs) + 1)) and epochs, epochs
    assert [r[EPOCH] for r in json.loads(run.history_path.read_text())] == epochs
    last = read_weights(run.checkpoint(CheckpointKind.LAST))
    assert last.payload["epoch"] == len(history)
    assert [r[EPOCH] for r in last.payload["history"]] == epochs
    assert run.state() == RunState.STOPPED
    assert [r[EPOCH] for r in window.dashboard.rows()] == epochs
    return history


def _untouched_history(config, folder, epochs: int) -> list[dict]:
    """The history of a run nobody paused or stopped, ended after the same number of epochs."""
    box: dict[str, Trainer] = {}

    def stop_at_same_epoch(event):
        if isinstance(event, EpochEnd) and event.epoch == epochs:
            box["trainer"].stop()

    box["trainer"] = Trainer(config, folder, stop_at_same_epoch)
    box["trainer"].fit()
    return RunDir(folder).read_history()


@pytest.mark.parametrize("seed", [7])
def test_200_random_clicks_leave_no_thread_and_a_consistent_run(qtbot, qapp, make_window, tiny, tmp_path, seed):
    window = make_window(tiny(epochs=EPOCHS))
    threads_before = _python_threads()
    clicks, runs_started = _click(qtbot, window, random.Random(seed))
    if window.controller.active:
        with qtbot.waitSignal(window.controller.ended, timeout=RUN_TIMEOUT_MS):
            window.stop()
    assert window.controller.state == IDLE and window.controller.worker is None
    _no_thread_left(qtbot, qapp)
    assert _python_threads() <= threads_before, f"threads left: {_python_threads() - threads_before}"
    assert runs_started >= 5 and clicks.count("stop@running") + clicks.count("stop@paused") >= 5, clicks
    history = _the_one_run(window)
    # And it is the history a run nobody touched has (resuming redid half-done epochs exactly).
    straight = _untouched_history(tiny(epochs=EPOCHS), tmp_path / "straight", len(history))
    assert comparable(history) == comparable(straight)


def test_closing_the_window_mid_epoch_ends_the_run_within_one_batch(qtbot, qapp, make_window, tiny):
    # 30 batches an epoch, so a Progress event lands in the middle of one.
    window = make_window(tiny(epochs=200, train_size=480, batch_size=16))
    threads_before = _python_threads()
    with qtbot.waitSignal(window.controller.event, timeout=RUN_TIMEOUT_MS,
                          check_params_cb=lambda e: isinstance(e, Progress)
                          and 0 < e.puzzles_done < e.puzzles_total) as mid:
        assert window.start()
    worker = window.controller.worker
    step_at_close = worker.global_step
    run = RunDir(window.runs_root / window.run_name)
    window.close()                                  # asks (answered yes by the fixture), then stops
    assert not window.controller.active and window.controller.worker is None
    _no_thread_left(qtbot, qapp)
    assert _python_threads() <= threads_before
    final = read_weights(run.checkpoint(CheckpointKind.FINAL)).payload
    assert final["global_step"] <= step_at_close + 1, "training went on for more than one batch after close"
    assert final["epoch"] == mid.args[0].epoch - 1, "the half-done epoch is not counted"
    assert run.state() == RunState.STOPPED
    history = run.read_history()
    assert [r[EPOCH] for r in history] == list(range(1, final["epoch"] + 1))
    assert read_weights(run.checkpoint(CheckpointKind.LAST)).payload["epoch"] == final["epoch"]
