"""RunConfig: everything that defines a run, validated at the edge.

A run is fully described by three flat sections — model (official HRM field names),
data (which task and how much of it) and train (optimisation and run control). Every
field carries metadata (help text, range, choices, unit, group) so that front ends can
build forms and error messages from it instead of repeating the list by hand.
Field names are unique across the three sections, so `--set name=value` needs no prefix.

This module holds the fields, their coercion from text and the checks that need nothing
but the settings (`RunConfig.problems()`). Checks that need the task catalogue or the
curriculum live above it, in hrm_studio.validation, which every front end asks about a
whole run; what a run costs in memory and time is hrm_studio.costs.
"""

from __future__ import annotations

import functools
import json
import math
import re
import types
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from hrm_studio.errors import ConfigError
from hrm_studio.runstore.keys import HistoryKey


# The architectures a run can train (model/registry.py holds them; a test keeps the two in step).
ARCHITECTURES: tuple[str, ...] = ("hrm", "trm")

# What the `device` setting may say (training/device.py resolves it); cuda:N names one GPU.
DEVICE_SETTINGS: tuple[str, ...] = ("auto", "cpu", "cuda", "cuda:N", "mps")
_DEVICE_PATTERN = re.compile(r"auto|cpu|cuda|cuda:\d+|mps")


def _f(default: Any, help: str, *, group: str, min: float | None = None,
       max: float | None = None, choices: tuple[str, ...] | None = None, unit: str = "",
       live: bool = False, min_exclusive: bool = False, archs: tuple[str, ...] = ARCHITECTURES) -> Any:
    """A dataclass field with the metadata the validator and the settings form read.

    `live` marks the few fields that may change while a run is going. `archs` names the
    architectures that read the setting (every one by default); the others ignore it, so a
    form can hide it and a changed value is harmless.
    """
    meta = {"help": help, "group": group, "min": min, "max": max, "choices": choices,
            "unit": unit, "live": live, "min_exclusive": min_exclusive, "archs": archs}
    return field(default=default, metadata=meta)


def applies_to(f: Any, arch: str) -> bool:
    """Whether the setting of dataclass field `f` is read when training architecture `arch`."""
    return arch in f.metadata.get("archs", ARCHITECTURES)


