"""One run over two processes (torch.distributed, gloo) against one process (issue 19).

Figures: training samples/s of the same run as 1 process × 2 threads and as 2 processes ×
1 thread (`hrm-studio train --nproc 2`), their ratio, and the communication share of a step in
the 2-process run: seconds inside the collectives (gradient all-reduce, sparse-embedding and
per-row all-gathers, the loss/metric all-reduce) over the seconds of the training epochs. Time in
a collective includes waiting for the slower rank, so on a busy machine it also measures imbalance.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from benchmarks.core import Figure, _train_command, figure

# A small but compute-bound run: big enough that a step is mostly arithmetic, small enough for make bench.
SETTINGS = {"task": "copy-increment", "train_size": 256, "test_size": 16, "hidden_size": 128, "num_heads": 4,
            "puzzle_emb_ndim": 128, "halt_max_steps": 2, "batch_size": 32, "epochs": 2, "seed": 0,
            "tensorboard": False, "device": "cpu", "stop_at_exact": 0.0, "viewer_interval": 0}
WHAT = "copy-increment, hidden 128, batch 32 (global), 256 puzzles, 2 epochs, CPU float32"


def _set(extra: dict[str, Any]) -> list[str]:
    words: list[str] = []
    for name, value in {**SETTINGS, **extra}.items():
        words += ["--set", f"{name}={value}"]
    return words


def _speed(history: list[dict]) -> float:
    """Samples/s of the last epoch (the first one also pays for warm-up)."""
    return float(history[-1]["samples_per_second"])


def _communication_share(tmp: Path) -> tuple[float, float]:
    """(seconds in collectives, seconds of training epochs) of a 2-process run, measured by rank 0."""
    import subprocess

    from hrm_studio.training.distributed import free_port

    out = tmp / "comm.json"
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc-per-node", "2",
               "--master-addr", "127.0.0.1", "--master-port", str(free_port()), "-m", "benchmarks.distributed",
               "--worker", str(tmp / "comm-run"), str(out)]
    done = subprocess.run(command, capture_output=True, text=True, env={**__import__("os").environ,
                                                                         "OMP_NUM_THREADS": "1"})
    if done.returncode != 0:
        raise RuntimeError(f"the 2-process timing run failed: {done.stderr.strip()[-2000:]}")
    timed = json.loads(out.read_text())
    return timed["collective_s"], timed["epoch_s"]


def _worker(run_dir: str, out: str) -> None:
    """One rank of the timing run: every collective of ProcessGroup timed, rank 0 writes the sums."""
    from hrm_studio.config import RunConfig
    from hrm_studio.training import distributed
    from hrm_studio.training.trainer import Trainer

    spent = [0.0]
    for name in ("sum_loss", "sync_gradients", "gather"):
        original = getattr(distributed.ProcessGroup, name)

        def timed(self: Any, *args: Any, _original: Any = original) -> Any:
            started = time.perf_counter()
            try:
                return _original(self, *args)
            finally:
                spent[0] += time.perf_counter() - started
        setattr(distributed.ProcessGroup, name, timed)
    config = RunConfig.from_dict({**SETTINGS, "num_threads": 1})
    result = Trainer(config, run_dir).fit()
    if distributed.world_from_env()[0] == 0:
        epoch_s = sum(float(row["epoch_seconds"]) for row in result.history)
        Path(out).write_text(json.dumps({"collective_s": spent[0], "epoch_s": epoch_s}))


def distributed_figures() -> Iterator[Figure]:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        _, one = _train_command(_set({"num_threads": 2}), tmp / "one")
        _, single = _train_command(_set({"num_threads": 1}), tmp / "single")
        _, two = _train_command(_set({"num_threads": 1}) + ["--nproc", "2"], tmp / "two")
        collective_s, epoch_s = _communication_share(tmp)
    alone, one_thread, split = _speed(one), _speed(single), _speed(two)
    ratio = split / alone
    yield figure("1 process × 2 threads", alone, "samples/s", config=WHAT)
    yield figure("1 process × 1 thread", one_thread, "samples/s", config=WHAT)
    yield figure("2 processes × 1 thread", split, "samples/s", config=WHAT)
    yield figure("2 processes ÷ 1 process × 2 threads (same 2 cores)", ratio, "×", "≥ 0.6", ratio >= 0.6,
                 config=f"{WHAT}; on an idle 2-core machine about 1 is the best to hope for")
    scaling = split / one_thread
    yield figure("2 processes × 1 thread ÷ 1 process × 1 thread", scaling, "×", "≥ 0.9", scaling >= 0.9,
                 config=f"{WHAT}; 2 on two free cores with no overhead, 1 when the second core is busy")
    share = collective_s / max(epoch_s, 1e-9)
    yield figure("communication share of a 2-process step", 100 * share, "%", "≤ 30 %", share <= 0.30,
                 config=f"{WHAT}; time in all-reduce / all-gather (incl. waiting for the other rank) ÷ epoch time")


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--worker":
    _worker(sys.argv[2], sys.argv[3])
