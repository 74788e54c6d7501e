"""JobRunner: work runs off the GUI thread, and its result or error comes back on it, once, as
plain Python objects (the same objects, not copies); the runner keeps nothing of a finished job."""

from __future__ import annotations

import threading
import weakref
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QThread

from hrm_studio.errors import UserError
from hrm_studio.gui.widgets.background import JobError, JobRunner


@pytest.fixture
def runner(qtbot: Any) -> Any:
    jobs = JobRunner()
    yield jobs
    assert jobs.shutdown(10_000)


def _finish(qtbot: Any, runner: JobRunner) -> None:
    if runner.busy:
        with qtbot.waitSignal(runner.busy_changed, timeout=10_000) as blocker:
            pass
        assert blocker.args == [False]


def test_a_result_comes_back_on_the_gui_thread_from_a_worker_thread(qtbot, runner) -> None:
    gui = threading.get_ident()
    result = {"rows": [1, 2, 3]}
    seen: dict[str, Any] = {}

    def work() -> dict:
        seen["work_thread"] = threading.get_ident()
        return result

    def done(value: Any) -> None:
        seen["value"], seen["callback_thread"] = value, threading.get_ident()

    with qtbot.waitSignal(runner.busy_changed) as started:
        runner.submit(work, done, lambda error: seen.setdefault("error", error))
    assert started.args == [True] and runner.busy
    _finish(qtbot, runner)
    assert seen["value"] is result  # the very object: nothing is copied across threads
    assert seen["work_thread"] != gui and seen["callback_thread"] == gui
    assert "error" not in seen and not runner.busy


def test_a_user_error_reads_as_its_sentence_and_a_bug_brings_its_traceback(qtbot, runner) -> None:
    errors: list[JobError] = []

    def refuse() -> None:
        raise UserError("That checkpoint is not a HRM Studio model.")

    def crash() -> None:
        raise KeyError("weights")

    runner.submit(refuse, lambda _: pytest.fail("a failed job reported success"), errors.append)
    runner.submit(crash, lambda _: pytest.fail("a failed job reported success"), errors.append)
    qtbot.waitUntil(lambda: len(errors) == 2, timeout=10_000)
    by_message = {e.message: e for e in errors}
    assert by_message["That checkpoint is not a HRM Studio model."].details == ""
    bug = by_message["KeyError: 'weights'"]
    assert "Traceback" in bug.details and "crash" in bug.details


def test_many_jobs_each_call_back_once_with_their_own_result(qtbot, runner) -> None:
    results: list[int] = []
    busy: list[bool] = []
    runner.busy_changed.connect(busy.append)
    for n in range(12):
        runner.submit(lambda n=n: n * n, results.append, lambda e: pytest.fail(e.message))
    qtbot.waitUntil(lambda: len(results) == 12 and not runner.busy, timeout=20_000)
    assert sorted(results) == [n * n for n in range(12)]
    assert busy[0] is True and busy[-1] is False


def test_a_finished_job_leaves_nothing_behind(qtbot, runner) -> None:
    class Payload:
        pass

    captured = Payload()
    ref = weakref.ref(captured)
    done: list[Any] = []
    runner.submit(lambda captured=captured: "ok", done.append, lambda e: pytest.fail(e.message))
    del captured
    qtbot.waitUntil(lambda: done == ["ok"], timeout=10_000)
    assert ref() is None  # the work and what it captured were let go
    assert not runner.busy


def test_wait_blocks_until_the_work_has_ended_and_shutdown_drops_the_callbacks(qtbot) -> None:
    runner = JobRunner()
    release = threading.Event()
    calls: list[Any] = []
    runner.submit(lambda: release.wait(10) and "late", calls.append, calls.append)
    assert not runner.wait(50)  # still running
    release.set()
    assert runner.wait(10_000)
    assert runner.shutdown(10_000) and not runner.busy
    QCoreApplication.processEvents()  # the thread's queued `finished` is delivered here: it calls nothing
    assert calls == []
    assert all(not isinstance(t, QThread) or t.isFinished() for t in runner.children())
