"""The Session without a window: what Start does with an open run, why it cannot start, and
what the window offers once its run has ended. Plain objects and run folders on disk: no
widgets, no QApplication, no torch (the checkpoints are empty files; the Session only asks
which ones exist)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hrm_studio.config import RunConfig, section_field_names
from hrm_studio.events import Failed, Finished
from hrm_studio.gui.shell.opened_run import OpenedRun
from hrm_studio.gui.shell.session import (LOCKED_FOR_RESUME, LOCKED_WHILE_TRAINING, Activity, Session, StartMode,
                                          ended_elsewhere_words)
from hrm_studio.runstore.keys import CheckpointKind, HistoryKey, RunState
from hrm_studio.runstore.owner import this_process
from hrm_studio.runstore.run_dir import RunDir

LAST, FINAL = CheckpointKind.LAST, CheckpointKind.FINAL
IDLE = Activity()


@pytest.fixture(autouse=True)
def no_qthread_left_running():
    """Replaces the GUI tests' thread guard: the Session starts no thread and needs no QApplication."""
    yield


@pytest.fixture
def config(tiny_config: RunConfig) -> RunConfig:
    return tiny_config.copy()


def with_epochs(config: RunConfig, epochs: int) -> RunConfig:
    config = config.copy()
    config.set("epochs", epochs)
    return config


def history(epochs: int) -> list[dict]:
    return [{HistoryKey.EPOCH: e, HistoryKey.LOSS: 1.0 / e} for e in range(1, epochs + 1)]


def make_run(folder: Path, config: RunConfig, epochs_done: int, kinds=(LAST, FINAL),
             state: RunState = RunState.STOPPED) -> RunDir:
    """A run folder as the trainer leaves it; "running" is written as this (live) process."""
    run = RunDir(folder).create()
    run.write_config(config.to_dict())
    run.write_history(history(epochs_done))
    for kind in kinds:
        run.checkpoint(kind).write_bytes(b"")
    run.write_status(state, **(this_process() if state == RunState.RUNNING else {}))
    return run


def opened_run(run: RunDir, config: RunConfig, epoch: int, interrupted: bool = False) -> OpenedRun:
    """What `open_run_folder` makes of a run folder with both checkpoints."""
    return OpenedRun(name=run.path.name, config=config, history=history(epoch), patterns=["copy"], source="studio",
                     checkpoint=run.existing_checkpoint(), resumable=True, run_dir=run.path, epoch=epoch,
                     resume_from=run.resume_checkpoint(), interrupted=interrupted)


@pytest.fixture
def stopped_run(tmp_path: Path, config: RunConfig) -> tuple[Session, RunDir, OpenedRun]:
    """A session that has opened a run stopped after 3 complete epochs."""
    run = make_run(tmp_path / "runs" / "copy-stopped", with_epochs(config, 10), epochs_done=3)
    session = Session(tmp_path / "runs")
    opened = opened_run(run, with_epochs(config, 3), epoch=3)
    session.open(opened)
    return session, run, opened


# ----- an opened run: continue it, or a new run from its weights ----------------------------------
def test_an_opened_run_continues_from_its_last_complete_epoch(stopped_run, config):
    session, run, opened = stopped_run
    assert session.mode is StartMode.RESUME, "continuing is what an opened run offers first"
    assert session.run_name == run.path.name and session.run_dir == run.path and session.has_model
    more = with_epochs(config, 5)
    assert session.start_blocker(more, {}, IDLE) is None
    plan = session.plan_start(more)
    assert plan.mode is StartMode.RESUME
    assert plan.run_dir == run.path, "a continued run goes on in its own folder"
    assert plan.resume_from == run.checkpoint(LAST), "the last complete epoch, not the final (maybe mid-epoch) state"
    assert plan.from_epoch == 3 and plan.init_weights is None
    assert plan.history == opened.history and plan.patterns == ["copy"]
    assert "from epoch 3" in plan.describe() and run.path.name in plan.describe()
    session.begin(plan)
    assert session.run_config is more and session.run_name == run.path.name


def test_the_opened_run_shows_its_final_weights(stopped_run):
    session, run, opened = stopped_run
    opening = session.open(opened)
    assert not opening.follow
    assert opening.source.checkpoint == run.checkpoint(FINAL)
    assert opening.source.run_dir == run.path and opening.source.config is opened.config


