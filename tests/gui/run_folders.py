"""Run folders as a crash leaves them, made quickly on disk for the window to find."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

from hrm_studio.config import RunConfig
from hrm_studio.events import EpochEnd
from hrm_studio.runstore.keys import CheckpointKind, RunState
from hrm_studio.runstore.run_dir import RunDir
from hrm_studio.training.trainer import Trainer


def dead_pid() -> int:
    """The pid of a process that has certainly ended."""
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def train_until(config: RunConfig, folder: Path, epochs_done: int) -> Path:
    """Train `folder` and stop after `epochs_done` whole epochs (its final and last-epoch checkpoints hold them)."""
    box: dict[str, Trainer] = {}

    def on_event(event: object) -> None:
        if isinstance(event, EpochEnd) and event.epoch == epochs_done:
            box["trainer"].stop()

    box["trainer"] = Trainer(config, folder, on_event)
    box["trainer"].fit()
    return folder


def make_interrupted(folder: Path) -> Path:
    """What a kill -9 after an epoch's last-epoch checkpoint leaves: no final checkpoint, and a
    status that says "running" for a process that no longer exists."""
    run = RunDir(folder)
    run.checkpoint(CheckpointKind.FINAL).unlink(missing_ok=True)
    status = run.read_status()
    status.pop("reason", None)
    status.update(state=RunState.RUNNING, pid=dead_pid(), host=socket.gethostname())
    run.status_path.write_text(json.dumps(status))
    return folder


def copy_run(template: Path, root: Path, name: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copytree(template, root / name))
