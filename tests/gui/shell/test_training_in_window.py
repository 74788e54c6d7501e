"""Training through the window: epochs reach the plots; pause, resume, save and stop work
mid-run; a crash inside training is shown without blocking the window."""

from __future__ import annotations

import json

from hrm_studio.gui.shell.run_controller import IDLE, PAUSED
from hrm_studio.gui.shell.start_choice import RESUME, SCRATCH
from hrm_studio.training.checkpoint import read_weights
from hrm_studio.events import EpochEnd, Failed, Finished, Started
from hrm_studio.runstore.keys import CheckpointKind, RunState
from hrm_studio.runstore.run_dir import RunDir
from tests.gui.conftest import RUN_TIMEOUT_MS, train


def _start_and_wait_epochs(qtbot, window, count=1):
    seen = []

    def is_epoch(event):
        if isinstance(event, EpochEnd):
            seen.append(event)
        return len(seen) >= count

    with qtbot.waitSignal(window.controller.event, timeout=RUN_TIMEOUT_MS, check_params_cb=is_epoch):
        assert window.start(), window.start_blocker()
    return seen


def test_start_trains_and_every_epoch_reaches_every_curve(qtbot, make_window, tiny):
    window = make_window(tiny(epochs=3))
    epochs = []
    window.controller.event.connect(lambda e: isinstance(e, EpochEnd) and epochs.append(e.epoch))
    last = train(qtbot, window)
    assert isinstance(last, Finished) and last.reason == "completed"
    assert epochs == [1, 2, 3]
    qtbot.waitUntil(lambda: len(window.dashboard.curve("loss").xData) == 3)
    for key in window.dashboard.curve_keys():
        assert len(window.dashboard.curve(key).xData) == 3, key
    assert set(window.dashboard.patterns) == {"copy", "increment"}
    assert window.run_name and window.run_name in window.windowTitle()
    assert window.run_status.epoch_label.text() == "Epoch 3/3"
    assert window.run_status.best is not None
    assert window.controller.state == IDLE
    assert window.commands.start.isEnabled()


def test_curves_are_updated_in_place_not_recreated(qtbot, make_window, tiny):
    window = make_window(tiny(epochs=2))
    before = {key: id(window.dashboard.curve(key)) for key in ("loss", "val_loss", "learning_rate")}
    train(qtbot, window)
    assert {key: id(window.dashboard.curve(key)) for key in before} == before


