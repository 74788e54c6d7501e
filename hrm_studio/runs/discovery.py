"""Find runs under a folder and say what state each is in, cheaply and without torch.

The state comes from the run's status file, with one correction a file cannot make by itself: a run
whose status says "running" but whose writing process is gone (killed, crashed, the
machine lost power) is *interrupted*. Such a run is exactly what `find_unfinished` offers
to resume: its last-epoch checkpoint holds its last complete epoch.

Reading never writes and never raises for a damaged run: whatever cannot be read is
reported as unknown, so one bad folder cannot hide the others.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hrm_studio.runstore.keys import HistoryKey, RunState
from hrm_studio.runstore.run_dir import RunDir, default_runs_root, read_metrics_lines


@dataclass(frozen=True)
class RunInfo:
    """One run folder, summarised for a list."""

    name: str
    path: Path
    task: str
    status: str                 # a RunState: running / finished / stopped / failed / interrupted
    reason: str                 # why it ended (completed, solved, early_stopped, stopped) or ""
    message: str                # the failure message, if it failed
    epochs_done: int            # complete epochs on disk
    epochs: int                 # epochs it was asked for
    best_exact: float | None    # best held-out exact match (after all segments) so far
    wall_seconds: float | None  # training time up to its last complete epoch
    created: float | None       # when the run was first started (Unix time)
    modified: float             # last write to its folder (Unix time)
    resume_checkpoint: Path | None  # what `hrm-studio train --resume` would continue from
    pid: int | None = None      # the writing process, while running
    arch: str = "hrm"           # its architecture (`model.arch`); runs made before TRM have none and are HRM

    @property
    def resumable(self) -> bool:
        """It has a checkpoint to continue from (a finished run can go on with more epochs)."""
        return self.resume_checkpoint is not None

    @property
    def unfinished(self) -> bool:
        """Its process died before the run ended, and a checkpoint is there to continue from.

        (An interrupted run is never finished, even when its last epoch reached the
        history: the final save did not happen, and resuming redoes at most that epoch.)
        """
        return self.status == RunState.INTERRUPTED and self.resumable


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def run_state(path: str | Path) -> RunState:
    """Just the state of one run folder (running / finished / … / interrupted): one small read."""
    return RunDir(Path(path)).state()


def read_run(path: str | Path) -> RunInfo | None:
    """Summarise one run folder; None when `path` is not one (it has no run config)."""
    run = RunDir(Path(path))
    config = _json(run.config_path)
    if not isinstance(config, dict):
        return None
    status = run.read_status()
    try:
        rows = read_metrics_lines(run.metrics_path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        history = _json(run.history_path)
        rows = [r for r in history if isinstance(r, dict)] if isinstance(history, list) else []
    exact = [v for v in (_number(r.get(HistoryKey.VAL_EXACT)) for r in rows) if v is not None]
    walls = [v for v in (_number(r.get(HistoryKey.WALL_SECONDS)) for r in rows) if v is not None]
    data = config.get("data") if isinstance(config.get("data"), dict) else {}
    train = config.get("train") if isinstance(config.get("train"), dict) else {}
    model = config.get("model") if isinstance(config.get("model"), dict) else {}
    epochs = train.get("epochs")
    try:
        modified = max(p.stat().st_mtime for p in (run.path, run.status_path, run.metrics_path) if p.exists())
    except (OSError, ValueError):
        modified = 0.0
    created = _number(status.get("created"))
    if created is None:
        try:
            created = run.config_path.stat().st_mtime
        except OSError:
            created = None
    pid = status.get("pid") if isinstance(status.get("pid"), int) else None
    state = RunDir.state_of(status)
    return RunInfo(
        name=run.path.name, path=run.path, task=Path(str(data["dataset_dir"])).name if data.get("dataset_dir") else str(data.get("task") or "?"),
        status=state, reason=str(status.get("reason") or ""), message=str(status.get("message") or ""),
        epochs_done=len(rows), epochs=int(epochs) if isinstance(epochs, int) else 0,
        best_exact=max(exact) if exact else None, wall_seconds=walls[-1] if walls else None,
        created=created, modified=modified, resume_checkpoint=run.resume_checkpoint(),
        pid=pid if state == RunState.RUNNING else None, arch=str(model.get("arch") or "hrm"))


def list_runs(root: str | Path | None = None) -> list[RunInfo]:
    """Every run folder directly under `root` (default: the user's runs folder), newest first."""
    folder = Path(root) if root is not None else default_runs_root()
    try:
        children = [p for p in folder.iterdir() if p.is_dir()]
    except OSError:
        return []
    runs = [info for info in (read_run(p) for p in children) if info is not None]
    runs.sort(key=lambda r: (r.created or r.modified, r.modified), reverse=True)
    return runs


def find_unfinished(root: str | Path | None = None) -> list[RunInfo]:
    """Interrupted runs that can be continued (newest first): what to offer to resume on start.

    Continue one with `Trainer(config, info.path, on_event).resume_from(info.path)` or
    `hrm-studio train --resume <info.path>`.
    """
    return [run for run in list_runs(root) if run.unfinished]
