"""The window writes into an existing run only to continue it: a new run never lands in a run folder, an export
never replaces a file the person did not name, and predictions are not saved into a run another process trains."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hrm_studio.config import RunConfig
from hrm_studio.events import Finished
from hrm_studio.gui.predictions.prediction_jobs import PredictionSource, evaluate_split
from hrm_studio.runstore.keys import CheckpointKind, RunState
from hrm_studio.runstore.owner import this_process
from hrm_studio.runstore.run_dir import RunDir
from hrm_studio.training.trainer import Trainer
from tests.conftest import TINY_SETTINGS
from tests.gui.conftest import RUN_TIMEOUT_MS, train


def files_of(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def finished_template(tmp_path_factory) -> Path:
    """One finished 1-epoch tiny run for the module: trained once, copied by each test that uses it."""
    config = RunConfig.from_dict(TINY_SETTINGS)
    config.train.epochs = 1
    folder = tmp_path_factory.mktemp("template") / "finished-run"
    Trainer(config, folder).fit()
    return folder


@pytest.fixture
def tiny_run(finished_template, tmp_path) -> Path:
    """This test's own copy of the finished run (the tests change it, or must find it unchanged)."""
    return Path(shutil.copytree(finished_template, tmp_path / "elsewhere" / "finished-run"))


def test_a_new_run_never_lands_in_a_run_folder_taken_after_start_picked_its_name(qtbot, make_window, tiny,
                                                                                tiny_run, monkeypatch):
    """A CLI run started in the same second takes the folder name the window planned, before the window's
    trainer opens it: the window trains into a fresh folder instead, and the other run is untouched."""
    window = make_window(tiny(epochs=1))
    taken: list[Path] = []
    plan_start = window.session.plan_start

    def plan_then_lose_the_race(config):
        plan = plan_start(config)
        taken.append(Path(shutil.copytree(tiny_run, plan.run_dir)))
        return plan
    monkeypatch.setattr(window.session, "plan_start", plan_then_lose_the_race)
    before = files_of(tiny_run)
    last = train(qtbot, window)
    assert isinstance(last, Finished) and last.epochs_done == 1
    assert len(taken) == 1 and window.session.run_dir != taken[0]
    assert RunDir.holds_run(window.session.run_dir)
    assert {p.relative_to(taken[0]): b for p, b in files_of(taken[0]).items()} == \
        {p.relative_to(tiny_run): b for p, b in before.items()}


def test_exports_refuse_to_replace_files_nobody_named(qtbot, make_window, tiny_run, tmp_path):
    window = make_window()
    with qtbot.waitSignal(window.opened, timeout=RUN_TIMEOUT_MS):
        window.open_run_folder(tiny_run)
    before = files_of(tiny_run)
    run = RunDir(tiny_run)
    attempts = [
        # .safetensors writes its config JSON beside it: here that would be the run's own config.json
        (lambda: window.export_model(tiny_run / "config.safetensors", "safetensors"), "config.json"),
        # an official export fills a folder: this one holds a run
        (lambda: window.export_model(tiny_run, "hrm"), "not empty"),
        # "best" gains ".pt": the run's best checkpoint, a name nobody typed
        (lambda: window.save_checkpoint(run.checkpoints / "best"), "best.pt"),
    ]
    for attempt, named in attempts:
        with qtbot.waitSignal(window.error_shown) as shown:
            attempt()
        assert "Nothing was written" in shown.args[0] and named in shown.args[0]
    assert not window.jobs.busy and files_of(tiny_run) == before
    with qtbot.waitSignal(window.saved, timeout=RUN_TIMEOUT_MS) as saved:   # a file named in full is replaced
        window.save_checkpoint(tmp_path / "copy.pt")
    assert saved.args[0] == [tmp_path / "copy.pt"]


def test_a_name_the_dialog_did_not_ask_about_is_replaced_only_after_a_yes(make_window, tmp_path):
    """The save dialog asks before replacing the typed name; the name with its extension added is asked here."""
    prompts = make_window().prompts
    existing = tmp_path / "plots.png"
    existing.write_bytes(b"keep")
    asked: list[str] = []
    prompts.confirm = lambda title, question: asked.append(question) or False
    assert prompts.extended(str(tmp_path / "plots"), existing) is None and "plots.png already exists" in asked[0]
    assert prompts.extended(str(existing), existing) == existing and len(asked) == 1   # typed in full: the dialog asked
    assert prompts.extended(str(tmp_path / "new"), tmp_path / "new.png") == tmp_path / "new.png"   # nothing there
    prompts.confirm = lambda title, question: True
    assert prompts.extended(str(tmp_path / "plots"), existing) == existing


def test_predictions_are_not_saved_into_a_run_another_process_trains(tiny_run):
    run = RunDir(tiny_run)
    source = PredictionSource(run.checkpoint(CheckpointKind.FINAL), RunConfig.from_dict(run.read_config()), tiny_run)
    status = run.read_status()
    run.predictions_path("test").unlink()                           # the trainer saved its own at the end
    run.write_status(RunState.RUNNING, **this_process())          # as a live trainer of that run writes it
    assert evaluate_split(source, "test", lambda done, total: None, lambda: False) is not None
    assert not run.predictions_path("test").exists()
    run.write_status(RunState(status["state"]))
    evaluate_split(source, "test", lambda done, total: None, lambda: False)
    assert run.predictions_path("test").is_file()