def test_a_new_run_from_the_opened_weights(stopped_run, config):
    session, run, _ = stopped_run
    assert session.choose(StartMode.WEIGHTS) is StartMode.WEIGHTS
    plan = session.plan_start(config)
    assert plan.mode is StartMode.WEIGHTS
    assert plan.init_weights == run.checkpoint(FINAL) and plan.resume_from is None
    assert plan.run_dir.parent == session.runs_root and plan.run_dir != run.path, "a new run gets its own folder"
    assert not plan.run_dir.exists(), "planning creates nothing"
    assert plan.history == [] and "starting from the weights" in plan.describe()
    assert session.settings_for_mode(config) is None, "a new run may change every setting"
    session.choose(StartMode.SCRATCH)
    assert session.plan_start(config).init_weights is None


def test_continuing_puts_back_the_runs_model_and_data_settings(stopped_run, config):
    session, _, opened = stopped_run
    mine = config.copy()
    mine.set("hidden_size", opened.config.model.hidden_size * 2)
    mine.set("lr", 0.0123)
    mine.set("train_size", opened.config.data.train_size + 8)
    restored = session.settings_for_mode(mine)
    assert restored.model.hidden_size == opened.config.model.hidden_size
    assert restored.data.train_size == opened.config.data.train_size
    assert restored.train.lr == 0.0123, "training settings stay the person's"
    assert mine.train.lr == 0.0123 and mine.model.hidden_size != opened.config.model.hidden_size, "not changed"


def test_weights_without_optimiser_state_start_new_runs_only(tmp_path, config):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"")
    session = Session(tmp_path / "runs")
    session.open(OpenedRun(name="model", config=config, history=[], patterns=[], source="safetensors",
                           checkpoint=weights))
    assert session.mode is StartMode.WEIGHTS
    assert session.choose(StartMode.RESUME) is StartMode.SCRATCH, "nothing to continue"
    session.choose(StartMode.WEIGHTS)
    assert session.plan_start(config).init_weights == weights


def test_new_run_forgets_the_open_run(stopped_run, config):
    session, run, _ = stopped_run
    assert session.shows(run.path) and session.shows(run.path / ".." / run.path.name)
    session.new_run()
    assert session.opened is None and session.run_dir is None and session.run_name is None
    assert session.mode is StartMode.SCRATCH and not session.has_model and not session.shows(run.path)
    assert session.plan_start(config).mode is StartMode.SCRATCH


# ----- Start blocked ----------------------------------------------------------------------------
def test_a_run_folder_another_process_still_writes_is_followed_and_not_continued(tmp_path, config):
    run = make_run(tmp_path / "runs" / "copy-elsewhere", with_epochs(config, 10), epochs_done=2,
                   state=RunState.RUNNING)
    session = Session(tmp_path / "runs")
    opening = session.open(opened_run(run, with_epochs(config, 10), epoch=2))
    assert opening.follow
    assert opening.source.checkpoint == run.checkpoint(LAST), "its latest complete epoch, not an older final state"
    blocker = session.start_blocker(with_epochs(config, 10), {}, Activity(following=opening.follow))
    assert "still being trained by another process" in blocker
    session.choose(StartMode.WEIGHTS)
    assert session.start_blocker(config, {}, Activity(following=True)) is None, "a new run from it may start"


def test_invalid_settings_block_start_with_the_first_reason(stopped_run, config):
    session, _, _ = stopped_run
    one = {"hidden_size": "hidden_size must divide evenly by num_heads."}
    assert session.start_blocker(config, one, IDLE) == ("Fix the settings marked in red first: hidden_size must "
                                                        "divide evenly by num_heads.")
    two = {**one, "lr": "lr must be above 0."}
    assert session.start_blocker(config, two, IDLE).endswith("num_heads. (and 1 more)")


@pytest.mark.parametrize("activity, words", [
    (Activity(training=True), "A run is already training."),
    (Activity(sweeping=True), "A sweep is running"),
    (Activity(files_busy=True), "Wait until the file being opened or exported is done."),
])
def test_something_already_going_blocks_start(stopped_run, config, activity, words):
    session, _, _ = stopped_run
    assert session.start_blocker(with_epochs(config, 5), {}, activity).startswith(words)