@dataclass
class ModelConfig:
    """The architecture; names follow the official `arch` configs (HRM's and TRM's)."""

    arch: str = _f("hrm", "Which recurrent reasoning model to train: hrm, the Hierarchical Reasoning Model "
                   "(a slow high-level module and a fast low-level one that think in nested cycles), or "
                   "trm, the Tiny Recursive Model (one small network that refines a latent thought and "
                   "an answer in turn, back-propagating through a whole recursion).",
                   group="Model", choices=ARCHITECTURES)
    hidden_size: int = _f(64, "Width of every token's hidden state.", group="Model", min=8, max=4096)
    num_heads: int = _f(4, "Attention heads; hidden_size must divide evenly by it.", group="Model", min=1, max=64)
    expansion: float = _f(2.0, "Width of the SwiGLU feed-forward layer relative to hidden_size.",
                          group="Model", min=0.5, max=16.0)
    H_layers: int = _f(1, "Transformer blocks in the slow, high-level module.", group="Model", min=1, max=32,
                       archs=("hrm",))
    L_layers: int = _f(1, "Transformer blocks in the fast, low-level module (HRM), or in TRM's one network.",
                       group="Model", min=1, max=32)
    H_cycles: int = _f(2, "High-level updates per ACT segment (HRM); full recursions per ACT segment, all but "
                       "the last without gradient (TRM).", group="Model", min=1, max=16)
    L_cycles: int = _f(2, "Low-level updates per high-level update (HRM); latent updates per answer update "
                       "(TRM).", group="Model", min=1, max=16)
    puzzle_emb_ndim: int = _f(64, "Width of the learned per-puzzle embedding (0 turns it off).",
                              group="Model", min=0, max=4096)
    pos_encodings: str = _f("rope", "How token positions are encoded: rotary, learned, or none (TRM only).",
                            group="Model", choices=("rope", "learned", "none"))
    puzzle_emb_len: int = _f(16, "Positions in front of the puzzle that hold the puzzle embedding and give TRM "
                             "room to think (0 = as many as the embedding needs; none without a puzzle "
                             "embedding).", group="Model", min=0, max=256, unit="positions", archs=("trm",))
    mlp_t: bool = _f(False, "Mix positions with an MLP across the sequence instead of attention (TRM's "
                     "best Sudoku variant; its weights then fit one puzzle size only).", group="Model",
                     archs=("trm",))
    rope_theta: float = _f(10000.0, "Base of the rotary position frequencies.", group="Model",
                           min=1.0, max=1e7)
    rms_norm_eps: float = _f(1e-5, "Epsilon inside RMS normalisation.", group="Model", min=1e-12, max=1e-1)
    halt_max_steps: int = _f(2, "Most ACT segments (reasoning passes) per puzzle.", group="ACT",
                             min=1, max=64)
    halt_exploration_prob: float = _f(0.1, "Chance that a training puzzle is forced to think for a "
                                      "random minimum number of segments.", group="ACT", min=0.0, max=1.0)
    no_ACT_continue: bool = _f(True, "Halt when the Q-head predicts the answer is right, without a second "
                               "forward pass for a 'continue' target (TRM's default). Off: halt when 'halt' "
                               "beats 'continue', learned from one more segment, as HRM does.", group="ACT",
                               archs=("trm",))
    forward_dtype: str = _f("float32", "Number format of the activations (weights stay float32). bfloat16 "
                            "computes as the official code does and is less precise. On a CPU with "
                            "AVX512-BF16 or AMX it trains 30×30 puzzles about 1.5× faster with HRM Studio's "
                            "attention kernel (1.1× without it) and small puzzles about 1.4× faster (measured); "
                            "on CPUs without bfloat16 instructions it can be slower than float32.",
                            group="Model", choices=("float32", "bfloat16"))
    loss_type: str = _f("softmax_cross_entropy", "Token loss: softmax or the official stablemax "
                        "cross-entropy.", group="Optimisation",
                        choices=("softmax_cross_entropy", "stablemax_cross_entropy"))


@dataclass
class DataConfig:
    """Which puzzles to train on: a generated task or an official dataset folder."""

    task: str = _f("copy-increment", "Puzzle family to generate.", group="Task & data")
    dataset_dir: str = _f("", "Official HRM dataset folder to train on instead of a generated task "
                          "(leave empty to generate).", group="Task & data")
    train_size: int = _f(1000, "Training puzzles to generate.", group="Task & data", min=1, max=1_000_000,
                         unit="puzzles")
    test_size: int = _f(200, "Held-out puzzles to generate (never trained on).", group="Task & data",
                        min=1, max=1_000_000, unit="puzzles")
    grid_size: int = _f(0, "Side of the puzzle grid (0 = the task's default).", group="Task & data",
                        min=0, max=30, unit="cells")
    encoding: str = _f("tight", "tight: the grid plus its end-of-grid frame; canvas: the official "
                       "30×30 ARC canvas (much slower).", group="Task & data", choices=("tight", "canvas"))
    canvas_size: int = _f(30, "Side of the canvas for the canvas encoding.", group="Task & data",
                          min=2, max=64, unit="cells")
    shared_identifier: bool = _f(False, "Give every puzzle the same puzzle identifier, as the seed run "
                                 "did (makes some puzzles ambiguous).", group="Task & data")
    pattern_mix: str = _f("", "Relative weights of the task's patterns, e.g. copy=3,increment=1 "
                          "(empty = equal).", group="Task & data")
    label_noise: float = _f(0.0, "Fraction of training label cells replaced by a wrong token.",
                            group="Task & data", min=0.0, max=0.99)
    blanks: int = _f(0, "Empty Sudoku cells to fill (0 = the task's default).", group="Task & data",
                     min=0, max=80, unit="cells")
    curriculum: str = _f("off", "Train on easier puzzles first: stepped plateaus, a linear ramp, or a step "
                         "up each time held-out exact match passes curriculum_threshold.", group="Curriculum",
                         choices=("off", "stepped", "linear", "threshold"))
    curriculum_start: int = _f(0, "Easiest difficulty: grid side, or Sudoku blanks (0 = about half the "
                               "task's setting).", group="Curriculum", min=0, max=80)
    curriculum_epochs: int = _f(10, "Epochs to climb from curriculum_start to the task's own difficulty "
                                "(stepped, linear).", group="Curriculum", min=1, max=100_000, unit="epochs")
    curriculum_steps: int = _f(3, "Difficulty levels below the target (stepped, threshold).",
                               group="Curriculum", min=1, max=100)
    curriculum_threshold: float = _f(0.9, "Held-out exact match at the current difficulty that moves the "
                                     "threshold curriculum up a level.", group="Curriculum", min=0.0, max=1.0,
                                     min_exclusive=True)


