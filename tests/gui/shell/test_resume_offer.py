"""On start the window offers to continue an interrupted run: a bar, never a dialog.

Resume continues the run in its own folder from its last whole epoch; Dismiss is
remembered per run (and epoch) across launches. Opening a run folder sets Start up to
continue from the checkpoint of the last whole epoch.
"""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from hrm_studio.gui.shell.run_controller import IDLE
from hrm_studio.gui.shell.start_choice import RESUME, WEIGHTS
from hrm_studio.runs import find_unfinished, read_run
from hrm_studio.training.checkpoint import read_weights
from hrm_studio.events import EpochEnd, Finished, Started
from hrm_studio.runstore.keys import CheckpointKind, HistoryKey, RunState
from hrm_studio.runstore.run_dir import RunDir
from tests.gui.conftest import RUN_TIMEOUT_MS, train
from tests.gui.run_folders import copy_run, make_interrupted, train_until

NAME = "copy-increment-20250101-101500"
OTHER = "copy-increment-20250102-090000"


@pytest.fixture(scope="module")
def stopped_template(tmp_path_factory):
    """A 4-epoch run stopped after epoch 2 (final and last-epoch checkpoints, two history rows); resuming it
    trains the two epochs left."""
    from hrm_studio.config import RunConfig
    from tests.conftest import TINY_SETTINGS

    config = RunConfig.from_dict(TINY_SETTINGS)
    config.set("epochs", 4)
    return train_until(config, tmp_path_factory.mktemp("template") / "run", epochs_done=2)


@pytest.fixture
def runs(tmp_path):
    return tmp_path / "runs"   # the make_window fixture's runs folder


@pytest.fixture
def interrupted(stopped_template, runs):
    return make_interrupted(copy_run(stopped_template, runs, NAME))


def _epochs(folder):
    return [row[HistoryKey.EPOCH] for row in RunDir(folder).read_history()]


def test_an_interrupted_run_is_offered_in_a_bar_not_a_dialog(qtbot, interrupted, make_window):
    window = make_window()
    offer = window.resume_offer
    assert offer.isVisible() and offer.run.path == interrupted
    assert NAME in offer.message.text() and "epoch 2 of 4" in offer.message.text()
    assert offer.resume_button.isEnabled() and offer.dismiss_button.isEnabled()
    assert QApplication.activeModalWidget() is None
    # The window is usable at once: the offer does not stand in Start's way.
    assert window.commands.start.isEnabled() and window.controller.state == IDLE


def test_resume_continues_the_run_in_its_own_folder_from_its_last_epoch(qtbot, interrupted, make_window, runs):
    window = make_window()
    started = []
    window.controller.event.connect(lambda e: isinstance(e, Started) and started.append(e))
    with qtbot.waitSignal(window.controller.ended, timeout=RUN_TIMEOUT_MS) as ended:
        qtbot.mouseClick(window.resume_offer.resume_button, Qt.MouseButton.LeftButton)
    last = ended.args[0]
    assert isinstance(last, Finished) and last.reason == "completed" and last.epochs_done == 4
    assert started[0].run_dir == str(interrupted) and started[0].start_epoch == 2
    assert sorted(p.name for p in runs.iterdir()) == [NAME], "resuming must not make a new run folder"
    assert _epochs(interrupted) == [1, 2, 3, 4]
    assert [r[HistoryKey.EPOCH] for r in window.dashboard.rows()] == [1, 2, 3, 4]
    assert read_weights(RunDir(interrupted).checkpoint(CheckpointKind.FINAL)).payload["epoch"] == 4
    assert read_run(interrupted).status == RunState.FINISHED and find_unfinished(runs) == []
    assert window.resume_offer.isHidden()


def test_dismiss_is_remembered_for_that_run_across_launches(qtbot, interrupted, stopped_template, make_window,
                                                            runs):
    first = make_window(state_file="studio.json")
    with qtbot.waitSignal(first.resume_offer.dismissed) as dismissed:
        qtbot.mouseClick(first.resume_offer.dismiss_button, Qt.MouseButton.LeftButton)
    assert [r.path for r in dismissed.args[0]] == [interrupted]
    assert first.resume_offer.isHidden()
    stored = json.loads((runs.parent / "studio.json").read_text())   # saved at once, not only on close
    assert list(stored["dismissed_runs"].values()) == [2]

    again = make_window(state_file="studio.json")
    assert again.resume_offer.isHidden(), "a dismissed run must not be offered at the next launch"

    # Another interrupted run is still offered …
    other = make_interrupted(copy_run(stopped_template, runs, OTHER))
    third = make_window(state_file="studio.json")
    assert third.resume_offer.isVisible() and [r.path for r in third.resume_offer.runs] == [other]
    # … and so is the dismissed one once it is interrupted at another epoch.
    metrics = RunDir(interrupted).metrics_path
    metrics.write_text(metrics.read_text().splitlines(keepends=True)[0])
    fourth = make_window(state_file="studio.json")
    assert {r.path for r in fourth.resume_offer.runs} == {interrupted, other}