def test_continuing_needs_more_epochs_than_the_run_has(stopped_run, config):
    session, run, _ = stopped_run
    assert "raise Epochs above 3" in session.start_blocker(with_epochs(config, 3), {}, IDLE)
    assert "raise Epochs above 3" in session.start_blocker(with_epochs(config, 2), {}, IDLE)
    session.choose(StartMode.SCRATCH)
    assert session.start_blocker(with_epochs(config, 3), {}, IDLE) is None
    # An interrupted run never finished its last epoch's save: the same epoch count finishes it.
    session.open(opened_run(run, with_epochs(config, 3), epoch=3, interrupted=True))
    assert session.start_blocker(with_epochs(config, 3), {}, IDLE) is None


def test_a_sweep_is_blocked_by_a_run_or_another_sweep():
    assert Session.sweep_blocker(IDLE) is None
    assert Session.sweep_blocker(Activity(training=True)).startswith("A run is training")
    assert Session.sweep_blocker(Activity(sweeping=True)).startswith("A sweep is already running")


def test_locks_while_training_and_while_continuing(stopped_run):
    session, _, _ = stopped_run
    live = {"hidden_size": False, "stop_at_exact": True, "epochs": True}
    sections = {name: section_field_names(name) for name in ("model", "data")}
    assert session.locked_settings(True, live, sections) == ({"hidden_size", "epochs"}, LOCKED_WHILE_TRAINING)
    locked, why = session.locked_settings(False, live, sections)
    assert "hidden_size" in locked and "train_size" in locked and "lr" not in locked and why == LOCKED_FOR_RESUME
    session.choose(StartMode.WEIGHTS)
    assert session.locked_settings(False, live, sections) == (set(), "")
    assert Session.takes_live("stop_at_exact", Activity(training=True))
    assert not Session.takes_live("epochs", Activity(training=True)), "the trainer reads epochs once"
    assert not Session.takes_live("stop_at_exact", IDLE)


def test_start_claims_a_fresh_folder_and_writes_into_an_existing_run_only_to_continue_it(stopped_run, config):
    """The folder plan_start named was free then; a CLI run started in the same second may have taken it
    before Start trains. Only continuing the opened run writes into a folder that holds a run."""
    session, run, _ = stopped_run
    before = {p: p.read_bytes() for p in run.path.rglob("*") if p.is_file()}
    assert session.claim_folder(session.plan_start(with_epochs(config, 10))).run_dir == run.path    # Continue
    for mode in (StartMode.WEIGHTS, StartMode.SCRATCH):
        session.choose(mode)
        plan = session.plan_start(config)
        taken = make_run(plan.run_dir, config, epochs_done=1, state=RunState.FINISHED)   # someone else's, now
        claimed = session.claim_folder(plan)
        assert claimed.mode is mode and claimed.run_dir != taken.path and claimed.run_dir != run.path
        assert claimed.run_dir.is_dir() and list(claimed.run_dir.iterdir()) == []
        assert RunDir.holds_run(taken.path)
    assert {p: p.read_bytes() for p in run.path.rglob("*") if p.is_file()} == before


# ----- after a run ------------------------------------------------------------------------------
@pytest.fixture
def training(tmp_path: Path, config: RunConfig) -> tuple[Session, RunConfig]:
    """A session whose new run has started; the test writes what the trainer left in its folder."""
    session = Session(tmp_path / "runs")
    run_config = with_epochs(config, 10)
    plan = session.plan_start(run_config)
    assert plan.mode is StartMode.SCRATCH
    session.begin(plan)
    session.on_started(plan.run_dir)
    return session, run_config


def test_a_stopped_run_is_offered_for_continuing(training):
    session, run_config = training
    run = make_run(session.run_dir, run_config, epochs_done=2)
    ended = session.on_run_ended(Finished("stopped", 2, None, str(run.path)), history(2), ["copy"])
    assert ended.mode is StartMode.RESUME and session.mode is StartMode.RESUME
    offer = ended.offer
    assert offer is session.opened and offer.resumable and offer.epoch == 2
    assert offer.continue_from == run.checkpoint(LAST) and offer.checkpoint == run.checkpoint(FINAL)
    assert offer.history == history(2) and offer.patterns == ["copy"]
    assert ended.evaluate and ended.source.checkpoint == run.checkpoint(FINAL)
    plan = session.plan_start(with_epochs(run_config, 4))
    assert (plan.mode, plan.run_dir, plan.from_epoch) == (StartMode.RESUME, run.path, 2)


