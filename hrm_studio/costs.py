"""What a run costs: its peak memory and its wall time, estimated from the settings alone.

Both estimates read the same model shape — the positions a puzzle takes, the weights of one
transformer block and how many blocks a segment stores, runs and back-propagates through —
from `positions`, `block_weights` and `depth`, so a change to an architecture (HRM's two
networks and 1-step gradient, TRM's one network and gradient through a whole recursion) is
made here once and both follow. Deliberately torch- and Qt-free: the
settings form, the sweep dialog and the command line call this before anything is built.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Protocol

from hrm_studio.config import ModelConfig, RunConfig
from hrm_studio.errors import ConfigError
from hrm_studio.training.threads import available_cores


class PuzzleShape(Protocol):
    """What the estimates need to know about the puzzles (training.data_source.DataShape)."""

    @property
    def seq_len(self) -> int: ...
    @property
    def vocab_size(self) -> int: ...
    @property
    def num_puzzle_identifiers(self) -> int: ...
    @property
    def train_size(self) -> int: ...
    @property
    def test_size(self) -> int: ...


# ----------------------------------------------------------------------------------------
# The model's shape, shared by both estimates
# ----------------------------------------------------------------------------------------

def swiglu_width(hidden_size: int, expansion: float) -> int:
    """SwiGLU hidden width: the model's formula (model/layers.py), repeated here without torch."""
    inter = round(expansion * hidden_size * 2 / 3)
    return -(-inter // 256) * 256


def positions(model: ModelConfig, seq_len: int) -> int:
    """Positions per puzzle: its tokens plus the ones the puzzle embedding takes up (TRM: its
    `puzzle_emb_len` prefix when set)."""
    if model.puzzle_emb_ndim <= 0:
        return seq_len
    if model.arch == "trm" and model.puzzle_emb_len > 0:
        return seq_len + model.puzzle_emb_len
    return seq_len + -(-model.puzzle_emb_ndim // model.hidden_size)


def _mixes_tokens(model: ModelConfig) -> bool:
    """TRM's mlp_t: a SwiGLU across the sequence replaces attention."""
    return model.arch == "trm" and model.mlp_t


def block_weights(model: ModelConfig, tokens: int = 0) -> int:
    """Weights of one transformer block: attention's q, k, v and output (4h²) and SwiGLU's (3h·width);
    with TRM's mlp_t, a SwiGLU across the `tokens` positions instead of attention.

    Memory holds them (with gradients and optimiser state); every token multiplies by them
    (2 FLOPs each), so the memory and the time estimate both start from this number.
    """
    h = model.hidden_size
    mixing = 3 * tokens * swiglu_width(tokens, model.expansion) if _mixes_tokens(model) else 4 * h * h
    return mixing + 3 * h * swiglu_width(h, model.expansion)


def _block_flops_per_token(model: ModelConfig, tokens: int) -> int:
    """Forward FLOPs of one block per position: 2 per weight and attention's scores, or for mlp_t
    the SwiGLU across positions run once per hidden channel."""
    h = model.hidden_size
    if _mixes_tokens(model):
        return 6 * h * swiglu_width(h, model.expansion) + 6 * h * swiglu_width(tokens, model.expansion)
    return 2 * block_weights(model) + 4 * tokens * h


@dataclass(frozen=True)
class Depth:
    """How many transformer blocks one ACT segment has and uses."""

    stored: int     # distinct blocks: their weights, gradients and optimiser state
    forward: int    # block applications in one segment's forward pass
    gradient: int   # block applications the backward pass goes through (their activations are kept)


def depth(model: ModelConfig) -> Depth:
    """HRM: H_cycles × (L_cycles L-updates + one H-update), the gradient through the last L and H
    update only (1-step gradient). TRM: one network of L_layers blocks; H_cycles recursions of
    L_cycles latent updates and one answer update each, the gradient through the whole last one."""
    if model.arch == "trm":
        recursion = (model.L_cycles + 1) * model.L_layers
        return Depth(stored=model.L_layers, forward=model.H_cycles * recursion, gradient=recursion)
    return Depth(stored=model.H_layers + model.L_layers,
                 forward=model.H_cycles * (model.L_cycles * model.L_layers + model.H_layers),
                 gradient=model.L_layers + model.H_layers)


# ----------------------------------------------------------------------------------------
# Peak training memory: refuse a run that cannot fit before anything big is allocated.
# ----------------------------------------------------------------------------------------
# On the generous side: being refused for a run that would have fitted is a nuisance, but
# a run that exhausts the laptop's memory an hour in can freeze the whole machine.

MEMORY_LIMIT_FRACTION = 0.8
_RUNTIME_BYTES = 500 * 2**20  # Python, PyTorch and its thread pools, before any tensor


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes each part of a training run needs at its peak, and which settings drive it."""

    weights: int          # parameters, their gradients, Adam's two moments and its temporaries
    puzzle_embedding: int  # the per-puzzle embedding table (a buffer trained by sign-SGD)
    activations: int      # what the 1-step-gradient backward keeps, plus the ACT carry
    attention: int        # one attention score matrix (batch × heads × seq²)
    logits: int           # output logits, their softmax and gradient
    data: int             # the puzzles, their tensors and the held-out predictions
    runtime: int = _RUNTIME_BYTES

    @property
    def total(self) -> int:
        return (self.weights + self.puzzle_embedding + self.activations + self.attention + self.logits
                + self.data + self.runtime)

    def parts(self) -> dict[str, int]:
        return {"activations": self.activations, "attention": self.attention,
                "weights and optimiser state": self.weights, "puzzle embedding": self.puzzle_embedding,
                "logits": self.logits, "data": self.data, "runtime": self.runtime}


# What to lower for each part, in the words a person can act on.
_REMEDIES = {
    "activations": "batch_size, hidden_size or the sequence length (grid_size / encoding)",
    "attention": "batch_size or the sequence length (grid_size / encoding)",
    "weights and optimiser state": "hidden_size, expansion or H_layers / L_layers",
    "puzzle embedding": "puzzle_emb_ndim or the number of puzzle identifiers",
    "logits": "batch_size",
    "data": "train_size / test_size",
    "runtime": "nothing: close other programs",
}


def estimate_training_memory(config: RunConfig, *, seq_len: int, vocab_size: int, num_puzzle_identifiers: int,
                             train_size: int, test_size: int) -> MemoryEstimate:
    """Peak memory of training `config` on data of this shape (a generous estimate).

    Only the block applications the gradient goes through keep activations for the backward
    pass (`depth`): for HRM the last L and H update, so its cycles cost time, not memory; for
    TRM a whole recursion, so its L_cycles cost memory too. Layers, width, batch and
    sequence length cost memory.
    """
    m, t = config.model, config.train
    h = m.hidden_size
    width = swiglu_width(h, m.expansion)
    act_bytes = 4  # bfloat16 runs keep float32 copies (norms, rotary, cast weights): about as much
    tokens_per_puzzle = positions(m, seq_len)
    tokens = t.batch_size * tokens_per_puzzle
    blocks = depth(m)

    params = blocks.stored * block_weights(m, tokens_per_puzzle) + 2 * vocab_size * h + 2 * h + 2
    if m.pos_encodings == "learned":
        params += tokens_per_puzzle * h
    weights = params * 4 * 5  # weight, gradient, exp_avg, exp_avg_sq, foreach temporaries

    puzzle_embedding = num_puzzle_identifiers * m.puzzle_emb_ndim * 4 * 2  # table + a gathered copy

    saved_per_token = 14 * h + 4 * width  # per block: attention in/out, q/k/v, norms, SwiGLU halves
    activations = (blocks.gradient + 1) * tokens * saved_per_token * act_bytes  # + one block's gradients
    activations += 6 * tokens * h * act_bytes  # carry (z_H, z_L, old and new) and the input injection

    # PyTorch's CPU attention kernel tiles the scores when training; one full score matrix
    # (the fallback kernel's, at evaluation batch size) is the most it holds at once.
    attention = max(t.batch_size, 64) * m.num_heads * tokens_per_puzzle * tokens_per_puzzle * 4
    if _mixes_tokens(m):
        attention = 0

    eval_batch = max(t.batch_size, 64)
    logits = 4 * t.batch_size * seq_len * vocab_size * 4 + 3 * eval_batch * seq_len * vocab_size * 4

    steps = m.halt_max_steps
    data = (train_size + test_size) * seq_len * 40  # arrays, tensors, one temporary copy
    data += test_size * steps * seq_len * 4  # held-out predictions and confidences
    return MemoryEstimate(weights=weights, puzzle_embedding=puzzle_embedding, activations=activations,
                          attention=attention, logits=logits, data=data)


def available_memory_bytes() -> int | None:
    """Memory the system can give this process now (MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def check_training_memory(estimate: MemoryEstimate, available: int | None = None) -> None:
    """Raise ConfigError when `estimate` exceeds MEMORY_LIMIT_FRACTION of the available memory.

    `available` defaults to what the system reports now; when it cannot be read the check
    passes (better to try than to refuse on a guess).
    """
    if available is None:
        available = available_memory_bytes()
    if available is None or estimate.total <= MEMORY_LIMIT_FRACTION * available:
        return
    parts = sorted(estimate.parts().items(), key=lambda kv: kv[1], reverse=True)
    biggest = parts[0][0]
    shown = ", ".join(f"{name} {format_bytes(size)}" for name, size in parts[:3])
    raise ConfigError(f"Training with these settings needs about {format_bytes(estimate.total)} of memory "
                      f"({shown}), but only {format_bytes(available)} is available and HRM Studio uses at most "
                      f"{MEMORY_LIMIT_FRACTION:.0%} of it; lower {_REMEDIES[biggest]}.")


def check_memory(config: RunConfig, shape: PuzzleShape, available: int | None = None) -> None:
    """ConfigError (with the estimate and what to lower) when the run would not fit in memory."""
    check_training_memory(estimate_training_memory(
        config, seq_len=shape.seq_len, vocab_size=shape.vocab_size,
        num_puzzle_identifiers=shape.num_puzzle_identifiers, train_size=shape.train_size,
        test_size=shape.test_size), available)


# ----------------------------------------------------------------------------------------
# How long will it take?
# ----------------------------------------------------------------------------------------
# A cost model, not a measurement: arithmetic work from the config's size, plus fixed costs
# per optimiser step, per epoch and per run. The constants were fitted to six single-thread
# runs (tiny to hidden_size 256 on the 30×30 canvas, 3 s to 64 s) on an AMD EPYC server
# core; they came within 0.6–1.4× of the measured wall time. It assumes every puzzle thinks
# for all halt_max_steps segments and every epoch runs, so runs that halt early or solve
# the task (stop_at_exact) finish sooner than estimated.
FLOPS_PER_THREAD = 20e9       # sustained float32 FLOP/s of PyTorch's CPU kernels on one thread
SECONDS_PER_STEP = 0.02       # Python, autograd and optimiser overhead of one ACT segment step
SECONDS_PER_EPOCH = 0.1       # the history, status and last-epoch checkpoint writes
SECONDS_PER_RUN = 0.7         # data generation, model build, the first and final checkpoints


def estimate_seconds(config: RunConfig, shape: PuzzleShape, threads: int | None = None) -> float:
    """Estimated seconds to train `config` on puzzles of `shape` to its last epoch.

    Counts matrix-multiply FLOPs: every segment runs `depth(...).forward` blocks forward and
    back-propagates through `depth(...).gradient` of them (HRM: the last L and H update; TRM: the
    last whole recursion); held-out and viewer evaluations run every segment forward. The
    Q-target pass of HRM's training is not counted apart: the constants were fitted to HRM runs
    that made it, so a TRM with no_ACT_continue (no such pass) is estimated on the generous side.
    """
    m, t = config.model, config.train
    h = m.hidden_size
    tokens = positions(m, shape.seq_len)
    block = _block_flops_per_token(m, tokens)
    blocks = depth(m)
    forward = blocks.forward * block + 2 * h * shape.vocab_size
    backward = 2 * (blocks.gradient * block + 2 * h * shape.vocab_size)
    rows = min(t.batch_size, shape.train_size)
    steps = math.ceil(shape.train_size * m.halt_max_steps / rows)
    train_flops = steps * rows * tokens * (forward + backward)
    evals = math.ceil(t.epochs / t.eval_interval)
    viewer = math.ceil(t.epochs / t.viewer_interval) if t.viewer_interval else 1
    eval_flops = (evals * shape.test_size + viewer * min(t.viewer_sample, shape.train_size)) \
        * m.halt_max_steps * tokens * forward
    cores = threads or t.num_threads or available_cores()
    speed = FLOPS_PER_THREAD * cores ** 0.8  # threads share memory bandwidth: less than linear
    per_epoch = train_flops / speed + steps * SECONDS_PER_STEP + SECONDS_PER_EPOCH
    return SECONDS_PER_RUN + t.epochs * per_epoch + eval_flops / speed


# ----------------------------------------------------------------------------------------
# Costs in words
# ----------------------------------------------------------------------------------------

def format_bytes(count: float) -> str:
    """1536 → '1.5 KB': sizes as the memory refusal and the run library show them."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if count < 1024 or unit == "TB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"  # pragma: no cover


def format_duration(seconds: float | None) -> str:
    """90 → '1.5 min': estimates and wall times with no more precision than they have."""
    if seconds is None:
        return "unknown"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min" if seconds >= 600 else f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
