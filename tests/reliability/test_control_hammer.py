"""start / stop / pause / resume / checkpoint from another thread, in any order.

Never a deadlock, never a thread left running, never a damaged run: after the storm the
run folder loads and resumes to the same end as a run nobody touched.
"""

from __future__ import annotations

import random
import threading
import time

import pytest
import torch

from hrm_studio.events import CheckpointSaved, Failed
from hrm_studio.runstore.run_dir import RunDir
from hrm_studio.training.trainer import Trainer, TrainingError, comparable
from tests.reliability.helpers import tiny

EPOCHS = 4


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    run = tmp_path_factory.mktemp("straight") / "run"
    Trainer(tiny(EPOCHS), run).fit()
    return RunDir(run).read_history()


class Runner:
    """fit() on a background thread, keeping its result or exception."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer, self.result, self.error = trainer, None, None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.result = self.trainer.fit()
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            self.error = exc


def _random_call(trainer: Trainer, rng: random.Random, folder, stop_weight: float) -> str:
    action = rng.choices(["pause", "resume", "checkpoint", "stop", "paused?"],
                         weights=[30, 30, 8, stop_weight, 5])[0]
    if action == "pause":
        trainer.pause()
    elif action == "resume":
        trainer.resume()
    elif action == "checkpoint":
        trainer.request_checkpoint(folder / f"manual-{rng.randrange(10**6)}.pt")
    elif action == "stop":
        trainer.stop()
    else:
        _ = trainer.paused
    return action


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_random_control_calls_never_deadlock_leak_a_thread_or_damage_the_run(tmp_path, straight, seed):
    rng = random.Random(seed)
    run = tmp_path / "run"
    saved: list[str] = []
    failed: list = []

    def on_event(event):
        if isinstance(event, CheckpointSaved) and event.kind == "manual":
            saved.append(event.path)
        if isinstance(event, Failed):
            failed.append(event)

    threads_before = set(threading.enumerate())
    trainer = Trainer(tiny(EPOCHS), run, on_event)
    calls = [_random_call(trainer, rng, tmp_path, stop_weight=0) for _ in range(rng.randint(0, 4))]  # before start
    runner = Runner(trainer)
    runner.thread.start()
    for _ in range(150):
        calls.append(_random_call(trainer, rng, tmp_path, stop_weight=0.6))
        time.sleep(rng.uniform(0.0, 0.006))
    trainer.stop()
    runner.thread.join(60)
    assert not runner.thread.is_alive(), f"fit() did not return after stop(); calls: {calls[-10:]}"
    for _ in range(20):  # calls after the run ended are harmless
        _random_call(trainer, rng, tmp_path, stop_weight=5)
    assert runner.error is None and not failed, runner.error
    assert runner.result.reason in ("completed", "stopped")
    assert set(threading.enumerate()) == threads_before  # nothing left running

    history = RunDir(run).read_history()
    assert [r["epoch"] for r in history] == list(range(1, len(history) + 1))
    assert comparable(history) == comparable(straight[: len(history)])
    assert RunDir(run).read_status()["state"] in ("finished", "stopped")
    for path in [run / "checkpoints" / "final.pt", *saved]:
        torch.load(path, weights_only=True)
    resumed = Trainer(tiny(EPOCHS), run)
    resumed.resume_from(run)
    resumed.fit()
    assert comparable(RunDir(run).read_history()) == comparable(straight)


def test_a_stop_wins_over_a_later_pause(tmp_path):
    trainer = Trainer(tiny(EPOCHS), tmp_path / "run")
    runner = Runner(trainer)
    trainer.pause()
    runner.thread.start()
    time.sleep(0.2)
    trainer.stop()
    trainer.pause()  # arrives after the stop: must not hold the run forever
    runner.thread.join(60)
    assert not runner.thread.is_alive() and runner.error is None
    assert runner.result.reason == "stopped"


def test_the_pause_wait_ends_on_stop_even_if_a_pause_sneaks_in_between(tmp_path):
    """The race: stop() sets both flags, then a pause() from a third thread clears 'unpaused'."""
    trainer = Trainer(tiny(EPOCHS), tmp_path / "run")
    runner = Runner(trainer)
    trainer.pause()
    runner.thread.start()
    time.sleep(0.2)
    trainer._stop.set()  # what stop() does first …
    trainer._unpaused.clear()  # … and a pause landing before its second half
    runner.thread.join(60)
    assert not runner.thread.is_alive()


def test_a_second_fit_while_the_first_runs_is_refused_and_the_first_is_unharmed(tmp_path, straight):
    trainer = Trainer(tiny(EPOCHS), tmp_path / "run")
    runner = Runner(trainer)
    trainer.pause()
    runner.thread.start()
    time.sleep(0.2)
    with pytest.raises(TrainingError, match="already training"):
        trainer.fit()
    trainer.resume()
    runner.thread.join(60)
    assert runner.error is None and runner.result.reason == "completed"
    assert comparable(RunDir(tmp_path / "run").read_history()) == comparable(straight)


def test_stop_before_start_saves_a_resumable_epoch_zero(tmp_path, straight):
    run = tmp_path / "run"
    trainer = Trainer(tiny(EPOCHS), run)
    trainer.stop()
    result = trainer.fit()
    assert result.reason == "stopped" and result.history == []
    again = Trainer(tiny(EPOCHS), run)
    again.resume_from(run)  # last.pt of epoch 0: the starting point
    again.fit()
    assert comparable(RunDir(run).read_history()) == comparable(straight)