def test_a_failed_run_with_a_checkpoint_is_offered_for_continuing(training):
    session, run_config = training
    run = make_run(session.run_dir, run_config, epochs_done=3, kinds=(LAST,), state=RunState.FAILED)
    ended = session.on_run_ended(Failed("Loss became NaN", "Traceback…", 4, str(run.path)), history(3), [])
    assert ended.mode is StartMode.RESUME and session.mode is StartMode.RESUME
    assert ended.offer.checkpoint == run.checkpoint(LAST) and ended.offer.continue_from == run.checkpoint(LAST)
    assert ended.offer.epoch == 3
    assert not ended.evaluate, "after a failure the banner comes first"
    assert ended.source.checkpoint == run.checkpoint(LAST)
    assert session.plan_start(run_config).resume_from == run.checkpoint(LAST)


def test_a_failed_run_without_a_checkpoint_offers_nothing_new(training):
    session, run_config = training
    run_dir = session.run_dir
    run_dir.mkdir(parents=True)
    ended = session.on_run_ended(Failed("Training could not start", "", 0, ""), [], [])
    assert ended.offer is None and ended.mode is None
    assert session.opened is None and session.mode is StartMode.SCRATCH
    assert ended.source.checkpoint is None and ended.source.run_dir == run_dir


def test_a_finished_run_starts_a_new_run_by_default_and_can_still_be_continued(training):
    session, run_config = training
    run = make_run(session.run_dir, run_config, epochs_done=10, state=RunState.FINISHED)
    ended = session.on_run_ended(Finished("completed", 10, 0.9, str(run.path)), history(10), [])
    assert ended.mode is StartMode.SCRATCH and session.mode is StartMode.SCRATCH
    assert ended.evaluate and ended.source.checkpoint == run.checkpoint(FINAL)
    assert session.plan_start(run_config).run_dir != run.path
    assert session.choose(StartMode.RESUME) is StartMode.RESUME
    assert "raise Epochs above 10" in session.start_blocker(run_config, {}, IDLE)


def test_exports_waiting_for_a_mid_run_save(training, tmp_path):
    session, _ = training
    made, never = tmp_path / "tmp-a" / "current.pt", tmp_path / "tmp-b" / "current.pt"
    session.export_after_save(made, tmp_path / "model.safetensors", "safetensors")
    session.export_after_save(never, tmp_path / "model.pt", "pt")
    assert session.take_export(str(made)) == (tmp_path / "model.safetensors", "safetensors")
    assert session.take_export(made) is None, "taken once"
    ended = session.on_run_ended(Finished("stopped", 1, None, ""), history(1), [])
    assert ended.dropped_exports == [never.parent] and session.pending_exports == {}


def test_a_run_on_a_dataset_folder_is_named_after_the_folder_not_the_task_box(tmp_path, config):
    session = Session(tmp_path / "runs")
    config.set("dataset_dir", str(tmp_path / "data" / "maze-30x30-hard-1k") + "/")
    plan = session.claim_folder(session.plan_start(config))
    assert plan.run_dir.name.startswith("maze-30x30-hard-1k-") and plan.run_dir.is_dir()
    session.begin(plan)
    assert session.run_name.startswith("maze-30x30-hard-1k-")
    config.set("dataset_dir", "")
    assert session.plan_start(config).run_dir.name.startswith(f"{config.data.task}-")


def test_how_a_run_trained_elsewhere_ended_is_worded():
    assert ended_elsewhere_words(RunState.STOPPED) == "was stopped"
    assert ended_elsewhere_words("interrupted").startswith("ended without finishing")
    assert ended_elsewhere_words("something new") == "something new"


SESSION_ALONE = """
import sys, types
from pathlib import Path
import hrm_studio
gui = types.ModuleType("hrm_studio.gui")   # its __init__ installs a Qt guard for the window: skip it
gui.__path__ = [str(Path(hrm_studio.__file__).parent / "gui")]
sys.modules["hrm_studio.gui"] = gui
import hrm_studio.gui.shell.session
print(sorted(m for m in ("torch", "safetensors", "PySide6", "shiboken6", "pyqtgraph") if m in sys.modules))
"""


def test_the_session_imports_neither_qt_nor_torch():
    done = subprocess.run([sys.executable, "-c", SESSION_ALONE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
