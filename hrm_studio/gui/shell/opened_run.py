"""Read a checkpoint or a run folder into what the window shows: settings, history, model.

These functions run on a JobRunner thread: reading a checkpoint imports torch. They
check the weights against the settings straight away, so a checkpoint that opens is one
that can be evaluated, resumed or trained from; one that cannot is reported in one
sentence saying what does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hrm_studio.config import RunConfig
from hrm_studio.errors import UserError
from hrm_studio.runstore.keys import HistoryKey, RunState
from hrm_studio.runstore.run_dir import RunDir

SOURCE_WORDS = {"studio": "HRM Studio checkpoint", "safetensors": "safetensors weights",
                "official": "official HRM checkpoint", "state_dict": "bare state dict",
                "run": "run folder without a checkpoint"}


@dataclass(frozen=True)
class OpenedRun:
    """A checkpoint or run folder as the window uses it."""

    name: str
    config: RunConfig
    history: list[dict[str, Any]]
    patterns: list[str]
    source: str                       # a key of SOURCE_WORDS
    checkpoint: Path | None = None    # the weights, for evaluation, export and new runs
    resumable: bool = False           # a Studio checkpoint with optimiser state and history
    run_dir: Path | None = None       # the folder a resumed run continues in
    epoch: int = 0                    # the epoch "Continue this run" goes on from
    notes: list[str] = field(default_factory=list)
    resume_from: Path | None = None   # what "Continue this run" loads, when not `checkpoint` itself
    interrupted: bool = False         # its process died before the run ended (no final save)
    preset_offer: str | None = None   # a preset whose shapes the weights have, when the settings do not

    @property
    def description(self) -> str:
        if self.source == "official":
            return f"official {self.config.model.arch.upper()} checkpoint"
        return SOURCE_WORDS.get(self.source, self.source)

    @property
    def continue_from(self) -> Path | None:
        """The checkpoint Start loads to continue this run; None when it cannot be continued."""
        if not self.resumable:
            return None
        return self.resume_from or self.checkpoint


def run_dir_of(checkpoint: Path) -> Path | None:
    """The run folder a checkpoint of a run sits in; None for a checkpoint elsewhere."""
    run = RunDir.of_checkpoint(checkpoint)
    return run.path if run is not None else None


def _patterns(task: Any, history: list[dict[str, Any]]) -> list[str]:
    if isinstance(task, dict) and isinstance(task.get("pattern_names"), list):
        return [str(p) for p in task["pattern_names"]]
    found = []
    prefix, suffix = "val_", f"_{HistoryKey.TOKEN_ACCURACY}"
    for key in (history[-1] if history else {}):
        if key.startswith(prefix) and key.endswith(suffix) and key != HistoryKey.VAL_TOKEN_ACCURACY:
            found.append(key[len(prefix):-len(suffix)])
    return found


def preset_offer(config: RunConfig, told: dict[str, int]) -> str | None:
    """The preset to offer for weights of these shapes: only when the settings would not fit them (the
    seed's bare weights opened over other settings) and a preset does."""
    from hrm_studio.training.preset_match import fits_weights, matching_presets

    if config.data.dataset_dir or fits_weights(config, told, config.model.arch):
        return None
    found = matching_presets(told, config.model.arch)
    return found[0] if found else None


def open_checkpoint(path: str | Path, current: RunConfig) -> OpenedRun:
    """Any supported weights file. Settings: the checkpoint's own; else its flat overrides
    on top of `current`; else `current` with what the weight shapes tell."""
    from hrm_studio.training import checkpoint as ckpt

    path = Path(path)
    loaded = ckpt.read_weights(path)
    notes: list[str] = []
    history: list[dict[str, Any]] = []
    task: Any = None
    epoch = 0
    if loaded.source == "studio":
        payload = loaded.payload or {}
        config = RunConfig.from_dict(loaded.config or {})
        history = [dict(r) for r in payload.get("history") or []]
        task = payload.get("task")
        epoch = int(payload.get("epoch") or 0)
    elif loaded.config:
        config = ckpt.settings_for(loaded, current)
        if loaded.source == "official":
            notes.append("The checkpoint's all_config.yaml settings were applied on top of yours; "
                         "pick the task it was trained on before you start.")
    else:
        config = ckpt.settings_for(loaded, current)  # bare weights name no architecture: their networks do
        told = ckpt.shapes_from_weights(loaded.state_dict)
        for name in ("hidden_size", "puzzle_emb_ndim", "H_layers", "L_layers"):
            if name in told:
                config.set(name, told[name])
        if "positions" in told:
            config.set("pos_encodings", "learned")
        notes.append("The file holds weights only: the model's width and depth were read from them; "
                     "check heads, cycles and ACT steps before you start.")
    ckpt.check_config_against_weights(config, loaded.state_dict, path)
    offer = preset_offer(config, ckpt.shapes_from_weights(loaded.state_dict))
    run_dir = run_dir_of(path)
    if run_dir is not None and not history:
        history = RunDir(run_dir).read_history()
    if run_dir is not None and task is None:
        task = RunDir(run_dir).read_task()
    name = run_dir.name if run_dir is not None else (path.parent.name if path.name.startswith("step_")
                                                     else path.stem)
    return OpenedRun(name=name, config=config, history=history, patterns=_patterns(task, history),
                     source=loaded.source, checkpoint=path, resumable=loaded.source == "studio",
                     run_dir=run_dir, epoch=epoch, notes=notes, preset_offer=offer)


def open_run_folder(path: str | Path, current: RunConfig) -> OpenedRun:
    """A run folder: its settings and whole history, its final (else latest, else best)
    weights, and what "Continue this run" goes on from: `RunDir.resume_checkpoint()`.

    That is the checkpoint of the last *complete* epoch, even when the final checkpoint
    exists: a run stopped mid-epoch saved its final checkpoint with that epoch half done, and
    going on from it would not give the history an uninterrupted run has. An interrupted run
    (its process died) has no final checkpoint, and its last complete epoch is exactly where
    it stopped.
    """
    from hrm_studio.runs.discovery import read_run
    from hrm_studio.training import checkpoint as ckpt

    path = Path(path)
    run = RunDir(path)
    if not RunDir.holds_run(path):
        held = f"{run.config_path.name} and {run.history_path.name}"
        raise UserError(f"{path} is not an HRM Studio run folder (it has no {run.config_path.name}). Choose the "
                        f"folder that holds {held}.")
    try:
        config = RunConfig.from_dict(run.read_config())
        history = run.read_history()
    except (OSError, ValueError) as exc:
        raise UserError(f"The run folder {path} cannot be read: {exc}.") from None
    task = run.read_task()
    info = read_run(path)
    interrupted = info is not None and info.status == RunState.INTERRUPTED
    resume = run.resume_checkpoint()
    checkpoint = run.existing_checkpoint()   # the final, else last, else best checkpoint
    if checkpoint is not None:
        opened = open_checkpoint(checkpoint, current)
        resumable, epoch, notes = opened.resumable, opened.epoch, list(opened.notes)
        if resume is not None and resume != checkpoint:
            loaded = ckpt.read_weights(resume)
            resumable = loaded.payload is not None
            epoch = int((loaded.payload or {}).get("epoch") or 0)
        elif resume is None:
            resumable = False   # the best checkpoint alone: its epoch is not where the run got to
        if interrupted:
            notes.insert(0, f"This run was interrupted (its process ended without finishing); it can "
                            f"continue from epoch {epoch}.")
        return OpenedRun(name=path.name, config=opened.config, history=history,
                         patterns=_patterns(task, history) or opened.patterns, source=opened.source,
                         checkpoint=checkpoint, resumable=resumable, run_dir=path, epoch=epoch,
                         notes=notes, resume_from=resume if resumable else None, interrupted=interrupted,
                         preset_offer=opened.preset_offer)
    return OpenedRun(name=path.name, config=config, history=history, patterns=_patterns(task, history),
                     source="run", run_dir=path, epoch=len(history), interrupted=interrupted,
                     notes=["This run has no checkpoint, so only its settings and history were opened."])
