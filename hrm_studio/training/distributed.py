"""One run over several processes (and machines) with PyTorch's own engine, torch.distributed.

How a run is split, and why it equals the same run in one process:

* Every process runs the whole Trainer on the same settings and the same seed, so each one draws
  the same epoch order and the same streamed batch; process *r* computes only its own contiguous
  slice of the global batch's rows (`batch_size` stays the global batch). The ACT exploration
  draws are made for the whole batch and sliced (ACTModel.row_shard), as one process draws them.
* After the backward pass the gradients are summed across processes (one all-reduce of one flat
  buffer; the loss is already divided by the global row count, so the sum is the one-process
  gradient), and the sparse puzzle-embedding gradients are all-gathered with their identifiers,
  so every process applies the official sign-SGD update to the whole batch's rows.
* The per-row facts (halted, exact, …) are all-gathered and the step's sums all-reduced, so every
  process holds the same history and takes the same decisions (evaluation, best, early stop).
  Evaluation runs in every process on the whole held-out split (simple; not yet sharded).
* Only rank 0 writes the run folder; the others hold a `SilentWriter` on the same folder.

`Exchange` is the one-process case (no collectives at all); `ProcessGroup` the distributed one.
A run joins a group when torchrun's environment (WORLD_SIZE > 1) says so; `launch` starts N local
processes through torch.distributed.run, the engine behind `torchrun`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.distributed as dist

from hrm_studio.config import RunConfig
from hrm_studio.errors import ConfigError
from hrm_studio.runstore.keys import CheckpointKind, RunState
from hrm_studio.runstore.run_dir import RunDir
from hrm_studio.runstore.writer import RunSnapshot, RunWriter
from hrm_studio.training.device import describe_device, resolve_device, to_device
from hrm_studio.training.threads import available_cores
from hrm_studio.training.training_error import TrainingError

# The exit code of a process that ended because another one of its run stopped answering: the
# launcher names the process that failed first, not those that followed it.
PEER_LOST_EXIT = 75

# The per-row facts the epoch's metrics read, gathered from every process after each step.
ROW_KEYS = ("valid", "has_labels", "token_correct", "token_count", "exact", "steps", "q_halt_logits")


def world_from_env(env: dict[str, str] | None = None) -> tuple[int, int, int]:
    """(rank, world size, local rank) that torchrun put in the environment; (0, 1, 0) without it."""
    env = dict(os.environ) if env is None else env
    world = int(env.get("WORLD_SIZE", "1") or 1)
    return int(env.get("RANK", "0") or 0), world, int(env.get("LOCAL_RANK", "0") or 0)


class Exchange:
    """What the epoch loop exchanges per step in a run of one process: nothing. Batches go to the
    run's device; the step's sums and per-row facts become plain numbers and arrays."""

    rank, world = 0, 1

    def __init__(self, device: torch.device) -> None:
        self.device = device

    @property
    def leads(self) -> bool:
        """Whether this process writes the run folder and speaks (rank 0)."""
        return self.rank == 0

    def describe(self) -> str:
        """Where the run computes, for people (the status bar, the CLI's header)."""
        return describe_device(self.device) + (f" × {self.world} processes" if self.world > 1 else "")

    def split_rows(self, model: torch.nn.Module, rows: int) -> slice:
        """The rows of a `rows`-row global batch this process computes."""
        return slice(0, rows)

    def local(self, batch: dict[str, torch.Tensor], mine: slice) -> dict[str, torch.Tensor]:
        return to_device(batch, self.device)

    def sum_loss(self, loss: torch.Tensor) -> float:
        return float(loss)

    def sync_gradients(self, params: list[torch.Tensor], emb: Any) -> None:
        """Gradients as one process computing the whole batch would have them (here: as they are)."""

    def gather(self, result: Any) -> tuple[dict[str, float], dict[str, np.ndarray], np.ndarray]:
        """The step's metric sums, per-row facts and halted flags over the whole global batch."""
        metrics = {k: float(v) for k, v in result.metrics.items()}
        rows = {k: v.cpu().numpy() for k, v in result.rows.items() if k != "predictions"}
        return metrics, rows, result.carry.halted.cpu().numpy()

    def mine(self, halted: np.ndarray, mine: slice) -> torch.Tensor:
        """This process's slice of the global halted flags, as the carry keeps them."""
        return torch.from_numpy(halted[mine].copy()).to(self.device)  # a copy: the stream keeps its own

    def align(self, model: torch.nn.Module) -> None:
        """Make every process start from rank 0's weights (nothing to do alone)."""

    def open_writer(self, open_run: Callable[[], RunWriter], snapshot: Callable[[], RunSnapshot]) -> RunWriter:
        return open_run()

    def leave(self) -> None:
        """Leave the process group (nothing to leave alone)."""


class SilentWriter(RunWriter):
    """A RunWriter on rank 0's run folder that writes nothing: only rank 0 writes the folder."""

    def __init__(self, path: Path, snapshot: Callable[[], RunSnapshot]) -> None:
        super().__init__(RunDir(path), snapshot, created=0.0)

    def start(self) -> None:
        pass

    def record_epoch(self, row: dict[str, Any]) -> None:
        pass

    def save_checkpoint(self, kind: CheckpointKind, write: Callable[[Path], Any]) -> Path:
        return self.run.checkpoint(kind)

    def finish(self, state: RunState, **extra: Any) -> None:
        pass

    def fail(self, message: str) -> None:
        pass

    def persist(self, what: str | Path, write: Callable[[], Any]) -> None:
        pass

    def try_persist(self, what: str | Path, write: Callable[[], Any]) -> str | None:
        return None


def _numpy_dtype(dtype: torch.dtype) -> np.dtype:
    return torch.empty(0, dtype=dtype).numpy().dtype


class PeerLost(TrainingError):
    """Another process of the run failed or was killed, so this one cannot go on."""


@contextlib.contextmanager
def _peers_answer() -> Iterator[None]:
    """A collective that fails because another process died becomes one sentence."""
    try:
        yield
    except RuntimeError as exc:
        raise PeerLost(f"Another process of this distributed run stopped answering (it failed or was "
                            f"killed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); this "
                            f"process ends too. The run folder keeps its last complete epoch; continue it with "
                            f"'hrm-studio train --resume RUN_FOLDER'.") from None


class ProcessGroup(Exchange):
    """One process of a distributed run: its rank's rows, and the collectives that keep every
    process's model, history and decisions the same."""

    def __init__(self, device: torch.device, rank: int, world: int) -> None:
        super().__init__(device)
        self.rank, self.world = rank, world

    def split_rows(self, model: torch.nn.Module, rows: int) -> slice:
        if rows % self.world:
            raise ConfigError(f"A step's {rows} puzzles cannot be split evenly over {self.world} processes; "
                              f"choose a batch_size (and a train_size, if smaller) that divides by {self.world}.")
        share = rows // self.world
        model.row_shard = (self.rank * share, rows)
        return slice(self.rank * share, (self.rank + 1) * share)

    def local(self, batch: dict[str, torch.Tensor], mine: slice) -> dict[str, torch.Tensor]:
        return to_device({k: v[mine] for k, v in batch.items()}, self.device)

    def sum_loss(self, loss: torch.Tensor) -> float:
        total = loss.detach().reshape(1).to(torch.float64)
        with _peers_answer():
            dist.all_reduce(total)
        return float(total)

    def sync_gradients(self, params: list[torch.Tensor], emb: Any) -> None:
        grads = [p.grad for p in params if p.grad is not None]
        if grads:
            flat = torch.cat([g.reshape(-1) for g in grads])
            with _peers_answer():
                dist.all_reduce(flat)
            for g, part in zip(grads, flat.split([g.numel() for g in grads])):
                g.copy_(part.view_as(g))
        local = getattr(emb, "local_weights", None)
        if local is not None and local.grad is not None:
            ids = emb.local_ids.to(torch.float64).unsqueeze(-1)   # exact for any identifier below 2**53
            both = self._gathered(torch.cat([ids, local.grad.to(torch.float64)], dim=-1))
            holder = torch.zeros(both.shape[0], local.shape[-1], dtype=local.dtype, device=local.device)
            holder.requires_grad_(True)
            holder.grad = both[:, 1:].to(local.grad.dtype)
            emb.local_weights, emb.local_ids = holder, both[:, 0].to(emb.local_ids.dtype)

    def gather(self, result: Any) -> tuple[dict[str, float], dict[str, np.ndarray], np.ndarray]:
        keys = sorted(result.metrics)
        sums = torch.stack([result.metrics[k].detach().to(torch.float64) for k in keys])
        with _peers_answer():
            dist.all_reduce(sums)
        columns = [result.rows[k].detach().to(torch.float64) for k in ROW_KEYS] + [result.carry.halted.to(torch.float64)]
        table = self._gathered(torch.stack(columns, dim=-1)).cpu().numpy()
        rows = {k: table[:, i].astype(_numpy_dtype(result.rows[k].dtype)) for i, k in enumerate(ROW_KEYS)}
        return dict(zip(keys, sums.tolist())), rows, table[:, -1].astype(bool)

    def _gathered(self, part: torch.Tensor) -> torch.Tensor:
        """Every process's `part` (same shape everywhere), stacked in rank order."""
        parts = [torch.empty_like(part) for _ in range(self.world)]
        with _peers_answer():
            dist.all_gather(parts, part.contiguous())
        return torch.cat(parts)

    def align(self, model: torch.nn.Module) -> None:
        with _peers_answer():
            for tensor in [*model.parameters(), *model.buffers()]:
                dist.broadcast(tensor.data, 0)

    def open_writer(self, open_run: Callable[[], RunWriter], snapshot: Callable[[], RunSnapshot]) -> RunWriter:
        """Rank 0 opens the run folder and tells the others where it is (or why it could not)."""
        said: list[Any] = [None, ""]
        writer = None
        if self.leads:
            try:
                writer = open_run()
                said[0] = str(writer.run.path)
            except Exception as exc:
                said[1] = str(exc)
                with _peers_answer():
                    dist.broadcast_object_list(said, 0)
                raise
        with _peers_answer():
            dist.broadcast_object_list(said, 0)
        if writer is not None:
            return writer
        if said[0] is None:
            raise TrainingError(f"The first process could not open the run folder: {said[1]}")
        return SilentWriter(Path(said[0]), snapshot)

    def leave(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()


def join(config: RunConfig, env: dict[str, str] | None = None) -> Exchange:
    """The run's exchange: one process on the `device` setting's device, or — under torchrun
    (WORLD_SIZE > 1) — this process's place in the group (gloo on CPUs, nccl on CUDA GPUs)."""
    env = dict(os.environ) if env is None else env
    rank, world, local_rank = world_from_env(env)
    if world <= 1 and "TORCHELASTIC_RUN_ID" not in env:   # under torchrun one process still makes a group of one
        return Exchange(resolve_device(config.train.device))
    if config.train.batch_size % world:
        raise ConfigError(f"batch_size {config.train.batch_size} is the whole step's batch and must split "
                          f"evenly over the {world} processes; choose a batch_size that divides by {world}.")
    device = resolve_device(config.train.device, local_rank=local_rank)
    if device.type == "mps":
        raise ConfigError("A run over several processes needs CUDA GPUs or CPUs; set device to 'cpu' or 'cuda'.")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=world,
                                timeout=timedelta(minutes=30))
    return ProcessGroup(device, rank, world)


# ----------------------------------------------------------------------------------------------
# Starting N local processes (hrm-studio train --nproc N)
# ----------------------------------------------------------------------------------------------

def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now, for the group's meeting point."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launcher_args(nproc: int, worker_args: list[str], port: int) -> list[str]:
    """torch.distributed.run's command line for `nproc` local processes of `hrm_studio <worker_args>`."""
    return ["--nnodes", "1", "--nproc-per-node", str(nproc), "--master-addr", "127.0.0.1",
            "--master-port", str(port), "--max-restarts", "0", "--monitor-interval", "0.1",
            "-m", "hrm_studio", *worker_args]


def why_failed(failures: dict[int, Any], world: int) -> tuple[int, str]:
    """(the rank that brought the run down, one sentence on it): not one the launcher ended
    (SIGTERM) or one that lost its peers, but the first to fail of the others."""
    def first(item: tuple[int, Any]) -> tuple[bool, int, int]:
        rank, failure = item
        followed = failure.exitcode in (-signal.SIGTERM, PEER_LOST_EXIT)
        return (followed, int(getattr(failure, "timestamp", 0) or 0), rank)

    rank, failure = min(failures.items(), key=first)
    if failure.exitcode < 0:
        try:
            how = f"was killed by {signal.Signals(-failure.exitcode).name}"
        except ValueError:
            how = f"was killed by signal {-failure.exitcode}"
    else:
        how = f"failed (exit code {failure.exitcode})"
    return rank, f"Process rank {rank} of {world} (pid {failure.pid}) {how}, so every process of the run was ended."


def launch(nproc: int, worker_args: list[str], run_folder: Path | None) -> int:
    """Run `hrm_studio <worker_args>` in `nproc` local processes through torch.distributed.run;
    the exit code, after one sentence naming the rank that failed (and how to continue)."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, available_cores() // nproc)))  # torchrun's default is 1
    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)  # our sentence says it once
    continue_with = (f" The run folder {run_folder} keeps its last complete epoch; continue it with "
                     f"'hrm-studio train --resume {run_folder} --nproc {nproc}'." if run_folder else "")
    try:
        run(get_args_parser().parse_args(launcher_args(nproc, worker_args, free_port())))
    except ChildFailedError as exc:
        if {f.exitcode for f in exc.failures.values()} == {2}:
            return 2  # settings or files refused: rank 0 already said why, in one sentence
        print(f"error: {why_failed(exc.failures, nproc)[1]}{continue_with}", flush=True)
        return 1
    except SignalException as exc:
        print(f"stopped by {signal.Signals(exc.sigval).name}: every process of the run was ended."
              f"{continue_with}", flush=True)
        return 128 + int(exc.sigval)
    return 0
