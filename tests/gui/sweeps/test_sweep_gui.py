"""The sweep dialog, queue and live results table, driven from code (no modal dialogs, no sleeps)."""

from __future__ import annotations

import json

from hrm_studio.events import EpochEnd, Started
from hrm_studio.training.sweep import RunEvent
from tests.gui.conftest import RUN_TIMEOUT_MS


def test_the_dialog_shows_the_run_count_and_estimate_and_refuses_bad_values(make_window, tiny):
    window = make_window(tiny())
    dialog = window.new_sweep()
    assert dialog.isVisible() and not dialog.isModal()
    dialog.set_axis(0, "lr", "1e-4,1e-3")
    dialog.add_axis("hidden_size", "32,64")
    assert dialog.problem() is None and dialog.start_button.isEnabled()
    assert "4 runs" in dialog.summary.text() and "about" in dialog.summary.text()
    dialog.add_axis("num_heads", "3")
    assert not dialog.start_button.isEnabled()
    assert dialog.error.text().startswith("Run 1 of 4 (lr=0.0001, hidden_size=32, num_heads=3) is not valid")
    dialog.remove_axis(2)
    dialog.set_axis(1, "hidden_size", "32..64")
    assert "hidden_size: a range (32..64) needs random draws" in dialog.error.text()
    dialog.set_random(5, seed=3)
    assert dialog.problem() is None and "5 runs" in dialog.summary.text()
    assert [len(dialog.spec().points())] == [5]
    dialog.load_preset("seed-grid")
    assert [r.text() for r in dialog.axis_rows] == ["lr=1e-4,5e-4,1e-3", "hidden_size=128,256", "batch_size=4,8"]
    assert dialog.grid_button.isChecked() and "12 runs" in dialog.summary.text()
    assert dialog.base.data.encoding == "canvas"  # the seed's task
    dialog.close()


def test_a_two_by_two_sweep_fills_the_results_table(make_window, tiny, qtbot, tmp_path):
    window = make_window(tiny(epochs=1))
    dialog = window.new_sweep()
    dialog.set_axis(0, "lr", "1e-4,1e-3")
    dialog.add_axis("hidden_size", "32,64")
    dialog.name.setText("sweep-2x2")
    with qtbot.waitSignal(window.sweeps.ended, timeout=RUN_TIMEOUT_MS) as ended:
        assert dialog.start()
        assert window.start_blocker().startswith("A sweep is running")
        assert not window.commands.start.isEnabled() and not window.commands.new_sweep.isEnabled()
        assert window.sweep_dock.isVisible()
    assert ended.args[0].stopped is False
    panel = window.sweep_panel
    assert panel.table.rowCount() == 4
    assert [panel.cell(i, "Status") for i in range(4)] == ["finished"] * 4
    assert [(panel.cell(i, "lr"), panel.cell(i, "hidden_size")) for i in range(4)] == [
        ("0.0001", "32"), ("0.0001", "64"), ("0.001", "32"), ("0.001", "64")]
    sweep_dir = tmp_path / "runs" / "sweep-2x2"
    summary = json.loads((sweep_dir / "sweep.json").read_text())
    for i, row in enumerate(summary["rows"]):
        history = json.loads((sweep_dir / row["run_dir"] / "history.json").read_text())
        assert row["epochs_done"] == len(history) == int(panel.cell(i, "Epochs"))
        assert panel.cell(i, "Best held-out exact") == f"{100 * history[-1]['val_exact_match_accuracy']:.1f}%"
    assert window.start_blocker() is None and window.commands.new_sweep.isEnabled()
    with qtbot.waitSignal(window.opened, timeout=RUN_TIMEOUT_MS) as opened:
        panel.table.cellDoubleClicked.emit(3, 0)  # a sweep run is an ordinary run folder
    assert opened.args[0].run_dir == sweep_dir / summary["rows"][3]["run_dir"]


def _is_epoch_of_run(index):
    return lambda e: isinstance(e, RunEvent) and e.index == index and isinstance(e.event, EpochEnd)


def test_cancel_mid_sweep_keeps_the_finished_runs(make_window, tiny, qtbot, tmp_path):
    window = make_window(tiny())
    dialog = window.new_sweep()
    dialog.set_axis(0, "epochs", "1,40,41")
    dialog.name.setText("sweep-cancel")
    with qtbot.waitSignal(window.sweeps.event, timeout=RUN_TIMEOUT_MS, check_params_cb=_is_epoch_of_run(2)):
        assert dialog.start()
    with qtbot.waitSignal(window.sweeps.ended, timeout=RUN_TIMEOUT_MS):
        window.sweep_panel.cancel_button.click()
    panel = window.sweep_panel
    assert [panel.cell(i, "Status") for i in range(3)] == ["finished", "stopped", "skipped"]
    assert "cancelled" in panel.progress.text()
    sweep_dir = tmp_path / "runs" / "sweep-cancel"
    summary = json.loads((sweep_dir / "sweep.json").read_text())
    assert summary["state"] == "stopped"
    assert [r["status"] for r in summary["rows"]] == ["finished", "stopped", "skipped"]
    first = json.loads((sweep_dir / summary["rows"][0]["run_dir"] / "history.json").read_text())
    assert len(first) == summary["rows"][0]["epochs_done"] == 1
    assert 1 <= summary["rows"][1]["epochs_done"] < 40
    assert not (sweep_dir / summary["rows"][2]["run_dir"]).exists()


def test_closing_the_window_mid_sweep_stops_it_cleanly(make_window, tiny, qtbot, tmp_path):
    window = make_window(tiny())
    dialog = window.new_sweep()
    dialog.set_axis(0, "epochs", "40,41")
    dialog.name.setText("sweep-close")
    with qtbot.waitSignal(window.sweeps.event, timeout=RUN_TIMEOUT_MS,
                          check_params_cb=lambda e: isinstance(e, RunEvent) and isinstance(e.event, Started)):
        assert dialog.start()
    window.close()
    assert not window.sweeps.active
    summary = json.loads((tmp_path / "runs" / "sweep-close" / "sweep.json").read_text())
    assert [r["status"] for r in summary["rows"]] == ["stopped", "skipped"]
