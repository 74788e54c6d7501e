"""Architectures by name: each one's config class, model class and loss head.

Why a registry: a run names its architecture (``arch: hrm``) and the model is built from the
run's settings by field name, so no one keeps a hand-written copy of every field in step with
the config class. A new architecture is one file in ``model/`` plus one line in ``REGISTRY``.

This module does not import ``hrm_studio.config``: ``model/`` stays independent of the app's
settings, and callers pass plain values keyed by the config class's field names.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from typing import Any, Callable, Mapping

from torch import nn

from ..errors import ConfigError
from .hrm import HRM, HRMConfig
from .losses import ACTLossHead
from .trm import TRM, TRMConfig

__all__ = ["Architecture", "REGISTRY", "architecture", "architecture_of_official_name", "architecture_of_weights",
           "build_model_config", "build_model"]


@dataclass(frozen=True)
class Architecture:
    """One trainable architecture: how its settings, its network and its loss head are made."""

    name: str
    config_class: type
    model_class: Callable[[Any], nn.Module]
    loss_head: Callable[[nn.Module, str], nn.Module]  # (model, loss_type) -> module returning the loss
    official_name: str  # the ``arch.name`` of the official code's all_config.yaml
    title: str          # the name a person reads in a message ("Tiny Recursive Model")
    level_prefixes: tuple[str, ...]  # the state-dict prefixes of its networks, which tell its weights apart


REGISTRY: dict[str, Architecture] = {
    "hrm": Architecture("hrm", HRMConfig, HRM, ACTLossHead, "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1",
                        "Hierarchical Reasoning Model", ("inner.H_level.", "inner.L_level.")),
    "trm": Architecture("trm", TRMConfig, TRM, ACTLossHead,
                        "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1", "Tiny Recursive Model",
                        ("inner.L_level.",)),
}


def architecture(name: str) -> Architecture:
    """The registered architecture called ``name``; a ConfigError naming the known ones otherwise,
    since the name comes from a setting a person typed or a file they opened."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(REGISTRY))
        raise ConfigError(f"Unknown architecture {name!r}; HRM Studio can train: {known}.") from None


def architecture_of_weights(keys: Any) -> str | None:
    """The architecture whose networks state-dict `keys` hold (HRM: an H and an L level; TRM: the
    L level alone), or None when they hold neither (not a model's weights)."""
    names = [str(k) for k in keys]
    known = {prefix for spec in REGISTRY.values() for prefix in spec.level_prefixes}
    present = {prefix for prefix in known if any(k.startswith(prefix) for k in names)}
    return next((name for name, spec in REGISTRY.items() if set(spec.level_prefixes) == present), None)


def architecture_of_official_name(name: str) -> str | None:
    """The architecture an official ``arch.name`` (``module@Class``) names, or None. The class part
    alone is enough: the TRM repository files its HRM under another module path."""
    for spec in REGISTRY.values():
        if name == spec.official_name or name.split("@")[-1] == spec.official_name.split("@")[-1]:
            return spec.name
    return None


def build_model_config(arch: str, values: Mapping[str, Any], **overrides: Any) -> Any:
    """The config of architecture ``arch``, every field taken by name from ``values`` updated with
    ``overrides`` (a field with a default may be left out). Names the architecture does not use
    are ignored, so a run's whole model section can be passed as it is."""
    spec = architecture(arch)
    given = {**values, **overrides}
    wanted = fields(spec.config_class)
    missing = [f.name for f in wanted
               if f.name not in given and f.default is MISSING and f.default_factory is MISSING]
    if missing:
        raise ConfigError(f"The {arch} architecture needs {', '.join(missing)}, which the settings do not give.")
    return spec.config_class(**{f.name: given[f.name] for f in wanted if f.name in given})


def build_model(arch: str, model_config: Any) -> nn.Module:
    """The network of architecture ``arch`` from its config (see build_model_config)."""
    spec = architecture(arch)
    if not isinstance(model_config, spec.config_class):
        raise TypeError(f"The {arch} architecture is built from a {spec.config_class.__name__}, "
                        f"not a {type(model_config).__name__}.")
    return spec.model_class(model_config)
