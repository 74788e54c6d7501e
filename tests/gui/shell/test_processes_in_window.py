"""A run over two processes started from the window: followed live through its run folder, and
Stop ends every rank (no process is left)."""

from __future__ import annotations

import sys

import pytest

from hrm_studio.events import EpochEnd, Finished, Started
from hrm_studio.gui.shell.process_group_worker import ProcessGroupWorker, _alive, child_pids
from hrm_studio.gui.shell.run_controller import IDLE
from tests.gui.conftest import RUN_TIMEOUT_MS

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the ranks")


def test_two_processes_are_followed_live_and_stop_ends_every_rank(qtbot, make_window, tiny):
    window = make_window(tiny(epochs=10_000, processes=2, batch_size=8, train_size=16, test_size=4,
                              tensorboard=False, device="cpu"))
    assert window.settings.editor("processes") is not None   # a Run setting of its own
    with qtbot.waitSignal(window.controller.event, timeout=RUN_TIMEOUT_MS,
                          check_params_cb=lambda e: isinstance(e, Started)):
        assert window.start(), window.start_blocker()
    worker = window.controller.worker
    assert isinstance(worker, ProcessGroupWorker)
    assert window.run_status.device_label.text() == "on 2 processes"
    with qtbot.waitSignal(window.controller.event, timeout=RUN_TIMEOUT_MS,
                          check_params_cb=lambda e: isinstance(e, EpochEnd) and e.epoch == 2):
        pass   # the history arrives from the folder the ranks write
    qtbot.waitUntil(lambda: len(window.dashboard.rows()) >= 2, timeout=RUN_TIMEOUT_MS)
    launcher = worker.process.pid
    ranks = sorted(set(worker.ranks) | set(child_pids(launcher)))
    assert len(ranks) == 2
    with qtbot.waitSignal(window.controller.ended, timeout=RUN_TIMEOUT_MS) as ended:
        window.stop()
    assert isinstance(ended.args[0], Finished) and ended.args[0].reason == "stopped"
    assert window.controller.state == IDLE
    assert not any(_alive(pid) for pid in [launcher, *ranks]), "a process of the run was left running"
