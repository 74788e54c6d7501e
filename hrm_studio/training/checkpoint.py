"""Checkpoints: save, load (safely), recognise and export.

Everything is loaded with `torch.load(weights_only=True)` or from safetensors, so a file
from a stranger can hold tensors and plain values but can never run code. Four kinds of
file are recognised:

- a Studio checkpoint (`.pt`): model, optimiser, epoch, config, history, RNG state;
- a `.safetensors` file with its config JSON beside it (`<name>.json`), else in its header;
- an official HRM or TRM `step_N` file (keys prefixed `_orig_mod.model.`) with `all_config.yaml`
  (official_format.py reads and writes that file for either architecture);
- a bare state dict such as the seed's `best_model.pth` / `final_model.pth`.

Weights know their architecture (HRM has an H and an L network, TRM only the L one), so weights of
one opened with the settings of the other are refused naming what the file holds.

A run with an EMA of its weights (ema.py) saves the averaged weights as the checkpoint's model
— what every reader evaluates and exports — and its raw weights under `ema.raw_model`, which
resuming trains on.

A Studio checkpoint's payload is written (`training_payload`) and read back for resuming
(`read_resume`, `restore_training`) here and nowhere else, so every check that a payload can
be resumed — is it a Studio checkpoint with optimiser and history, do its fields have the
types resuming reads, do its settings match the run's — lives beside its format.
"""

from __future__ import annotations

import io
import json
import pickle
import warnings
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch

from hrm_studio.config import ModelConfig, RunConfig, applies_to
from hrm_studio.model.registry import architecture, architecture_of_weights
from hrm_studio.validation import validate
from hrm_studio.errors import CheckpointError, ConfigError, UserError
from hrm_studio.runstore.atomic import atomic_write, atomic_write_text
from hrm_studio.runstore.run_dir import RunDir, RunFolderError, resolve_resume, write_failure
from hrm_studio.training.ema import WeightEMA
from hrm_studio.training.official_format import official_yaml, official_yaml_to_overrides
from hrm_studio.training.train_state import TrainState

STUDIO_FORMAT = "hrm-studio-checkpoint"
STUDIO_VERSION = 1
_PREFIXES = ("_orig_mod.", "model.")


@dataclass
class LoadedWeights:
    """Model weights from any supported file, with whatever config came with them."""

    state_dict: dict[str, torch.Tensor]
    source: str                          # "studio" | "safetensors" | "official" | "state_dict"
    config: dict[str, Any] | None        # RunConfig overrides found beside / inside the file
    payload: dict[str, Any] | None = None  # the whole Studio checkpoint, for resuming
    path: Path | None = None
    arch: str | None = None  # the architecture the weights' networks show (their key names), None if neither


def _names_arch(config: dict[str, Any] | None) -> bool:
    """Whether settings that came with weights say which architecture (flat or in the model section)."""
    if not config:
        return False
    model = config.get("model")
    return "arch" in config or (isinstance(model, dict) and "arch" in model)


def settings_for(loaded: LoadedWeights, base: RunConfig) -> RunConfig:
    """`base` with the settings that came with the weights on top. Weights that do not name their
    architecture (a bare state dict or safetensors file, an older checkpoint) get the one their
    networks show, so bare TRM weights open as TRM without `--set arch=trm`; a later `--set arch`
    still wins, and a contradiction is refused by check_config_against_weights."""
    config = RunConfig.from_dict(loaded.config, base=base) if loaded.config else base.copy()
    if loaded.arch is not None and not _names_arch(loaded.config):
        config.set("arch", loaded.arch)
    return config


# ----------------------------------------------------------------------------------------
# Saving
# ----------------------------------------------------------------------------------------

