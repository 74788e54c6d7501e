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
from hrm_studio.training.trainer import Trainer


def dead_pid() -> int:
    """The pid of a process that has certainly ended."""
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def train_until(config: RunConfig, folder: Path, epochs_done: int) -> Path:
    """Train `folder` and stop after `epochs_done` whole epochs (final.pt and last.pt hold them)."""
    box: dict[str, Trainer] = {}

    def on_event(event: object) -> None:
        if isinstance(event, EpochEnd) and event.epoch == epochs_done:
            box["trainer"].stop()

    box["trainer"] = Trainer(config, folder, on_event)
    box["trainer"].fit()
    return folder


def make_interrupted(folder: Path) -> Path:
    """What a kill -9 after an epoch's last.pt leaves: no final.pt, and a status.json that
    says "running" for a process that no longer exists."""
    (folder / "checkpoints" / "final.pt").unlink(missing_ok=True)
    status = json.loads((folder / "status.json").read_text())
    status.pop("reason", None)
    status.update(state="running", pid=dead_pid(), host=socket.gethostname())
    (folder / "status.json").write_text(json.dumps(status))
    return folder


def copy_run(template: Path, root: Path, name: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copytree(template, root / name))
