"""The Session: what the window knows about the run it shows, and what Start will do with it.

No Qt and no torch: the window holds the widgets and asks the Session for every decision —
whether Start may run and why not, what it starts (a new run, a run continued from its last
complete epoch, a new run from opened weights), what to offer once a run has ended, which
weights the Predictions tab evaluates, and which model exports wait for a mid-run save.
So those rules are tested with plain objects, without a window.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Iterable, Mapping

from hrm_studio.config import RunConfig
from hrm_studio.events import Failed, Finished
from hrm_studio.gui.shell.opened_run import OpenedRun
from hrm_studio.runstore.keys import CheckpointKind, RunState
from hrm_studio.runstore.run_dir import RunDir, claim_new_run_dir, free_run_dir, run_name_stem
from hrm_studio.gui.widgets.words import count

# `live` settings the Trainer cannot take mid-run yet: its epoch loop reads `epochs` once.
NOT_LIVE_YET = frozenset({"epochs"})
LOCKED_WHILE_TRAINING = "Locked while training: stop the run to change it."
LOCKED_FOR_RESUME = ("Locked: continuing a run keeps its model and data settings. Choose a new run to "
                     "change them.")
# The settings sections a continued run keeps from the run itself.
RUN_SECTIONS = ("model", "data")
ENDED_ELSEWHERE_WORDS = {RunState.FINISHED: "finished", RunState.STOPPED: "was stopped",
                         RunState.FAILED: "failed",
                         RunState.INTERRUPTED: "ended without finishing (its process is gone)"}


class StartMode(StrEnum):
    """What Start does with an open checkpoint or run."""

    RESUME = "resume"     # continue the run in its own folder, optimiser state and history included
    WEIGHTS = "weights"   # a new run (new folder, fresh optimiser) whose model starts from the opened weights
    SCRATCH = "scratch"   # a new run with freshly initialised weights


def available_modes(opened: OpenedRun | None) -> set[StartMode]:
    """The start modes `opened` allows: continuing needs a resumable checkpoint, weights need weights."""
    modes = {StartMode.SCRATCH}
    if opened is not None and opened.resumable:
        modes.add(StartMode.RESUME)
    if opened is not None and opened.checkpoint is not None:
        modes.add(StartMode.WEIGHTS)
    return modes


def default_mode(opened: OpenedRun | None) -> StartMode:
    """Continue what can be continued, else build on its weights, else start afresh."""
    modes = available_modes(opened)
    return next(m for m in (StartMode.RESUME, StartMode.WEIGHTS, StartMode.SCRATCH) if m in modes)


@dataclass(frozen=True)
class Activity:
    """What else the window is doing right now; each one can keep Start from running."""

    training: bool = False     # a run of this window is going (starting, running, paused or stopping)
    sweeping: bool = False     # a sweep's runs are training
    files_busy: bool = False   # a file is being opened or exported
    following: bool = False    # the open run folder is still being written by another process


@dataclass(frozen=True)
class ModelSource:
    """Weights to evaluate, with the settings they were trained with and their run folder."""

    checkpoint: Path | None
    config: RunConfig
    run_dir: Path | None = None


@dataclass(frozen=True)
class StartPlan:
    """What Start does: which settings, which folder, from which checkpoint."""

    mode: StartMode
    config: RunConfig
    run_dir: Path
    resume_from: Path | None = None    # RESUME: the checkpoint of the last complete epoch
    init_weights: Path | None = None   # WEIGHTS: the weights the new model starts with
    from_epoch: int = 0                # RESUME: the epoch the run goes on from
    history: list[dict[str, Any]] = field(default_factory=list)   # RESUME: the curves the plots keep
    patterns: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.mode is StartMode.RESUME:
            return f"Continue {self.run_dir.name} from epoch {self.from_epoch}."
        if self.mode is StartMode.WEIGHTS and self.init_weights is not None:
            return f"New run {self.run_dir.name} starting from the weights in {self.init_weights.name}."
        return f"New run {self.run_dir.name} from scratch."


@dataclass(frozen=True)
class Opening:
    """What the window does with a checkpoint or run folder it has just opened."""

    follow: bool          # another process still trains it: follow its history as it grows
    source: ModelSource   # the weights the Predictions tab shows


@dataclass(frozen=True)
class RunEnded:
    """What the window offers once its run has ended."""

    offer: OpenedRun | None          # the run as Start now sees it; None: the choice stays as it was
    mode: StartMode | None           # the Start choice selected with `offer`
    source: ModelSource | None       # the weights the Predictions tab evaluates from now on
    evaluate: bool                   # evaluate them at once (not after a failure: the banner comes first)
    dropped_exports: list[Path] = field(default_factory=list)   # temporary folders of exports never made


@dataclass
class Session:
    """The window's state apart from its widgets: the open run and what Start will do."""

    runs_root: Path
    opened: OpenedRun | None = None       # the open checkpoint or ended run: what Start continues, exports use
    run_name: str | None = None
    run_dir: Path | None = None           # the run folder shown (being trained, or opened)
    run_config: RunConfig | None = None   # the settings it was trained with
    mode: StartMode = StartMode.SCRATCH
    pending_exports: dict[str, tuple[Path, str]] = field(default_factory=dict)   # temp checkpoint → (out, fmt)

    # ----- opening and forgetting --------------------------------------------------------------
    def open(self, opened: OpenedRun) -> Opening:
        """Show `opened`; a run folder still being written is followed and shows its last complete epoch."""
        self.opened, self.run_name, self.run_dir, self.run_config = opened, opened.name, opened.run_dir, opened.config
        self.mode = default_mode(opened)
        checkpoint = opened.checkpoint
        follow = opened.run_dir is not None and RunDir(opened.run_dir).state() == RunState.RUNNING
        if follow:
            # Its last complete epoch is newer than a final checkpoint an earlier session left.
            checkpoint = RunDir(opened.run_dir).existing_checkpoint(CheckpointKind.LAST) or checkpoint
        return Opening(follow=follow, source=ModelSource(checkpoint, opened.config, opened.run_dir))

    def new_run(self) -> None:
        """Forget the open run: Start begins a new one from scratch."""
        self.opened = self.run_name = self.run_dir = self.run_config = None
        self.mode = StartMode.SCRATCH

    def choose(self, mode: str) -> StartMode:
        """Select what Start does; a mode the open run does not allow falls back to a new run."""
        chosen = StartMode(mode)
        self.mode = chosen if chosen in available_modes(self.opened) else StartMode.SCRATCH
        return self.mode

    def shows(self, path: Path) -> bool:
        """Whether `path` is the run folder on view."""
        return self.run_dir is not None and self.run_dir.resolve() == Path(path).resolve()

    @property
    def has_model(self) -> bool:
        """Whether there are weights to save or export without a run going."""
        return self.opened is not None and self.opened.checkpoint is not None

    # ----- what Start does, and why it cannot -------------------------------------------------
    def start_blocker(self, config: RunConfig, problems: Mapping[str, str], activity: Activity) -> str | None:
        """Why Start cannot run now, in one sentence; None when it can."""
        if activity.training:
            return "A run is already training."
        if activity.sweeping:
            return "A sweep is running: cancel it in the Sweep panel, or wait until its runs are done."
        if activity.files_busy:
            return "Wait until the file being opened or exported is done."
        if problems:
            reason = next(iter(problems.values()))
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            return f"Fix the settings marked in red first: {reason}{more}"
        opened = self.opened
        if self.mode is StartMode.RESUME and activity.following:
            return ("This run is still being trained by another process: wait until it finishes (the plots "
                    "follow it), or choose a new run.")
        if self.mode is StartMode.RESUME and opened is not None:
            epochs = config.train.epochs
            if epochs < opened.epoch or (epochs == opened.epoch and not opened.interrupted):
                return (f"This run already has {count(opened.epoch, 'epoch')}: raise Epochs above {opened.epoch} to "
                        f"continue it, or start a new run.")
        return None

    @staticmethod
    def sweep_blocker(activity: Activity) -> str | None:
        """Why a sweep cannot start now, in one sentence; None when it can."""
        if activity.training:
            return "A run is training: stop it before starting a sweep."
        if activity.sweeping:
            return "A sweep is already running: cancel it first, or wait until it is done."
        return None

    def plan_start(self, config: RunConfig) -> StartPlan:
        """What Start would do with `config` now (nothing is created)."""
        opened = self.opened
        if self.mode is StartMode.RESUME and opened is not None and opened.continue_from is not None:
            run_dir = opened.run_dir or free_run_dir(self.runs_root, name_stem(config))
            return StartPlan(StartMode.RESUME, config, run_dir, resume_from=opened.continue_from,
                             from_epoch=opened.epoch, history=opened.history, patterns=opened.patterns)
        run_dir = free_run_dir(self.runs_root, name_stem(config))
        if self.mode is StartMode.WEIGHTS and opened is not None and opened.checkpoint is not None:
            return StartPlan(StartMode.WEIGHTS, config, run_dir, init_weights=opened.checkpoint)
        return StartPlan(StartMode.SCRATCH, config, run_dir)

    def claim_folder(self, plan: StartPlan) -> StartPlan:
        """`plan` with its folder created now, so that nothing else writes there.

        Why: the name `plan_start` picked was free then, but a CLI run or a sweep started in the
        same second may have taken it since; `claim_new_run_dir` creates a fresh folder with an
        atomic mkdir. The one folder Start writes into as it is: the opened run's own, when
        continuing it."""
        opened = self.opened
        if (plan.mode is StartMode.RESUME and opened is not None and opened.run_dir is not None
                and plan.run_dir == opened.run_dir):
            return plan
        return replace(plan, run_dir=claim_new_run_dir(self.runs_root, name_stem(plan.config)))

    def begin(self, plan: StartPlan) -> None:
        """Start was pressed: the window now shows the run `plan` trains."""
        self.run_config, self.run_dir, self.run_name = plan.config, plan.run_dir, plan.run_dir.name

    def on_started(self, run_dir: str | Path) -> None:
        """The trainer says where it writes (the folder it claimed)."""
        self.run_dir = Path(run_dir)
        self.run_name = self.run_dir.name

    def settings_for_mode(self, config: RunConfig) -> RunConfig | None:
        """Continuing needs the run's own model and data settings: `config` with them put back
        (None when nothing needs changing)."""
        if self.mode is not StartMode.RESUME or self.opened is None:
            return None
        config = config.copy()
        own = self.opened.config.copy()
        for section in RUN_SECTIONS:
            setattr(config, section, getattr(own, section))
        return config

    def locked_settings(self, training: bool, live: Mapping[str, bool],
                        sections: Mapping[str, Iterable[str]]) -> tuple[set[str], str]:
        """The settings to lock now and why. `live`: each setting → whether it may change mid-run;
        `sections`: each settings section → its setting names."""
        if training:
            return {name for name, is_live in live.items() if not is_live or name in NOT_LIVE_YET}, \
                LOCKED_WHILE_TRAINING
        if self.mode is StartMode.RESUME:
            return {name for section in RUN_SECTIONS for name in sections.get(section, ())}, LOCKED_FOR_RESUME
        return set(), ""

    @staticmethod
    def takes_live(name: str, activity: Activity) -> bool:
        """Whether a changed setting goes to the running trainer (from its next epoch)."""
        return activity.training and name not in NOT_LIVE_YET

    # ----- exports made from a mid-run save ---------------------------------------------------
    def export_after_save(self, checkpoint: Path, out: Path, fmt: str) -> None:
        """Export the model to `out` once the trainer has saved `checkpoint` (a temporary file)."""
        self.pending_exports[str(checkpoint)] = (Path(out), fmt)

    def take_export(self, checkpoint: str | Path) -> tuple[Path, str] | None:
        """The export waiting for this saved checkpoint, if any (it is no longer pending)."""
        return self.pending_exports.pop(str(checkpoint), None)

    # ----- after a run ------------------------------------------------------------------------
    def on_run_ended(self, last: Finished | Failed | None, history: list[dict[str, Any]],
                     patterns: list[str]) -> RunEnded:
        """Decide what to offer once the run has ended; `history`/`patterns` are what the plots hold.

        Stopped: continue it (from its last complete epoch). Finished otherwise: a new run by
        default, continuing stays possible. Failed with a checkpoint of a complete epoch:
        continue it once the cause is fixed (e.g. a lower learning rate)."""
        offer, mode = self._offer_after(last, history, patterns)
        if offer is not None:
            self.opened, self.mode = offer, mode if mode in available_modes(offer) else StartMode.SCRATCH
        dropped = [Path(tmp).parent for tmp in self.pending_exports]
        self.pending_exports.clear()
        return RunEnded(offer=offer, mode=self.mode if offer is not None else None,
                        source=self.weights_after_run(), evaluate=isinstance(last, Finished), dropped_exports=dropped)

    def _offer_after(self, last: Finished | Failed | None, history: list[dict[str, Any]],
                     patterns: list[str]) -> tuple[OpenedRun | None, StartMode]:
        if self.run_dir is None or self.run_config is None or not isinstance(last, (Finished, Failed)):
            return None, self.mode
        run = RunDir(self.run_dir)
        resume = run.resume_checkpoint()
        common = dict(name=self.run_dir.name, config=self.run_config, history=list(history),
                      patterns=list(patterns), source="studio", run_dir=self.run_dir, resume_from=resume)
        if isinstance(last, Finished):
            opened = OpenedRun(**common, checkpoint=run.existing_checkpoint(CheckpointKind.FINAL),
                               resumable=resume is not None, epoch=last.epochs_done)
            return opened, StartMode.RESUME if last.reason == RunState.STOPPED else StartMode.SCRATCH
        if resume is None:
            return None, self.mode
        return OpenedRun(**common, checkpoint=resume, resumable=True, epoch=len(history)), StartMode.RESUME

    def weights_after_run(self) -> ModelSource | None:
        """The run's final weights (else its last complete epoch), for the Predictions tab."""
        if self.run_dir is None or self.run_config is None:
            return None
        weights = RunDir(self.run_dir).existing_checkpoint(CheckpointKind.FINAL, CheckpointKind.LAST)
        return ModelSource(weights, self.run_config, self.run_dir)


def name_stem(config: RunConfig) -> str:
    """A new run's folder is named after its data: the dataset folder when one is set, else the task."""
    return run_name_stem(config.data.task, config.data.dataset_dir)


def planned_patterns(config: RunConfig) -> list[str]:
    """The patterns a run with these settings will report (the legend before it starts); none are known
    for a dataset folder until its puzzles are read."""
    from hrm_studio.data import TASKS

    spec = TASKS.get(config.data.task)
    if config.data.dataset_dir or spec is None:
        return []
    return list(spec.pattern_names)


def ended_elsewhere_words(state: str) -> str:
    """How a run another process trained ended, for the status bar."""
    return ENDED_ELSEWHERE_WORDS.get(state, state)
