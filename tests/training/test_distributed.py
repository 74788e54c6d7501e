"""A run over two processes (torch.distributed, gloo on 127.0.0.1): the same run as one process,
one run folder, and a killed rank that ends the group and leaves the folder resumable.

Each launch starts three Python processes (the launcher and two ranks), so these tests are few
and their runs tiny.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hrm_studio.cli.entry import main
from hrm_studio.config import RunConfig
from hrm_studio.runstore.keys import CheckpointKind, RunState
from hrm_studio.runstore.run_dir import RunDir, default_runs_root
from hrm_studio.training import checkpoint as ckpt
from hrm_studio.training.distributed import join, world_from_env
from hrm_studio.training.trainer import Trainer, comparable

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the ranks")

SETTINGS = {
    "data": {"task": "copy-increment", "train_size": 8, "test_size": 4, "grid_size": 3},
    "model": {"hidden_size": 16, "num_heads": 2, "expansion": 2.0, "puzzle_emb_ndim": 16, "halt_max_steps": 2},
    "train": {"epochs": 2, "batch_size": 4, "num_threads": 1, "seed": 5, "stop_at_exact": 0.0,
              "tensorboard": False, "device": "cpu"},
}


def _settings_file(tmp_path: Path, **train: object) -> Path:
    raw = json.loads(json.dumps(SETTINGS))
    raw["model"]["halt_exploration_prob"] = 0.5  # many exploration draws: sharded draws must match
    raw["train"].update(train)
    path = tmp_path / "settings" / "run.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(raw))
    return path


def _train_command(settings: Path, out: Path, nproc: int) -> list[str]:
    return [sys.executable, "-m", "hrm_studio", "train", "--config", str(settings), "--out", str(out),
            "--nproc", str(nproc)]


def test_two_processes_train_exactly_as_one(tmp_path: Path) -> None:
    settings = _settings_file(tmp_path)
    alone = Trainer(RunConfig.from_json_file(settings), tmp_path / "alone").fit()
    runs = tmp_path / "runs"
    done = subprocess.run(_train_command(settings, runs / "two", 2) + ["--quiet"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("finished (completed)") == 1  # rank 0 speaks, the other rank is silent
    assert [p.name for p in runs.iterdir()] == ["two"]     # one run folder, written by rank 0 alone
    assert not default_runs_root().exists() or not any(default_runs_root().iterdir())
    two = RunDir(runs / "two")
    assert two.read_status()["state"] == RunState.FINISHED
    ours, theirs = comparable(alone.history), comparable(two.read_history())
    assert len(ours) == len(theirs) == 2
    for row_one, row_two in zip(ours, theirs):
        assert row_one.keys() == row_two.keys()
        for key, value in row_one.items():
            assert row_two[key] == pytest.approx(value, rel=1e-5, abs=1e-5), key
    weights_one = ckpt.torch_load_safely(RunDir(alone.run_dir).checkpoint(CheckpointKind.FINAL))["model"]
    weights_two = ckpt.torch_load_safely(two.checkpoint(CheckpointKind.FINAL))["model"]
    assert weights_one.keys() == weights_two.keys()
    for name, tensor in weights_one.items():
        torch.testing.assert_close(weights_two[name], tensor, rtol=1e-5, atol=1e-5, msg=name)


def _rank_pids(launcher: int) -> dict[int, int]:
    """The launcher's child processes, by the RANK torch.distributed.run gave them."""
    children = Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split()
    ranks = {}
    for pid in map(int, children):
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        rank = next((int(e[5:]) for e in environ if e.startswith(b"RANK=")), None)
        if rank is not None:
            ranks[rank] = pid
    return ranks


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_killed_rank_ends_the_group_and_the_run_resumes(tmp_path: Path) -> None:
    settings = _settings_file(tmp_path, epochs=10_000)
    run = tmp_path / "run"
    launcher = subprocess.Popen(_train_command(settings, run, 2), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    try:
        seen = []
        for line in launcher.stdout:  # rank 0 prints a line per epoch: the run is under way
            seen.append(line)
            if line.startswith("epoch"):
                break
        ranks = _rank_pids(launcher.pid)
        assert sorted(ranks) == [0, 1], "".join(seen)
        os.kill(ranks[1], signal.SIGKILL)
        said = launcher.stdout.read()
        code = launcher.wait(timeout=120)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert code != 0
    assert "rank 1 of 2" in said and "SIGKILL" in said and f"--resume {run}" in said, said
    assert not any(_alive(pid) for pid in ranks.values())  # no rank is left running
    folder = RunDir(run)
    assert folder.state() != RunState.RUNNING
    done = len(folder.read_history())
    assert done >= 1
    assert main(["train", "--resume", str(run), "--set", f"epochs={done + 1}", "--quiet"]) == 0
    assert len(folder.read_history()) == done + 1 and folder.read_status()["state"] == RunState.FINISHED


def test_outside_torchrun_a_run_is_one_process() -> None:
    assert world_from_env({}) == (0, 1, 0)
    assert world_from_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}) == (3, 4, 1)
    exchange = join(RunConfig.from_dict({"train": {"device": "cpu"}}), env={})
    assert exchange.world == 1 and exchange.device == torch.device("cpu")


def test_a_batch_that_does_not_split_over_the_processes_is_refused() -> None:
    from hrm_studio.errors import ConfigError

    config = RunConfig.from_dict({"train": {"device": "cpu", "batch_size": 6}})
    with pytest.raises(ConfigError, match="divides by 4"):   # under torchrun, before the group is joined
        join(config, env={"RANK": "0", "WORLD_SIZE": "4", "LOCAL_RANK": "0"})
    config.set("processes", 4)                                # --nproc 4: refused with the other settings
    assert "split evenly over the 4 processes" in config.problems()["processes"]