@dataclass
class TrainConfig:
    """Optimisation and run control."""

    epochs: int = _f(30, "Passes over every training puzzle.", group="Optimisation", min=1, max=100_000,
                     live=True)
    batch_size: int = _f(32, "Puzzles processed together in one step.", group="Optimisation",
                         min=1, max=8192, unit="puzzles")
    optimizer: str = _f("adamw", "Optimiser for the network weights: AdamW, Adam, or Adam-atan2, the one the "
                        "official HRM and TRM code train with (Adam with the division replaced by an angle, "
                        "so it needs no epsilon and no weight moves more than 1.6 × the learning rate in a "
                        "step).",
                        group="Optimisation", choices=("adamw", "adam", "adam_atan2"))
    lr: float = _f(1e-3, "Peak learning rate.", group="Optimisation", min=0.0, max=1.0, min_exclusive=True)
    beta1: float = _f(0.9, "Adam beta1.", group="Optimisation", min=0.0, max=0.9999)
    beta2: float = _f(0.95, "Adam beta2.", group="Optimisation", min=0.0, max=0.99999)
    weight_decay: float = _f(0.1, "Decoupled weight decay (AdamW, Adam-atan2) or L2 penalty (Adam).",
                             group="Optimisation", min=0.0, max=10.0)
    puzzle_emb_lr: float = _f(1e-2, "Learning rate of the sign-SGD that trains puzzle embeddings.",
                              group="Optimisation", min=0.0, max=10.0)
    puzzle_emb_weight_decay: float = _f(0.1, "Weight decay of the puzzle embeddings.", group="Optimisation",
                                        min=0.0, max=10.0)
    lr_schedule: str = _f("constant", "Learning-rate shape after warm-up.", group="Optimisation",
                          choices=("constant", "cosine"))
    lr_warmup_epochs: float = _f(0.0, "Epochs of linear warm-up from 0 to the peak rate (0 = off).",
                                 group="Optimisation", min=0.0, max=10_000.0, unit="epochs")
    lr_warmup_steps: int = _f(0, "Optimiser steps of linear warm-up from 0 to the peak rate, counted as the "
                              "official code counts them (0 = off). Use this or lr_warmup_epochs, not both.",
                              group="Optimisation", min=0, max=100_000_000, unit="steps")
    lr_min_ratio: float = _f(0.1, "Cosine schedule ends at this fraction of the peak rate.",
                             group="Optimisation", min=0.0, max=1.0)
    ema_decay: float = _f(0.0, "Evaluate and save a slowly moving average of the weights instead of the "
                          "latest ones, which smooths out the jitter of the last updates. Each step the "
                          "average keeps this share of itself and takes the rest from the new weights "
                          "(0 = off; TRM's published recipes use 0.999, about the last thousand steps). "
                          "Training itself goes on with the latest weights.", group="Optimisation",
                          min=0.0, max=0.99999)
    grad_clip: float = _f(0.0, "Clip the gradient norm to this value (0 = no clipping).",
                          group="Optimisation", min=0.0, max=1e6)
    eval_interval: int = _f(1, "Evaluate on the held-out puzzles every N epochs.", group="Run", min=1,
                            max=100_000, unit="epochs", live=True)
    stop_at_exact: float = _f(1.0, "Stop once held-out exact match (after all segments) reaches this "
                              "(0 = never stop early for it).", group="Run", min=0.0, max=1.0, live=True)
    early_stopping_metric: str = _f(str(HistoryKey.VAL_EXACT), "History key watched for early stopping "
                                    "(higher is better, or lower for keys ending in 'loss').", group="Run")
    early_stopping_patience: int = _f(0, "Stop after this many evaluations without improvement "
                                      "(0 = off).", group="Run", min=0, max=100_000, live=True)
    viewer_interval: int = _f(1, "Refresh the prediction viewer every N epochs (0 = only at the end).",
                              group="Run", min=0, max=100_000, unit="epochs", live=True)
    viewer_sample: int = _f(64, "Training puzzles the viewer follows live (a fixed sample).", group="Run",
                            min=1, max=100_000, unit="puzzles", live=True)
    num_threads: int = _f(0, "CPU threads for training (0 = all cores). All cores is usually fastest; "
                          "fewer leave cores free for other work.", group="Run", min=0, max=1024)
    attention_kernel: str = _f("auto", "How attention is computed (the same maths either way). 'native' "
                               "uses HRM Studio's own fused kernel, built once with this computer's C "
                               "compiler (about a second, then cached): about 1.3× faster training on "
                               "30×30 puzzles in float32 and 1.8× in bfloat16 on a CPU with AVX-512, "
                               "and 1.1–1.25× in float32 on AVX2-only CPUs (measured). 'torch' uses "
                               "PyTorch's built-in kernel. 'auto' uses native on AVX-512 and AVX2 CPUs "
                               "when a C compiler is found, and torch otherwise.",
                               group="Run", choices=("auto", "native", "torch"))
    device: str = _f("auto", "Where the run computes: auto (a CUDA GPU if there is one, else an Apple GPU "
                     "(mps), else the CPU), cpu, cuda (the first GPU, or each process's own in a run over "
                     "several processes), cuda:N (GPU number N) or mps. Checkpoints do not depend on it: a "
                     "run trained on a GPU resumes or is evaluated on a CPU and the other way round.",
                     group="Run")
    processes: int = _f(1, "Processes that train the run together on this machine, through PyTorch's "
                        "torch.distributed (1 = one process: in the window, the window's own). batch_size stays "
                        "the whole step's batch, split over them, so it must divide by this; the result is the "
                        "same run. Worth it on machines with many cores or several GPUs.", group="Run",
                        min=1, max=256)
    tensorboard: bool = _f(True, "Also write TensorBoard event files into the run's tensorboard/ folder, so "
                           "`tensorboard --logdir <runs folder>` shows every run.", group="Run")
    seed: int = _f(0, "Random seed: the same seed and settings give the same run.", group="Run",
                   min=0, max=2**31 - 1)