def on_cpu(value: Any) -> Any:
    """`value` with every tensor inside it (dicts, lists, tuples) on the CPU: checkpoints never
    depend on the device a run trained on, so they load and resume anywhere."""
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, dict):
        return {k: on_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(on_cpu(v) for v in value)
    return value


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write a Studio checkpoint atomically, device-free; the previous file stays until the new one is whole."""
    path = Path(path)
    payload = {"format": STUDIO_FORMAT, "version": STUDIO_VERSION, **on_cpu(payload)}

    def write(handle: Any) -> None:
        torch.save(payload, handle)

    try:
        atomic_write(path, write)
    except OSError as exc:
        error = RunFolderError(f"{write_failure(exc, f'checkpoint {path}')} The previous {path.name}, if "
                               f"there was one, is unchanged.")
        error.errno = exc.errno  # type: ignore[attr-defined]
        raise error from None
    return path


# ----------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------

def torch_load_safely(path: Path) -> Any:
    """torch.load with weights_only=True, turning every failure into one clear sentence."""
    if not path.exists():
        raise CheckpointError(f"Checkpoint {path} does not exist.")
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder; choose the checkpoint file inside it.")
    if path.stat().st_size == 0:
        raise CheckpointError(f"Checkpoint {path} is empty (0 bytes); it was probably not written "
                              f"completely. Use an earlier checkpoint.")
    try:
        with warnings.catch_warnings():  # e.g. "pickle protocol 4": noise on top of our one sentence
            warnings.simplefilter("ignore")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if any(word in text for word in ("GLOBAL", "Unsupported global", "REDUCE", "BUILD")):
            raise CheckpointError(
                f"Checkpoint {path} contains Python objects that could run code when loaded, so HRM "
                f"Studio refuses to open it. Only tensors and plain values are accepted.") from None
        raise CheckpointError(f"Checkpoint {path} is damaged or is not a PyTorch file; use another "
                              f"checkpoint.") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, KeyError,
            AttributeError, TypeError, IndexError) as exc:
        raise CheckpointError(f"Checkpoint {path} is damaged or truncated and cannot be read "
                              f"({type(exc).__name__}). Use an earlier checkpoint.") from None


def strip_prefixes(state_dict: dict[str, Any]) -> dict[str, Any]:
    """Official `step_N` keys are `_orig_mod.model.inner.…`; ours are `inner.…`."""
    out = {}
    for key, value in state_dict.items():
        while key.startswith(_PREFIXES):
            for prefix in _PREFIXES:
                if key.startswith(prefix):
                    key = key[len(prefix):]
        out[key] = value
    return out


def _check_tensors(state_dict: Any, path: Path) -> dict[str, torch.Tensor]:
    if not isinstance(state_dict, dict) or not state_dict:
        raise CheckpointError(f"{path} holds no model weights.")
    bad = [k for k, v in state_dict.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"{path} is not a model state dict (entry {bad[0]!r} is not a tensor).")
    odd = [k for k, v in state_dict.items() if v.layout != torch.strided or v.is_complex()]
    if odd:
        raise CheckpointError(f"{path} holds a tensor of an unsupported kind ({odd[0]!r}); HRM weights are "
                              f"plain real-valued tensors.")
    state_dict = strip_prefixes(state_dict)
    if not any(k.startswith("inner.") for k in state_dict):
        raise CheckpointError(f"{path} does not hold HRM or TRM weights (no 'inner.*' keys; found e.g. "
                              f"{next(iter(state_dict))!r}).")
    return state_dict


def read_weights(path: str | Path) -> LoadedWeights:
    """Recognise the file kind and return its weights (and config, when one is beside it), with the
    architecture their key names show (``arch``): every caller reads it from here."""
    loaded = _read_any(Path(path))
    loaded.arch = architecture_of_weights(loaded.state_dict)
    return loaded


def _read_any(path: Path) -> LoadedWeights:
    if path.suffix == ".safetensors":
        return _read_safetensors(path)
    data = torch_load_safely(path)
    if isinstance(data, dict) and data.get("format") == STUDIO_FORMAT:
        if "model" not in data:
            raise CheckpointError(f"Checkpoint {path} has no 'model' entry.")
        return LoadedWeights(_check_tensors(data["model"], path), "studio", data.get("config"), data, path)
    state_dict = _check_tensors(data, path)
    yaml_path = path.parent / "all_config.yaml"
    if yaml_path.exists():
        overrides = official_yaml_to_overrides(yaml_path)
        if "arch" in overrides:
            check_architecture(state_dict, overrides["arch"], path, f"{yaml_path.name} beside it names")
        return LoadedWeights(state_dict, "official", overrides, None, path)
    return LoadedWeights(state_dict, "state_dict", None, None, path)


def _read_safetensors(path: Path) -> LoadedWeights:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not path.exists():
        raise CheckpointError(f"Checkpoint {path} does not exist.")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path} is not a valid safetensors file ({exc}).") from None
    config = None
    beside = path.with_suffix(".json")
    if beside.exists():
        try:
            config = json.loads(beside.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"The config beside {path} ({beside.name}) cannot be read: {exc}.") from None
    else:
        config = _embedded_config(path)
    return LoadedWeights(_check_tensors(tensors, path), "safetensors", config, None, path)


def _embedded_config(path: Path) -> dict[str, Any] | None:
    """The settings our export writes into the safetensors header (metadata "config"), so a file
    copied on its own still opens; None for a file from elsewhere that has none."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    try:
        config = json.loads(metadata.get("config") or "null")
    except json.JSONDecodeError:
        return None  # someone else's metadata under that name: as if there were none
    return config if isinstance(config, dict) else None


# ----------------------------------------------------------------------------------------
# Resuming: the payload a run writes, and every check before one is continued
# ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ResumePoint:
    """A Studio checkpoint that can be continued: its file, its payload and its stored settings."""

    path: Path
    payload: dict[str, Any]
    config: RunConfig

    @property
    def run_folder(self) -> Path | None:
        """The run folder the checkpoint sits in, where resuming goes on writing; None for a loose file."""
        run = RunDir.writing_checkpoint(self.path)
        return run.path if run is not None else None


def read_resume(path: str | Path) -> ResumePoint:
    """The checkpoint `path` names (a run folder means the checkpoint it resumes from), checked to
    be a whole Studio checkpoint before anything is built."""
    checkpoint = resolve_resume(path)
    loaded = read_weights(checkpoint)
    if loaded.payload is None:
        raise CheckpointError(f"{checkpoint} holds weights only (no optimiser or history), so it cannot be "
                              f"resumed; start a new run from its weights instead.")
    check_resume_payload(loaded.payload, checkpoint)
    return ResumePoint(checkpoint, loaded.payload, stored_config(loaded.payload, checkpoint))


def check_resume_settings(point: ResumePoint, config: RunConfig) -> None:
    """The model and data settings cannot change on resume (training settings may)."""
    if point.config.model.arch != config.model.arch:
        held = point.config.model.arch
        raise CheckpointError(f"{point.path} is a {held.upper()} run ({architecture(held).title}), so it cannot be "
                              f"resumed as {config.model.arch.upper()}; resume it with arch = {held}.")
    for section in ("model", "data"):
        if getattr(point.config, section) != getattr(config, section):
            raise CheckpointError(f"{point.path} was trained with different {section} settings; resume "
                                  f"it with the settings stored in the checkpoint.")


def stored_config(payload: dict[str, Any], path: str | Path) -> RunConfig:
    """The settings a checkpoint was trained with; a damaged or foreign set is named as such."""
    try:
        return validate(RunConfig.from_dict(payload.get("config") or {}))
    except ConfigError as exc:
        raise CheckpointError(f"The settings stored in {path} are not valid ({exc}); the file is damaged or "
                              f"was not written by HRM Studio.") from None


def _whole(value: Any, *, minimum: int | None = None) -> bool:
    return (not isinstance(value, bool) and isinstance(value, int)
            and (minimum is None or value >= minimum))


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


def check_resume_payload(payload: dict[str, Any], path: str | Path) -> None:
    """Everything `restore_training` reads must have the type it expects, before anything is built."""
    def bad(what: str) -> CheckpointError:
        return CheckpointError(f"Checkpoint {path} cannot be resumed: its {what}. It is damaged or was not "
                               f"written by HRM Studio; use another checkpoint.")

    for key in ("epoch", "global_step"):
        if not _whole(payload.get(key, 0), minimum=0):
            raise bad(f"'{key}' is not a whole number ≥ 0")
    history = payload.get("history", [])
    if not isinstance(history, list) or not all(isinstance(row, dict) for row in history):
        raise bad("history is not a list of rows")
    optimizer = payload.get("optimizer")
    if (not isinstance(optimizer, dict) or not isinstance(optimizer.get("state"), dict)
            or not isinstance(optimizer.get("param_groups"), list)):
        raise bad("optimiser state is missing")
    best = payload.get("best") or {}
    if not isinstance(best, dict):
        raise bad("best score is not a record")
    if best.get("value") is not None and not _number(best["value"]):
        raise bad("best score is not a number")
    for key in ("epoch", "bad_evals"):
        if best.get(key) is not None and not _whole(best[key]):
            raise bad(f"best '{key}' is not a whole number")
    if payload.get("wall_seconds") is not None and not _number(payload["wall_seconds"]):
        raise bad("wall time is not a number")
    ema = payload.get("ema")
    if ema is not None:
        raw = ema.get("raw_model") if isinstance(ema, dict) else None
        if (not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                 for k, v in raw.items())):
            raise bad("raw weights beside the averaged ones (EMA) are missing")


