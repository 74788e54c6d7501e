"""ProcessGroupWorker: a run over several processes, started from the window and followed live.

Why it looks like this: with the Run setting `processes` above 1 the run cannot train in the
window's own process, so Start runs `hrm-studio train` as a child process (which starts its
ranks through torch.distributed.run) and this worker follows the run folder it writes with the
same reader the Runs tab follows headless runs with (runstore/follow.py). It has the
TrainingWorker's interface and turns what lands in the folder into the Trainer's own events
(Started, EpochEnd, Finished / Failed), so the window shows the run as it shows its own.

Stop sends SIGTERM to the launcher, which ends every rank (each rank sits in a process group
of its own); any rank still alive after that is killed, so no process is left behind. Pause
and Save checkpoint are not offered to such a run: its ranks are not in this process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from hrm_studio.events import EpochEnd, Failed, Finished, Notice, Started
from hrm_studio.gui.shell.training_worker import StartRequest
from hrm_studio.runstore.follow import RunFollower
from hrm_studio.runstore.keys import RunState
from hrm_studio.runstore.run_dir import RunDir

POLL_S = 0.5           # how often the run folder is read while the ranks train
STOP_GRACE_S = 20.0    # how long the launcher has to end its ranks after SIGTERM


def train_command(request: StartRequest, settings: Path) -> list[str]:
    """The `hrm-studio train` command line that runs `request` (its settings saved in `settings`)."""
    words = [sys.executable, "-m", "hrm_studio", "train", "--config", str(settings), "--quiet"]
    if request.run_dir is not None:
        words += ["--out", str(request.run_dir)]
    if request.resume_from is not None:
        words += ["--resume", str(request.resume_from)]
    if request.init_weights is not None:
        words += ["--init-weights", str(request.init_weights)]
    return words


def child_pids(pid: int) -> list[int]:
    """The direct children of `pid` (Linux /proc; elsewhere none are known)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead, only not yet reaped
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class ProcessGroupWorker(QObject):
    """Lives in its own QThread like TrainingWorker; `run()` starts the child and follows it."""

    event = Signal(object)
    done = Signal(object)

    def __init__(self, request: StartRequest) -> None:
        super().__init__()
        self.request = request
        self._stopping = threading.Event()
        self._last: Finished | Failed | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.ranks: list[int] = []   # the rank processes seen so far, for the kill after Stop

    # ----- control: called directly from the GUI thread ------------------------------------
    def pause(self) -> None:
        self._say("pause_unavailable", "A run over several processes cannot pause; Stop ends it and the run "
                                       "resumes later from its last complete epoch.")

    def resume(self) -> None:
        pass

    def stop(self) -> None:
        self._stopping.set()

    def request_checkpoint(self, path: str | Path) -> None:
        self._say("checkpoint_not_saved", "A run over several processes saves its checkpoints itself after "
                                          "every epoch; Save checkpoint works once it has ended.")

    def set_live(self, name: str, value: Any) -> None:
        self._say("setting_not_applied", f"{name} cannot change while a run over several processes trains; "
                                         f"it applies when the run is resumed.")

    @property
    def last(self) -> Finished | Failed | None:
        return self._last

    @property
    def global_step(self) -> int:
        return 0

    # ----- the thread's work ----------------------------------------------------------------
    @Slot()
    def run(self) -> None:
        with tempfile.TemporaryDirectory(prefix="hrm-studio-processes-") as folder:
            settings, output = Path(folder) / "settings.json", Path(folder) / "output.txt"
            settings.write_text(self.request.config.to_json(), encoding="utf-8")
            try:
                with open(output, "wb") as out:
                    self.process = subprocess.Popen(train_command(self.request, settings), stdout=out,
                                                    stderr=subprocess.STDOUT, start_new_session=True)
                self._follow()
            except Exception as exc:  # noqa: BLE001 - every failure must reach the window
                self._forward(Failed(message=f"The run over several processes could not go on: {exc}.",
                                     traceback=traceback.format_exc(), epoch=0, run_dir=str(self.request.run_dir or "")))
            finally:
                self._end_every_process()
                try:
                    self._finish(output.read_text(encoding="utf-8", errors="replace") if output.exists() else "")
                finally:
                    self.done.emit(self._last)

    def _follow(self) -> None:
        """Until the child ends: announce the run once its folder holds it, then each new epoch."""
        assert self.process is not None
        run_dir = self.request.run_dir
        follower = RunFollower(run_dir) if run_dir is not None else None
        started, first_new = False, 0
        while True:
            ended = self.process.poll() is not None or self._stopping.is_set()
            self.ranks = sorted(set(self.ranks) | set(child_pids(self.process.pid)))
            if follower is not None:
                if not started and RunDir.holds_run(follower.run_dir):
                    started, first_new = True, self._started(follower.run_dir) + 1
                for row in follower.poll().rows if started else []:
                    if int(row.get("epoch", 0)) < first_new:
                        continue   # a resumed run's earlier epochs: the window shows them already
                    self.event.emit(EpochEnd(epoch=int(row.get("epoch", 0)), epochs=self.request.config.train.epochs,
                                             metrics=dict(row)))
            if ended:
                return
            self._stopping.wait(POLL_S)

    def _started(self, run_dir: Path) -> int:
        """Announce the run; returns the epoch it starts from."""
        folder = RunDir(run_dir)
        history = folder.read_history()
        config = self.request.config
        self.event.emit(Started(run_dir=str(run_dir), config=config.to_dict(), num_parameters=0,
                                train_size=config.data.train_size, test_size=config.data.test_size,
                                task=folder.read_task() or {}, start_epoch=len(history),
                                device=f"{config.train.processes} processes"))
        return len(history)

    def _end_every_process(self) -> None:
        """SIGTERM to the launcher (it ends its ranks), then SIGKILL to whatever is left of them."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            self.ranks = sorted(set(self.ranks) | set(child_pids(process.pid)))
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pid in self.ranks:
            if _alive(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)   # each rank leads a process group of its own
                except (ProcessLookupError, PermissionError):
                    pass

    def _finish(self, output: str) -> None:
        """The closing event, from the run folder's last status and the child's last words."""
        if isinstance(self._last, (Finished, Failed)):
            return
        run_dir = self.request.run_dir
        folder = RunDir(run_dir) if run_dir is not None else None
        holds = folder is not None and RunDir.holds_run(folder.path)
        status = folder.read_status() if holds else {}
        history = folder.read_history() if holds else []
        state = status.get("state")
        if state in (RunState.FINISHED, RunState.STOPPED) or (self._stopping.is_set() and folder is not None):
            reason = status.get("reason", "completed") if state == RunState.FINISHED else "stopped"
            self._forward(Finished(reason=str(reason), epochs_done=len(history), best_metric=status.get("best"),
                                   run_dir=str(run_dir), history=history))
            return
        said = [line.removeprefix("error: ") for line in output.splitlines() if line.startswith("error:")]
        message = said[-1] if said else (status.get("message") or "The run over several processes ended "
                                         f"unexpectedly (exit code {self.process.returncode if self.process else '?'}).")
        self._forward(Failed(message=message, traceback=output[-4000:], epoch=len(history), run_dir=str(run_dir or "")))

    def _say(self, kind: str, message: str) -> None:
        self.event.emit(Notice(kind=kind, message=message, epoch=0, run_dir=str(self.request.run_dir or "")))

    def _forward(self, event: Any) -> None:
        if isinstance(event, (Finished, Failed)):
            self._last = event
        self.event.emit(event)
