"""The settings a command runs with: preset / task defaults, a --config file, --set, validated."""

from __future__ import annotations

import argparse
from typing import Any

from hrm_studio.validation import validate


def resolve_config(args: argparse.Namespace, base: Any = None) -> Any:
    """preset / task defaults → --config file → --task → --set, validated."""
    from hrm_studio.config import RunConfig
    from hrm_studio.presets import preset_config, task_config

    task = getattr(args, "task", None)
    if base is not None:
        config = base
        if args.preset:
            config = RunConfig.from_dict(config.to_dict(), base=preset_config(args.preset))
    elif args.preset:
        config = preset_config(args.preset)
    elif task:
        config = task_config(task)
    else:
        config = RunConfig()
    if args.config:
        config = RunConfig.from_json_file(args.config, base=config)
    if task:
        config.set("task", task)
        config.set("dataset_dir", "")
    config.apply_overrides(args.overrides)
    return validate(config)


def config_for_weights(args: argparse.Namespace, loaded: Any) -> Any:
    """Settings for a checkpoint: what came with it, then --preset / --config / --set on top."""
    from hrm_studio.config import RunConfig
    from hrm_studio.presets import preset_config
    from hrm_studio.training.checkpoint import settings_for

    base = settings_for(loaded, preset_config(args.preset) if args.preset else RunConfig())
    if args.config:
        base = RunConfig.from_json_file(args.config, base=base)
    if getattr(args, "task", None):
        base.set("task", args.task)
        base.set("dataset_dir", "")
    if getattr(args, "dataset", None):
        base.set("dataset_dir", args.dataset)
    base.apply_overrides(args.overrides)
    return validate(base)