def check_optimizer_state(saved: dict[str, Any], optimizer: torch.optim.Optimizer) -> None:
    """Adam's moments must have their parameter's shape, or the first step would crash."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    saved_ids = [i for group in saved.get("param_groups", []) if isinstance(group, dict)
                 for i in group.get("params", [])]
    if len(saved_ids) != len(params):
        raise CheckpointError(f"The optimiser state in the checkpoint covers {len(saved_ids)} parameters but the "
                              f"model has {len(params)}; the file is damaged or for another model.")
    state = saved.get("state", {})
    for index, param in zip(saved_ids, params):
        entry = state.get(index, {})
        if not isinstance(entry, dict):
            raise CheckpointError("The optimiser state in the checkpoint is damaged.")
        for name, value in entry.items():
            if isinstance(value, torch.Tensor) and value.dim() > 0 and tuple(value.shape) != tuple(param.shape):
                raise CheckpointError(f"The optimiser state in the checkpoint does not fit: '{name}' of parameter "
                                      f"{index} has shape {list(value.shape)}, the model needs "
                                      f"{list(param.shape)}.")


def training_payload(model: torch.nn.Module, optimizer: torch.optim.Optimizer, config: RunConfig,
                     task: dict[str, Any], state: TrainState, wall_seconds: float,
                     ema: WeightEMA | None = None) -> dict[str, Any]:
    """What a run's checkpoint holds: enough to continue it exactly where it was. With an EMA,
    "model" is the averaged weights (what is evaluated and exported) and the raw ones sit beside."""
    t = config.train
    raw = {k: v.detach().clone() for k, v in model.state_dict().items()}
    extra = {} if ema is None else {"ema": {"decay": ema.decay, "raw_model": raw}}
    return {
        "model": raw if ema is None else ema.state_dict_of(model),
        "optimizer": optimizer.state_dict(),
        "scheduler": {"kind": t.lr_schedule, "global_step": state.global_step},
        "epoch": state.epoch,
        "global_step": state.global_step,
        "config": config.to_dict(),
        "task": task,
        "history": list(state.history),
        "best": {"metric": t.early_stopping_metric, "value": state.best_value,
                 "epoch": state.best_epoch, "bad_evals": state.bad_evals},
        "wall_seconds": wall_seconds,
        "rng": {"torch": torch.get_rng_state()},
        **extra,
    }


def restore_training(payload: dict[str, Any], model: torch.nn.Module,
                     optimizer: torch.optim.Optimizer) -> TrainState:
    """Load a checked payload's weights (the raw ones of a run with an EMA), optimiser and torch RNG;
    returns where the run was."""
    ema = payload.get("ema")
    load_into(model, strip_prefixes(ema["raw_model"] if ema else payload["model"]), "the checkpoint")
    check_optimizer_state(payload["optimizer"], optimizer)
    try:
        optimizer.load_state_dict(payload["optimizer"])
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"The optimiser state in the checkpoint does not fit: {exc}.") from None
    best = payload.get("best") or {}
    rng = (payload.get("rng") or {}).get("torch")
    if isinstance(rng, torch.Tensor):
        torch.set_rng_state(rng)
    return TrainState(epoch=int(payload.get("epoch", 0)), global_step=int(payload.get("global_step", 0)),
                      history=[dict(r) for r in payload.get("history", [])], best_value=best.get("value"),
                      best_epoch=int(best.get("epoch") or 0), bad_evals=int(best.get("bad_evals") or 0),
                      wall_offset=float(payload.get("wall_seconds") or 0.0))


def restore_ema(payload: dict[str, Any] | None, model: torch.nn.Module, decay: float) -> WeightEMA | None:
    """The run's EMA (None when ema_decay is 0), starting from the model's weights as they are now,
    or from a resumed payload's average when it kept one."""
    ema = WeightEMA.for_run(model, decay)
    if ema is not None and payload is not None and payload.get("ema"):
        averaged = strip_prefixes(payload["model"])
        check_fits(model, averaged, "the checkpoint's averaged (EMA) weights")
        ema.load_shadow(averaged)
    return ema


