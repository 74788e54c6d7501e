"""ModelJobs: one question at a time; a newer question in a lane replaces the waiting one and drops the
running one's answer; nothing runs while blocked."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from hrm_studio.config import RunConfig
from hrm_studio.gui.inspector.model_jobs import ModelJobs
from hrm_studio.gui.predictions.prediction_jobs import PredictionSource


def test_the_latest_question_of_a_lane_wins(qtbot: Any) -> None:
    jobs = ModelJobs()
    jobs.source = lambda: PredictionSource(Path("model.pt"), RunConfig())
    jobs._model_for = lambda source: "model"   # no weights needed to test the queue
    release = threading.Event()
    ran: list[str] = []
    answers: list[str] = []

    def question(name: str, wait: bool = False) -> Any:
        def ask(model: str) -> str:
            ran.append(name)
            if wait:
                release.wait(10)
            return name
        return ask

    assert jobs.ask("editor", question("first", wait=True), answers.append)
    assert jobs.ask("editor", question("second"), answers.append)
    assert jobs.ask("editor", question("third"), answers.append)   # replaces "second", still waiting
    assert jobs.ask("other", question("elsewhere"), answers.append)
    release.set()
    qtbot.waitUntil(lambda: not jobs.busy, timeout=10_000)
    assert answers == ["third", "elsewhere"] or answers == ["elsewhere", "third"]
    assert "second" not in ran and jobs.superseded == 1
    jobs.blocked = "A run is training."
    failures: list[str] = []
    jobs.failed.connect(failures.append)
    assert not jobs.ask("editor", question("blocked"), answers.append) and failures == ["A run is training."]
    jobs.shutdown()