SECTIONS: dict[str, type] = {"model": ModelConfig, "data": DataConfig, "train": TrainConfig}


@functools.lru_cache(maxsize=None)
def _type_hints(cls: type) -> dict[str, Any]:
    """A section's resolved field types, worked out once: resolving them evaluates every annotation
    (~2 ms), and coerce() runs for each field of each from_dict and set (the window: hundreds per run)."""
    return typing.get_type_hints(cls)


def _field_type(cls: type, name: str) -> type:
    return _type_hints(cls)[name]


@dataclass
class RunConfig:
    """A whole run: model + data + train. Build with `from_dict`, check with `validate`."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    # ----- serialisation -------------------------------------------------------------
    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {"model": asdict(self.model), "data": asdict(self.data), "train": asdict(self.train)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], base: "RunConfig | None" = None) -> "RunConfig":
        """Overlay `raw` (nested by section, or flat field names) on `base` (defaults)."""
        if not isinstance(raw, dict):
            raise ConfigError("A run configuration must be a JSON object with 'model', 'data' and "
                              "'train' sections.")
        config = base.copy() if base is not None else cls()
        for key, value in raw.items():
            if key in SECTIONS:
                if not isinstance(value, dict):
                    raise ConfigError(f"The '{key}' section of the configuration must be an object.")
                for name, item in value.items():
                    if name not in section_field_names(key):
                        raise ConfigError(f"Unknown setting '{key}.{name}'. {_suggest(name)}")
                    config.set(name, item)
            else:
                config.set(key, value)
        return config

    @classmethod
    def from_json_file(cls, path: str | Path, base: "RunConfig | None" = None) -> "RunConfig":
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"Config file {path} does not exist.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Config file {path} cannot be read: {exc}.") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"Config file {path} is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
        return cls.from_dict(raw, base)

    def copy(self) -> "RunConfig":
        return RunConfig(replace(self.model), replace(self.data), replace(self.train))

    # ----- field access by name -----------------------------------------------------------
    def section_of(self, name: str) -> Any:
        for section in SECTIONS:
            if name in section_field_names(section):
                return getattr(self, section)
        raise ConfigError(f"Unknown setting '{name}'. {_suggest(name)}")

    def get(self, name: str) -> Any:
        return getattr(self.section_of(name), name)

    def set(self, name: str, value: Any) -> None:
        """Set a field by name, converting strings (from --set or a form) to its type."""
        section = self.section_of(name)
        setattr(section, name, coerce(type(section), name, value))

    def apply_overrides(self, assignments: list[str]) -> None:
        """Apply `key=value` strings, as given to `--set`."""
        for item in assignments:
            if "=" not in item:
                raise ConfigError(f"'--set {item}' must look like name=value, e.g. --set lr=0.0005.")
            name, value = item.split("=", 1)
            self.set(name.strip(), value.strip())

    # ----- validation ---------------------------------------------------------------------
    def problems(self) -> dict[str, str]:
        """Every invalid field mapped to a one-sentence reason (empty when all is well)."""
        found: dict[str, str] = {}
        for section_name, cls in SECTIONS.items():
            section = getattr(self, section_name)
            for f in fields(cls):
                reason = check_field(f, getattr(section, f.name))
                if reason:
                    found[f.name] = reason
        m, d, t = self.model, self.data, self.train
        if "hidden_size" not in found and "num_heads" not in found:
            if m.hidden_size % m.num_heads:
                found["num_heads"] = (f"hidden_size ({m.hidden_size}) must divide evenly by num_heads "
                                      f"({m.num_heads}).")
            elif m.pos_encodings == "rope" and (m.hidden_size // m.num_heads) % 2:
                found["num_heads"] = (f"Rotary positions need an even head width, but hidden_size / "
                                      f"num_heads = {m.hidden_size // m.num_heads}.")
        if d.pattern_mix:
            try:
                parse_pattern_mix(d.pattern_mix)
            except ConfigError as exc:
                found["pattern_mix"] = str(exc)
        if "processes" not in found and "batch_size" not in found and t.batch_size % t.processes:
            found["processes"] = (f"batch_size ({t.batch_size}) is the whole step's batch and must split evenly "
                                  f"over the {t.processes} processes.")
        if not _DEVICE_PATTERN.fullmatch(t.device):
            found["device"] = f"device must be one of {', '.join(DEVICE_SETTINGS)}; '{t.device}' is not."
        if t.early_stopping_metric and not t.early_stopping_metric.replace("_", "").replace("/", "").isalnum():
            found["early_stopping_metric"] = "The early stopping metric must be a history key such as " \
                                             "val_exact_match_accuracy."
        return found

    def validate(self) -> "RunConfig":
        """Raise ConfigError listing every problem of the settings themselves; return self so
        calls can chain. (hrm_studio.validation.validate also checks the task and curriculum.)"""
        raise_if_invalid(self.problems())
        return self


def raise_if_invalid(found: Mapping[str, str]) -> None:
    """One ConfigError naming every problem found (none: nothing happens)."""
    if found:
        lines = "; ".join(f"{name}: {reason}" for name, reason in found.items())
        raise ConfigError(f"The run settings are not valid — {lines}")


def section_field_names(section: str) -> tuple[str, ...]:
    return tuple(f.name for f in fields(SECTIONS[section]))


def all_fields() -> list[tuple[str, Any]]:
    """(section, dataclass Field) for every setting, in display order."""
    return [(name, f) for name, cls in SECTIONS.items() for f in fields(cls)]


def _suggest(name: str) -> str:
    import difflib

    names = [f.name for _, f in all_fields()]
    close = difflib.get_close_matches(name, names, n=3)
    if close:
        return f"Did you mean {', '.join(close)}?"
    return "Run 'hrm-studio presets' to list every setting."


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def coerce(cls: type, name: str, value: Any) -> Any:
    """Convert `value` to the declared type of `cls.name`, or raise ConfigError."""
    kind = _field_type(cls, name)
    if isinstance(kind, types.UnionType):  # not used today, kept strict
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, (int, float)) and value in (0, 1):
                return bool(value)
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError
        if kind is int:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError
                return int(value)
            return int(str(value).strip())
        if kind is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if kind is str:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise ValueError
            return str(value)
    except (TypeError, ValueError):
        pass
    else:
        raise ConfigError(f"Setting '{name}' has an unsupported type.")
    raise ConfigError(f"Setting '{name}' must be {_kind_words(kind)}, not {value!r}.")


def _kind_words(kind: type) -> str:
    return {bool: "true or false", int: "a whole number", float: "a number", str: "text"}.get(kind, str(kind))


def check_field(f: Any, value: Any) -> str:
    """Why `value` is not allowed in field `f` (not finite, not a choice, out of range), or "".

    Public so that whatever checks one setting on its own (a sweep's values) words it the
    same way as `RunConfig.problems()`.
    """
    meta = f.metadata
    if isinstance(value, float) and not math.isfinite(value):
        return f"{f.name} must be a finite number, not {value}."
    choices = meta.get("choices")
    if choices and value not in choices:
        return f"{f.name} must be one of {', '.join(choices)}; '{value}' is not."
    lo, hi = meta.get("min"), meta.get("max")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if lo is not None:
            if meta.get("min_exclusive") and value <= lo:
                return f"{f.name} must be greater than {lo:g}."
            if value < lo:
                return f"{f.name} must be at least {lo:g}."
        if hi is not None and value > hi:
            return f"{f.name} must be at most {hi:g}."
    return ""


def parse_pattern_mix(text: str) -> dict[str, float]:
    """'copy=3,increment=1' → {'copy': 3.0, 'increment': 1.0}."""
    mix: dict[str, float] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, weight = part.partition("=")
        try:
            value = float(weight) if sep else math.nan
        except ValueError:
            value = math.nan
        if not name.strip() or not math.isfinite(value) or value < 0:
            raise ConfigError(f"pattern_mix must look like copy=1,increment=1 with non-negative "
                              f"weights; '{part}' is not.")
        mix[name.strip()] = value
    if mix and sum(mix.values()) <= 0:
        raise ConfigError("pattern_mix needs at least one pattern with a positive weight.")
    return mix