# ----------------------------------------------------------------------------------------
# Checking weights against a model
# ----------------------------------------------------------------------------------------

def mismatches(state_dict: dict[str, torch.Tensor], model: torch.nn.Module) -> list[str]:
    """Every key missing, unexpected or of the wrong shape, as readable lines."""
    expected = model.state_dict()
    lines = []
    for key, tensor in expected.items():
        if key not in state_dict:
            lines.append(f"missing {key} {list(tensor.shape)}")
        elif tuple(state_dict[key].shape) != tuple(tensor.shape):
            lines.append(f"{key}: file has {list(state_dict[key].shape)}, the settings need "
                         f"{list(tensor.shape)}")
    for key in state_dict:
        if key not in expected:
            lines.append(f"unexpected {key} {list(state_dict[key].shape)}")
    return lines


def check_architecture(state_dict: dict[str, Any], arch: str, source: str | Path,
                       wanted_by: str = "the settings say") -> None:
    """Refuse weights of another architecture than `arch`, naming the one they hold."""
    held = architecture_of_weights(state_dict)
    if held is not None and held != arch:
        raise CheckpointError(f"{source} holds {held.upper()} weights ({architecture(held).title}), but "
                              f"{wanted_by} arch = {arch} ({architecture(arch).title}). Open it with arch = {held} "
                              f"(the settings' arch, or --set arch={held}).")


