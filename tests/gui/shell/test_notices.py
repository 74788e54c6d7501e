"""Notices (the run goes on, but the person should know) are shown without stopping anyone:
in the status bar and in the banner's info colour, never over an error, never modal."""

from __future__ import annotations

import shutil

from PySide6.QtWidgets import QApplication

from hrm_studio.gui.widgets.error_banner import ERROR, INFO
from hrm_studio.events import EpochEnd, Finished, Notice
from hrm_studio.runstore.run_dir import RunDir
from tests.gui.conftest import RUN_TIMEOUT_MS


def _notice(message="The run folder was written again.", kind="run_dir_recreated"):
    return Notice(kind=kind, message=message, epoch=3, run_dir="/tmp/run")


def test_a_notice_shows_in_the_status_bar_and_the_banner_in_its_info_colour(qtbot, make_window):
    window = make_window()
    with qtbot.waitSignal(window.notices.shown):
        window.controller.event.emit(_notice("Something happened, but the run goes on"))
    assert window.banner.kind == INFO
    assert window.banner.text == "Something happened, but the run goes on. Training goes on."
    assert "Something happened" in window.statusBar().currentMessage()
    assert "38, 139, 210" in window.banner.styleSheet()      # blue, not the error red
    assert QApplication.activeModalWidget() is None
    window.banner.dismiss_button.click()
    assert window.banner.kind == "" and window.banner.text == ""


def test_a_notice_never_hides_an_error_and_an_error_replaces_a_notice(qtbot, make_window):
    window = make_window()
    window.show_error("The run failed.")
    window.controller.event.emit(_notice())
    assert window.banner.kind == ERROR and window.banner.text == "The run failed."
    assert "written again" in window.statusBar().currentMessage()     # still said, in the status bar
    window.banner.clear()
    window.controller.event.emit(_notice())
    assert window.banner.kind == INFO
    window.show_error("Now it failed.")
    assert window.banner.kind == ERROR and window.banner.text == "Now it failed."
    assert "220, 50, 47" in window.banner.styleSheet()


def test_a_run_folder_deleted_mid_run_is_noticed_in_the_window_and_training_goes_on(qtbot, make_window, tiny,
                                                                                   monkeypatch):
    """The trainer writes the folder again and says so; the window shows it and keeps training."""
    from hrm_studio.training.trainer import Trainer

    real_emit = Trainer._emit

    def emit(self, event):
        real_emit(self, event)
        if isinstance(event, EpochEnd) and event.epoch == 1:   # on the training thread, between writes
            shutil.rmtree(self.run_dir.path)

    monkeypatch.setattr(Trainer, "_emit", emit)
    window = make_window(tiny(epochs=3))
    with qtbot.waitSignal(window.notices.shown, timeout=RUN_TIMEOUT_MS) as shown:
        with qtbot.waitSignal(window.controller.ended, timeout=RUN_TIMEOUT_MS) as ended:
            assert window.start()
    assert shown.args[0].kind == "run_dir_recreated"
    assert isinstance(ended.args[0], Finished) and ended.args[0].epochs_done == 3
    assert window.banner.kind == INFO and "disappeared while training" in window.banner.text
    assert [r["epoch"] for r in RunDir(window.runs_root / window.run_name).read_history()] == [1, 2, 3]


def test_a_checkpoint_that_cannot_be_saved_mid_run_is_a_notice_and_the_run_goes_on(qtbot, make_window, tiny,
                                                                                   tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    window = make_window(tiny(epochs=200))
    with qtbot.waitSignal(window.controller.event, timeout=RUN_TIMEOUT_MS,
                          check_params_cb=lambda e: isinstance(e, EpochEnd)):
        assert window.start()
    with qtbot.waitSignal(window.notices.shown, timeout=RUN_TIMEOUT_MS) as shown:
        window.save_checkpoint(blocker / "inside-a-file.pt")
    assert shown.args[0].kind == "checkpoint_not_saved"
    assert window.banner.kind == INFO and "inside-a-file" in window.banner.text
    assert window.controller.active, "a failed save must not stop the run"
    with qtbot.waitSignal(window.controller.event, timeout=RUN_TIMEOUT_MS,
                          check_params_cb=lambda e: isinstance(e, EpochEnd)):
        pass
    with qtbot.waitSignal(window.controller.ended, timeout=RUN_TIMEOUT_MS):
        window.stop()
