"""Opening a run that a headless `hrm-studio train` is still writing: the plots grow as its epochs land,
its latest checkpoint is what the Predictions tab evaluates, and following stops when it ends."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tests.gui.runs.test_runs_library import CLI_TIMEOUT_MS, cli_train


def _running(folder: Path) -> bool:
    try:
        status = json.loads((folder / "status.json").read_text())
    except (OSError, ValueError):
        return False
    return status.get("state") == "running" and (folder / "checkpoints" / "last.pt").exists()


def test_following_a_cli_run_grows_the_plots_until_it_ends(qtbot, make_window, tmp_path):
    folder = tmp_path / "runs" / "headless"
    process = cli_train(folder, "--set", "epochs=400")
    try:
        qtbot.waitUntil(lambda: _running(folder) or process.poll() is not None, timeout=CLI_TIMEOUT_MS)
        assert process.poll() is None, process.stderr.read().decode()
        window = make_window()
        window.open_run_folder(folder)
        qtbot.waitUntil(lambda: window.following.active, timeout=CLI_TIMEOUT_MS)
        assert "training elsewhere" in window.windowTitle()
        assert window.prediction_jobs.source.checkpoint == folder / "checkpoints" / "last.pt"
        window.start_choice.set_mode("resume")      # continuing it here too would write the same folder twice
        assert "another process" in (window.start_blocker() or "")
        window.start_choice.set_mode("scratch")
        loss = window.dashboard.curve("val_loss")

        def drawn() -> int:
            window.dashboard.flush()
            return len(loss.xData) if loss.xData is not None else 0

        qtbot.waitUntil(lambda: drawn() >= 2, timeout=CLI_TIMEOUT_MS)
        first = drawn()
        qtbot.waitUntil(lambda: drawn() >= first + 2, timeout=CLI_TIMEOUT_MS)
        assert window.following.active and process.poll() is None   # it grew while the other process ran
        process.send_signal(signal.SIGINT)                            # Ctrl+C: the CLI stops after this step
        qtbot.waitUntil(lambda: process.poll() is not None, timeout=CLI_TIMEOUT_MS)
        qtbot.waitUntil(lambda: not window.following.active, timeout=10_000)
        # Reopened as a stopped run: its whole history, from the file.
        qtbot.waitUntil(lambda: not window.jobs.busy and "training elsewhere" not in window.windowTitle(),
                        timeout=CLI_TIMEOUT_MS)
        on_disk = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
        assert [r["epoch"] for r in window.dashboard.rows()] == [r["epoch"] for r in on_disk]
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stderr.close()