def load_into(model: torch.nn.Module, state_dict: dict[str, torch.Tensor], source: str | Path) -> None:
    """Copy weights into `model` only after every key and shape has been checked."""
    check_fits(model, state_dict, source)
    with torch.no_grad():
        model.load_state_dict({k: v.to(expected.dtype) for k, v, expected in
                               ((k, v, model.state_dict()[k]) for k, v in state_dict.items())}, strict=True)


def check_fits(model: torch.nn.Module, state_dict: dict[str, torch.Tensor], source: str | Path) -> None:
    """CheckpointError unless `state_dict` is `model`'s architecture with every key, shape and value usable."""
    model_arch = architecture_of_weights(model.state_dict())
    if model_arch is not None:
        check_architecture(state_dict, model_arch, source, "the model being loaded is")
    problems = mismatches(state_dict, model)
    if not problems:
        broken = [key for key, value in state_dict.items()
                  if value.is_floating_point() and not bool(torch.isfinite(value).all())]
        if broken:
            raise CheckpointError(f"The weights in {source} hold NaN or infinite values ({', '.join(broken[:5])}"
                                  f"{', …' if len(broken) > 5 else ''}), so they cannot be used. Use an "
                                  f"earlier checkpoint.")
    if problems:
        shown = "; ".join(problems[:12]) + ("; …" if len(problems) > 12 else "")
        raise CheckpointError(f"The weights in {source} do not fit the model settings "
                              f"({len(problems)} mismatch{'es' if len(problems) != 1 else ''}): {shown}. "
                              f"Pick the preset or settings the weights were trained with.")