def test_pause_holds_training_saves_while_paused_and_resume_goes_on(qtbot, make_window, tiny, tmp_path):
    window = make_window(tiny(epochs=200))
    with qtbot.waitSignal(window.controller.event, timeout=RUN_TIMEOUT_MS,
                          check_params_cb=lambda e: isinstance(e, Started)):
        assert window.start()
    window.toggle_pause()
    at_pause = window.controller.worker.global_step
    assert window.controller.state == PAUSED
    assert window.commands.pause.text() == "&Resume"
    assert "(paused)" in window.windowTitle()
    # Settings that cannot change mid-run are locked; live ones are not.
    assert window.settings.editor("hidden_size").locked
    assert not window.settings.editor("stop_at_exact").locked
    # Pause takes effect within one step; checkpoints are still served while paused.
    steps = []
    for name in ("while-paused-1.pt", "while-paused-2.pt", "while-paused-3"):   # .pt is added
        with qtbot.waitSignal(window.saved, timeout=RUN_TIMEOUT_MS):
            window.save_checkpoint(tmp_path / name)
        steps.append(window.controller.worker.global_step)
    assert len(set(steps)) == 1 and steps[0] <= at_pause + 1, f"training went on while paused: {steps}"
    assert read_weights(tmp_path / "while-paused-3.pt").source == "studio"

    window.toggle_pause()
    assert window.controller.state != PAUSED
    # Resumed: steps go on (waiting for "an EpochEnd" could catch the end of the epoch the pause
    # landed in, which needs no further step).
    qtbot.waitUntil(lambda: window.controller.worker.global_step > steps[-1], timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(window.controller.ended, timeout=RUN_TIMEOUT_MS):
        window.stop()
    assert not window.settings.editor("lr").locked


def test_stop_mid_run_leaves_final_checkpoint_and_history_that_can_be_resumed(qtbot, make_window, tiny, tmp_path):
    window = make_window(tiny(epochs=200))
    _start_and_wait_epochs(qtbot, window, count=2)
    with qtbot.waitSignal(window.saved, timeout=RUN_TIMEOUT_MS) as saved:
        window.save_checkpoint(tmp_path / "mid-run.pt")
    assert saved.args[0] == [tmp_path / "mid-run.pt"]
    with qtbot.waitSignal(window.controller.ended, timeout=RUN_TIMEOUT_MS) as ended:
        window.stop()
    last = ended.args[0]
    assert isinstance(last, Finished) and last.reason == RunState.STOPPED
    run = RunDir(window.current_run.run_dir)
    history = json.loads(run.history_path.read_text())
    assert len(history) >= 2 and len(history) == last.epochs_done
    assert run.state() == RunState.STOPPED
    final = read_weights(run.checkpoint(CheckpointKind.FINAL))
    assert final.payload["epoch"] == len(history)
    assert read_weights(tmp_path / "mid-run.pt").payload["epoch"] >= 2

    # The stopped run is offered for resuming; resuming continues its history in its folder.
    assert window.start_choice.mode() == RESUME
    assert window.start_blocker() is None
    window.settings.set_value("epochs", len(history) + 1)
    last = train(qtbot, window)
    assert isinstance(last, Finished) and last.epochs_done == len(history) + 1
    assert len(json.loads(run.history_path.read_text())) == len(history) + 1
    qtbot.waitUntil(lambda: len(window.dashboard.curve("loss").xData) == len(history) + 1)


def test_resume_needs_more_epochs_than_the_run_has(qtbot, make_window, tiny):
    window = make_window(tiny(epochs=2))
    train(qtbot, window)
    window.start_choice.set_mode(RESUME)
    assert "raise Epochs above 2" in window.start_blocker()
    assert not window.commands.start.isEnabled()
    # Model and data settings are locked while "continue this run" is chosen.
    assert window.settings.editor("hidden_size").locked and window.settings.editor("train_size").locked
    assert not window.settings.editor("lr").locked
    window.start_choice.set_mode(SCRATCH)
    assert window.commands.start.isEnabled()


def test_an_exception_inside_training_is_shown_and_the_window_stays_usable(qtbot, make_window, tiny,
                                                                             monkeypatch):
    from hrm_studio.training import trainer as trainer_module

    def broken_evaluate(*args, **kwargs):
        raise RuntimeError("the evaluation exploded")

    monkeypatch.setattr(trainer_module, "evaluate", broken_evaluate)
    window = make_window(tiny(epochs=2))
    last = train(qtbot, window)
    assert isinstance(last, Failed)
    assert "the evaluation exploded" in window.banner.text
    assert "press Start to try again" in window.banner.text
    assert "RuntimeError" in window.banner.details.toPlainText()
    assert window.banner.details.isHidden()            # folded away until asked for
    window.banner.details_button.click()
    assert not window.banner.details.isHidden()
    assert "exploded" in window.statusBar().currentMessage()
    assert window.commands.start.isEnabled()
    assert window.start_choice.mode() == RESUME    # the last complete epoch is kept: continuing is the offer

    monkeypatch.undo()
    last = train(qtbot, window)
    assert isinstance(last, Finished)
    assert window.banner.text == ""


def test_a_checkpoint_that_does_not_fit_is_reported_not_raised(qtbot, make_window, tiny, tmp_path):
    window = make_window(tiny(epochs=1))
    bad = tmp_path / "not-a-checkpoint.pt"
    bad.write_bytes(b"this is not a checkpoint")
    with qtbot.waitSignal(window.error_shown, timeout=RUN_TIMEOUT_MS) as shown:
        window.open_checkpoint(bad)
    assert "damaged" in shown.args[0] or "not a PyTorch file" in shown.args[0]
    assert window.commands.start.isEnabled()


def test_closing_while_training_asks_first_and_then_stops_cleanly(qtbot, make_window, tiny):
    window = make_window(tiny(epochs=200))
    _start_and_wait_epochs(qtbot, window)
    asked = []
    window.confirm = lambda title, question: asked.append(question) or False
    window.close()
    assert asked and window.controller.active, "a 'no' must keep the window and the run"
    window.confirm = lambda *_: True
    window.close()
    assert not window.controller.active
    assert RunDir(window.runs_root / window.run_name).checkpoint(CheckpointKind.FINAL).exists()
