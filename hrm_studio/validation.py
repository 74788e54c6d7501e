"""Checks of a whole run that need more than the settings: the task catalogue and the curriculum.

config.py knows the fields and checks each one on its own (`RunConfig.problems()`); whether
`task` names a real task, or a curriculum can work for that task, depends on hrm_studio.data
and hrm_studio.training, which themselves import config. So these checks live here, above
all three, and every front end — Trainer, command line, settings form, sweep — asks
`problems(config)` / `validate(config)` here about a run it is about to start.
"""

from __future__ import annotations

from hrm_studio.config import RunConfig, raise_if_invalid
from hrm_studio.data.tasks import TASKS
from hrm_studio.training.curriculum import curriculum_problems


def problems(config: RunConfig) -> dict[str, str]:
    """Every invalid setting of the run mapped to a one-sentence reason (empty when all is well)."""
    found = config.problems()
    d = config.data
    if not d.dataset_dir and d.task not in TASKS:
        found.setdefault("task", f"Unknown task '{d.task}'. Known tasks: {', '.join(sorted(TASKS))}.")
    elif "curriculum" not in found and "task" not in found:
        for name, reason in curriculum_problems(config).items():
            found.setdefault(name, reason)
    return found


def validate(config: RunConfig) -> RunConfig:
    """Raise ConfigError naming every problem of the run; return `config` so calls can chain."""
    raise_if_invalid(problems(config))
    return config