def shapes_from_weights(state_dict: dict[str, torch.Tensor]) -> dict[str, int]:
    """What the weights alone say: vocabulary, identifiers, width, layer counts."""
    out: dict[str, int] = {}
    emb = state_dict.get("inner.embed_tokens.embedding_weight")
    if emb is not None and emb.ndim == 2:
        out["vocab_size"], out["hidden_size"] = int(emb.shape[0]), int(emb.shape[1])
    pe = state_dict.get("inner.puzzle_emb.weights")
    if pe is not None and pe.ndim == 2:
        out["num_puzzle_identifiers"], out["puzzle_emb_ndim"] = int(pe.shape[0]), int(pe.shape[1])
    else:
        out["puzzle_emb_ndim"] = 0
    trm = architecture_of_weights(state_dict) == "trm"
    for level in ("L",) if trm else ("H", "L"):  # TRM has no H network: its H_layers is not in the weights
        ids = {k.split(".")[3] for k in state_dict if k.startswith(f"inner.{level}_level.layers.")}
        out[f"{level}_layers"] = len(ids)
    pos = state_dict.get("inner.embed_pos.embedding_weight")
    if pos is not None and pos.ndim == 2:
        out["positions"] = int(pos.shape[0])
    return out


def check_config_against_weights(config: RunConfig, state_dict: dict[str, torch.Tensor],
                                 source: str | Path) -> None:
    """Name every setting the weights contradict, before building anything (first of all the architecture)."""
    check_architecture(state_dict, config.model.arch, source)
    told = shapes_from_weights(state_dict)
    read = {f.name for f in fields(ModelConfig) if applies_to(f, config.model.arch)}  # TRM has no H_level
    wrong = []
    for name in ("hidden_size", "puzzle_emb_ndim", "H_layers", "L_layers"):
        if name in read and name in told and told[name] != config.get(name):
            wrong.append(f"{name} is {config.get(name)} in the settings but {told[name]} in the weights")
    mixing = any(".mlp_t." in k for k in state_dict)
    if "mlp_t" in read and mixing != config.model.mlp_t:
        wrong.append(f"mlp_t is {config.model.mlp_t} in the settings but {mixing} in the weights")
    learned = "positions" in told
    if learned != (config.model.pos_encodings == "learned"):
        wrong.append(f"pos_encodings is '{config.model.pos_encodings}' in the settings but the weights "
                     f"{'have' if learned else 'have no'} learned positions")
    if wrong:
        from hrm_studio.training.preset_match import preset_advice

        raise CheckpointError(f"The weights in {source} were trained with other settings: "
                              + "; ".join(wrong) + ". " + preset_advice(told, config.model.arch))