def test_several_unfinished_runs_offer_the_newest_and_count_the_rest(qtbot, interrupted, stopped_template,
                                                                     make_window, runs):
    newer = make_interrupted(copy_run(stopped_template, runs, OTHER))
    status = RunDir(newer).read_status()
    status["created"] = status["created"] + 60
    RunDir(newer).status_path.write_text(json.dumps(status))
    window = make_window()
    assert window.resume_offer.run.path == newer
    assert "1 more unfinished run is in the Runs tab" in window.resume_offer.message.text()


def test_finished_stopped_and_running_runs_are_not_offered(qtbot, stopped_template, make_window, runs):
    copy_run(stopped_template, runs, "stopped")                 # stopped on purpose: resumable, not offered
    running = copy_run(stopped_template, runs, "running")       # still written by a live process (this one)
    from hrm_studio.runstore.owner import this_process

    status = RunDir(running).read_status()
    status.update(state=RunState.RUNNING, **this_process())
    RunDir(running).status_path.write_text(json.dumps(status))
    window = make_window()
    assert window.resume_offer.isHidden() and window.resume_offer.runs == []


def test_resume_is_greyed_out_while_another_run_trains(qtbot, interrupted, make_window, tiny):
    window = make_window(tiny(epochs=200))
    assert window.resume_offer.resume_button.isEnabled()
    with qtbot.waitSignal(window.controller.event, timeout=RUN_TIMEOUT_MS,
                          check_params_cb=lambda e: isinstance(e, EpochEnd)):
        assert window.start()
    assert not window.resume_offer.resume_button.isEnabled()
    assert "Stop the current run first" in window.resume_offer.resume_button.toolTip()
    with qtbot.waitSignal(window.controller.ended, timeout=RUN_TIMEOUT_MS):
        window.stop()
    assert window.resume_offer.resume_button.isEnabled()
    assert read_run(interrupted).status == RunState.INTERRUPTED, "the other run's folder is untouched"


# ----- (b) opening a run folder continues it from its last whole epoch -----------------------------------------
def _open_folder(qtbot, window, path):
    with qtbot.waitSignal(window.opened, timeout=RUN_TIMEOUT_MS) as opened:
        window.open_run_folder(path)
    return opened.args[0]


def test_opening_an_interrupted_run_folder_sets_start_to_continue_from_its_last_epoch(qtbot, interrupted,
                                                                                     make_window):
    window = make_window()
    opened = _open_folder(qtbot, window, interrupted)
    last_epoch = RunDir(interrupted).checkpoint(CheckpointKind.LAST)
    assert opened.continue_from == last_epoch
    assert opened.checkpoint == last_epoch   # no final checkpoint: the latest weights
    assert opened.epoch == 2 and opened.interrupted
    assert window.start_choice.mode() == RESUME
    assert window.start_choice.buttons[RESUME].text() == "Continue this run (from epoch 2)"
    assert "interrupted" in window.start_choice.notes.text()
    last = train(qtbot, window)
    assert isinstance(last, Finished) and last.epochs_done == 4
    assert _epochs(interrupted) == [1, 2, 3, 4]


def test_a_stopped_run_folder_continues_from_its_last_epoch_not_its_final_state(qtbot, stopped_template,
                                                                                 make_window, runs):
    """The final checkpoint of a run stopped mid-epoch holds a half-done epoch; the last-epoch one a whole one."""
    folder = copy_run(stopped_template, runs, "stopped")
    window = make_window()
    opened = _open_folder(qtbot, window, folder)
    run = RunDir(folder)
    assert opened.checkpoint == run.checkpoint(CheckpointKind.FINAL)      # weights to evaluate / export
    assert opened.continue_from == run.checkpoint(CheckpointKind.LAST)    # where "continue" goes on from
    assert opened.epoch == 2 and not opened.interrupted
    assert window.start_choice.mode() == RESUME
    seen = []
    window.controller.event.connect(lambda e: isinstance(e, Started) and seen.append(e.start_epoch))
    last = train(qtbot, window)
    assert isinstance(last, Finished) and last.epochs_done == 4 and seen == [2]
    # WEIGHTS still starts a new run from the final checkpoint.
    assert window.start_choice.buttons[WEIGHTS].isEnabled()


def test_an_interrupted_run_that_reached_its_last_epoch_can_still_be_finished(qtbot, tiny, tmp_path,
                                                                              make_window, runs):
    folder = make_interrupted(train_until(tiny(epochs=2), runs / "almost-done", epochs_done=2))
    window = make_window()
    opened = _open_folder(qtbot, window, folder)
    assert opened.epoch == 2 and window.settings.config().train.epochs == 2
    assert window.start_blocker() is None, "finishing it needs no more epochs"
    last = train(qtbot, window)
    assert isinstance(last, Finished) and last.epochs_done == 2
    assert RunDir(folder).checkpoint(CheckpointKind.FINAL).exists() and read_run(folder).status == RunState.FINISHED
