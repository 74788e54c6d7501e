"""The official code's `all_config.yaml`, read into our settings and written from them, per architecture.

Both HRM (sapientinc/HRM) and TRM (SamsungSAILMontreal/TinyRecursiveModels) checkpoint folders hold
`step_N` weights beside an `all_config.yaml` whose `arch.name` says which model they are
(model/registry.py records each one's name). Which `arch` fields carry over is derived from the
settings themselves: every model setting the architecture reads, under its official name, so a
new TRM-only setting needs no change here. The training fields the official config shares with
ours are listed once in `_TOP_FIELDS`.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from hrm_studio.config import ModelConfig, RunConfig, applies_to
from hrm_studio.errors import CheckpointError
from hrm_studio.model.registry import REGISTRY, architecture, architecture_of_official_name

# Not taken from an official config: the architecture comes from arch.name, the loss from
# arch.loss, and bfloat16 (the official GPU default) is often slower on a CPU: a choice for the person.
_NOT_READ = ("arch", "loss_type", "forward_dtype")
_TOP_FIELDS = {"global_batch_size": "batch_size", "lr": "lr", "lr_min_ratio": "lr_min_ratio",
               "lr_warmup_steps": "lr_warmup_steps", "beta1": "beta1", "beta2": "beta2",
               "weight_decay": "weight_decay", "puzzle_emb_lr": "puzzle_emb_lr",
               "puzzle_emb_weight_decay": "puzzle_emb_weight_decay", "seed": "seed"}
_UPSTREAM_EMA_RATE = 0.999  # the official `ema_rate` default, written when EMA is off


def arch_fields(arch: str) -> list[str]:
    """The model settings an official config of `arch` holds in its `arch` section."""
    return [f.name for f in fields(ModelConfig) if applies_to(f, arch) and f.name not in _NOT_READ]


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CheckpointError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or type(exc).__name__
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise CheckpointError(f"{path} cannot be read as YAML ({' '.join(str(problem).split())}{where}); only "
                              f"plain YAML is accepted, never Python objects.") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("arch"), dict):
        raise CheckpointError(f"{path} has no 'arch' section, so it is not an official HRM or TRM config.")
    return raw


def official_architecture(arch: dict[str, Any], path: Path) -> str | None:
    """The architecture `arch.name` names; None when it names none (older files: read as HRM's)."""
    name = arch.get("name")
    if name is None:
        return None
    found = architecture_of_official_name(str(name))
    if found is None:
        known = " or ".join(spec.official_name for spec in REGISTRY.values())
        raise CheckpointError(f"{path} describes a '{name}' model, which HRM Studio cannot train or open; it "
                              f"opens {known}.")
    return found


def official_yaml_to_overrides(path: Path) -> dict[str, Any]:
    """The RunConfig settings an official `all_config.yaml` determines (flat names).

    The official code always trains with Adam-atan2, so that is the optimiser; its `ema` /
    `ema_rate` become ema_decay, and a warm-up in steps replaces one in epochs.
    """
    raw = _read_yaml(path)
    arch = raw["arch"]
    name = official_architecture(arch, path)
    out: dict[str, Any] = {} if name is None else {"arch": name}
    out.update({field: arch[field] for field in arch_fields(name or "hrm") if field in arch})
    loss = arch.get("loss")
    if isinstance(loss, dict) and loss.get("loss_type") in ("softmax_cross_entropy", "stablemax_cross_entropy"):
        out["loss_type"] = loss["loss_type"]
    for key, setting in _TOP_FIELDS.items():
        if key in raw and raw[key] is not None:
            out[setting] = raw[key]
    out["optimizer"] = "adam_atan2"
    if isinstance(out.get("lr_warmup_steps"), (int, float)) and out["lr_warmup_steps"] > 0:
        out["lr_warmup_epochs"] = 0.0
    if "ema" in raw:
        out["ema_decay"] = raw.get("ema_rate", _UPSTREAM_EMA_RATE) if raw["ema"] is True else 0.0
    return out


def official_yaml(config: RunConfig) -> str:
    """An `all_config.yaml` in the official layout of the run's architecture."""
    import yaml

    m, t = config.model, config.train
    arch: dict[str, Any] = {"name": architecture(m.arch).official_name,
                            "loss": {"name": "losses@ACTLossHead", "loss_type": m.loss_type}}
    arch.update({name: config.get(name) for name in arch_fields(m.arch)})
    if "H_layers" not in arch:
        arch["H_layers"] = 0  # the official TRM config still has the field (ignored), as its trm.yaml writes it
    arch["forward_dtype"] = m.forward_dtype
    doc = {"arch": arch, "data_path": config.data.dataset_dir or f"hrm-studio:{config.data.task}",
           "global_batch_size": t.batch_size, "epochs": t.epochs, "eval_interval": t.eval_interval,
           "lr": t.lr, "lr_min_ratio": t.lr_min_ratio, "lr_warmup_steps": t.lr_warmup_steps, "beta1": t.beta1,
           "beta2": t.beta2, "weight_decay": t.weight_decay,
           "puzzle_emb_weight_decay": t.puzzle_emb_weight_decay, "puzzle_emb_lr": t.puzzle_emb_lr,
           "seed": t.seed, "ema": t.ema_decay > 0, "ema_rate": t.ema_decay or _UPSTREAM_EMA_RATE}
    return yaml.safe_dump(doc, sort_keys=False)