def check_weights_cover_data(state_dict: dict[str, torch.Tensor], info: Any, source: str | Path) -> None:
    """Weights for a smaller vocabulary or fewer puzzle identifiers than the data would index out of
    range mid-run; name each such tensor with its shape and what the puzzles need, before training."""
    told = shapes_from_weights(state_dict)
    wrong = []
    vocab = told.get("vocab_size")
    if vocab is not None and vocab < info.vocab_size:
        for key in ("inner.embed_tokens.embedding_weight", "inner.lm_head.weight"):
            if key in state_dict:
                wrong.append(f"{key} has {list(state_dict[key].shape)} ({vocab} tokens) but the puzzles use "
                             f"{info.vocab_size} tokens")
    ids = told.get("num_puzzle_identifiers")
    if ids is not None and ids < info.num_puzzle_identifiers:
        from hrm_studio.training.preset_match import identifier_words

        wrong.append(f"{identifier_words(info.num_puzzle_identifiers, ids)} (inner.puzzle_emb.weights has "
                     f"{list(state_dict['inner.puzzle_emb.weights'].shape)})")
    if wrong:
        from hrm_studio.training.preset_match import preset_advice

        raise CheckpointError(f"The weights in {source} were trained on other puzzles: " + "; ".join(wrong)
                              + f". {preset_advice(told)} Or start without them.")


# ----------------------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------------------

def export_weights(state_dict: dict[str, torch.Tensor], config: RunConfig, fmt: str, out: str | Path,
                   *, step: int = 0, payload: dict[str, Any] | None = None) -> list[Path]:
    """Write weights as a Studio .pt, a .safetensors (+ config JSON) or an official folder.

    The file named `out` is replaced, as asked; a file beside it that nobody named is not (see
    _check_export_target). An official folder keeps every other file in it.
    """
    out = Path(out)
    _check_export_target(fmt, out, step)
    state_dict = {k: v.detach().contiguous().cpu() for k, v in state_dict.items()}
    try:
        if fmt == "pt":
            body = dict(payload or {})
            body.update({"model": state_dict, "config": config.to_dict()})
            return [save_checkpoint(out, body)]
        if fmt == "safetensors":
            from safetensors.torch import save as st_save

            blob = st_save(state_dict, metadata={"format": "hrm-studio", "config": config.to_json()})
            atomic_write(out, lambda handle: handle.write(blob))
            side = out.with_suffix(".json")
            atomic_write_text(side, config.to_json() + "\n")
            return [out, side]
        if fmt == "hrm":
            out.mkdir(parents=True, exist_ok=True)
            official = {f"_orig_mod.model.{k}": v for k, v in state_dict.items()}
            buffer = io.BytesIO()
            torch.save(official, buffer)
            step_path = out / f"step_{step}"
            atomic_write(step_path, lambda handle: handle.write(buffer.getvalue()))
            yaml_path = out / "all_config.yaml"
            atomic_write_text(yaml_path, official_yaml(config))
            return [step_path, yaml_path]
    except OSError as exc:
        raise UserError(f"Could not write {out}: {exc.strerror or exc}.") from None
    raise UserError(f"Unknown export format '{fmt}'; use pt, safetensors or hrm.")


def _check_export_target(fmt: str, out: Path, step: int) -> None:
    """Refuse an export that would replace a file the person did not name: the config JSON beside a
    .safetensors when no .safetensors of that name is there (so the JSON is not ours), or an official
    folder's all_config.yaml when the folder holds another step's weights it describes."""
    if fmt == "safetensors":
        side = out.with_suffix(".json")
        if side.exists() and not out.exists():
            raise UserError(f"{side} already exists and exporting {out.name} would replace it with the model's "
                            f"settings; move it, or choose another name for the export.")
    elif fmt == "hrm" and out.is_dir():
        others = sorted(p.name for p in out.glob("step_*") if p.name != f"step_{step}")
        if others:
            raise UserError(f"{out} already holds an official checkpoint ({', '.join(others)}) whose "
                            f"all_config.yaml this export would replace; export into an empty folder.")
