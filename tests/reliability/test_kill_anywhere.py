"""kill -9 at any instant: the run reopens and resumes to exactly the same end.

Twenty SIGKILLs at seeded random moments — half on a timer, half the instant a chosen
temp file appears (so inside a checkpoint or JSON write, which a test hook slows down
via HRM_STUDIO_TEST_WRITE_DELAY). After every kill: the history loads and matches an
uninterrupted run row for row, every checkpoint on disk loads with weights_only, the
run is listed as interrupted, and `hrm-studio train --resume` finishes it with the very
history the uninterrupted run produced. Some kills hit runs that were themselves
resumed from an earlier kill.

Speed: the training children are forked from one process that imported torch once (a
"zygote", torch._dynamo included: the first optimizer imports it), so twenty kills cost
twenty trainings, not twenty interpreter starts. One more
test kills a plainly started `python -m hrm_studio train` to show nothing depends on that.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from hrm_studio.cli import main
from hrm_studio.runs import read_run
from hrm_studio.runstore.atomic import TEST_DELAY_ENV
from hrm_studio.runstore.run_dir import RunDir
from hrm_studio.training.trainer import comparable
from tests.reliability.helpers import TINY_ARGS

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin",
                                reason="SIGKILL and fork are tested on Linux")

EPOCHS = 3
KILLS = 20
SEED = 20250607
WRITE_DELAY = "0.01"  # seconds the test hook pauses inside every atomic write
# The live viewer follows 8 training puzzles, not 64: it still writes its file every epoch, at an eighth of the cost.
ARGS = [*TINY_ARGS, "--set", f"epochs={EPOCHS}", "--set", "viewer_sample=8", "--quiet"]
# Files whose atomic write a kill aims at (checkpoints weighted up); see _kill_when.
WRITE_TARGETS = ["last.pt", "last.pt", "last.pt", "best.pt", "final.pt", "history.json", "status.json",
                 "config.json", "task.json", "metrics.jsonl"]

ZYGOTE = r"""
import json, os, sys, traceback
import hrm_studio.cli, hrm_studio.training.trainer   # torch and the whole core, imported once
import torch._dynamo   # what the first optimizer imports (~3 s); otherwise every child would import it again
for line in sys.stdin:
    cmd = json.loads(line)
    if "wait" in cmd:
        _, status = os.waitpid(cmd["wait"], 0)
        print(json.dumps({"status": status}), flush=True)
        continue
    pid = os.fork()
    if pid == 0:
        rc = 99
        try:
            os.environ.update(cmd["env"])
            fd = os.open(cmd["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            rc = hrm_studio.cli.main(cmd["argv"])
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(rc)
    print(json.dumps({"pid": pid}), flush=True)
"""


class Zygote:
    """One Python process with torch imported that forks a training child per request."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)

    def _ask(self, cmd: dict) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def start(self, argv: list[str], log: Path) -> int:
        return self._ask({"argv": argv, "log": str(log), "env": {TEST_DELAY_ENV: WRITE_DELAY}})["pid"]

    def reap(self, pid: int) -> int:
        return self._ask({"wait": pid})["status"]

    def close(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(30)


def _temp_files(run: Path) -> set[str]:
    found = set()
    for folder in (run, run / "checkpoints"):
        try:
            found |= {f"{folder.name}/{name}" for name in os.listdir(folder) if name.endswith(".tmp")}
        except OSError:
            pass
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _kill_when(pid: int, run: Path, rng: random.Random) -> str:
    """Kill `pid` on a timer or the moment the k-th temp file appears; returns what happened."""
    if rng.random() < 0.5:
        delay = rng.uniform(0.0, 1.4)
        deadline = time.perf_counter() + delay
        while time.perf_counter() < deadline and _alive(pid):
            time.sleep(0.002)
        moment = f"after {delay:.3f}s"
    else:
        target = rng.choice(WRITE_TARGETS)
        wanted = rng.randint(1, 2) if target in ("last.pt", "history.json", "status.json") else 1
        seen: set[str] = set()
        while len(seen) < wanted and _alive(pid):
            seen |= {name for name in _temp_files(run) if name.split("/")[1].startswith(f".{target}.")}
            time.sleep(0.0005)
        time.sleep(rng.uniform(0.0, 0.01))  # somewhere inside that write
        moment = f"inside write {wanted} of ({target})"
    if not _alive(pid):
        return f"finished before the kill ({moment})"
    os.kill(pid, signal.SIGKILL)
    return f"killed {moment}"


def check_reopens(run: Path, straight: list[dict], what: str) -> None:
    """Everything on disk is whole: history, status, config, every checkpoint (weights_only)."""
    if not (run / "config.json").exists():
        return  # killed before the run folder was written: nothing to reopen, nothing lost
    json.loads((run / "config.json").read_text())
    history = RunDir(run).read_history()
    assert [r["epoch"] for r in history] == list(range(1, len(history) + 1)), what
    assert comparable(history) == comparable(straight[: len(history)]), what
    info = read_run(run)
    assert info.status in ("interrupted", "finished"), (what, info.status)
    for kind in ("last", "best", "final"):
        path = run / "checkpoints" / f"{kind}.pt"
        if path.exists():
            payload = torch.load(path, map_location="cpu", weights_only=True)
            assert payload["format"] == "hrm-studio-checkpoint", what
            epoch = payload["epoch"]
            assert comparable(payload["history"]) == comparable(straight[:epoch]), what
            if kind == "last":  # written right after the epoch's row: equal, or one behind
                assert epoch in (len(history), len(history) - 1), (what, epoch, len(history))
    if info.status == "interrupted":
        assert info.unfinished == (info.resume_checkpoint is not None), what


def finish(run: Path, straight: list[dict], what: str) -> None:
    """Resume (or, with no checkpoint yet, restart) in this process; it must end where the straight run did."""
    if RunDir(run).resume_checkpoint() is not None:
        assert main(["train", "--resume", str(run), "--quiet"]) == 0, what
    else:
        assert main(["train", *ARGS, "--out", str(run)]) == 0, what
    assert comparable(RunDir(run).read_history()) == comparable(straight), what
    assert torch.load(run / "checkpoints" / "final.pt", weights_only=True)["epoch"] == EPOCHS, what
    assert read_run(run).status == "finished", what


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> list[dict]:
    run = tmp_path_factory.mktemp("straight") / "run"
    assert main(["train", *ARGS, "--out", str(run)]) == 0
    return RunDir(run).read_history()


def test_twenty_kills_at_random_moments_each_reopen_and_resume_to_the_same_end(tmp_path, straight, capsys):
    rng = random.Random(SEED)
    zygote = Zygote()
    killed_copies: list[Path] = []
    moments = []
    try:
        for i in range(KILLS):
            resumable = [c for c in killed_copies if RunDir(c).resume_checkpoint() is not None]
            if resumable and rng.random() < 0.4:  # kill a run that was itself resumed after a kill
                source = rng.choice(resumable)
                killed_copies.remove(source)
                run = tmp_path / f"run{i}"
                shutil.copytree(source, run)
                argv = ["train", "--resume", str(run), "--quiet"]
            else:
                run = tmp_path / f"run{i}"
                argv = ["train", *ARGS, "--out", str(run)]
            pid = zygote.start(argv, tmp_path / f"log{i}.txt")
            moment = _kill_when(pid, run, rng)
            zygote.reap(pid)
            what = f"kill {i}: {' '.join(argv[:2])} {moment}"
            moments.append(what)
            check_reopens(run, straight, what)
            copy = tmp_path / f"killed{i}"
            if run.exists():
                shutil.copytree(run, copy)
                killed_copies.append(copy)
            finish(run, straight, what)
            capsys.readouterr()
    finally:
        zygote.close()
    print("\n".join(moments))
    assert sum("inside write" in m and m.startswith("kill") for m in moments) >= 5, moments
    in_checkpoint = [m for m in moments if m.startswith("kill") and ".pt)" in m]
    assert len(in_checkpoint) >= 3, moments  # killed inside a checkpoint write, not just near one
    assert sum(m.startswith("kill") for m in moments) >= 15, moments


def test_a_plain_hrm_studio_process_killed_mid_checkpoint_resumes_from_last_pt(tmp_path, straight):
    run = tmp_path / "run"
    env = {**os.environ, TEST_DELAY_ENV: "0.05"}
    child = subprocess.Popen([sys.executable, "-m", "hrm_studio", "train", *ARGS, "--out", str(run)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    target = run / "checkpoints"
    try:
        # Wait until epoch 2's last.pt is being written (epoch 1's is already in place), then kill.
        while time.monotonic() < deadline and child.poll() is None:
            if (target / "last.pt").exists() and any(n.startswith(".last.pt.") for n in os.listdir(target)) \
                    and len(RunDir(run).read_history()) >= 2:
                break
            time.sleep(0.001)
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(30)
    assert child.returncode == -signal.SIGKILL
    assert any(n.endswith(".tmp") for n in os.listdir(target))  # it died inside the write
    check_reopens(run, straight, "plain process")
    assert torch.load(target / "last.pt", weights_only=True)["epoch"] == 1
    assert read_run(run).status == "interrupted" and read_run(run).unfinished
    assert main(["train", "--resume", str(target / "last.pt"), "--quiet"]) == 0
    assert comparable(RunDir(run).read_history()) == comparable(straight)
    assert not any(n.endswith(".tmp") for n in os.listdir(target))
