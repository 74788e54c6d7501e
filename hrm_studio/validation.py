"""Checks of a whole run that need more than one setting: the task catalogue, the curriculum,
the combinations an architecture cannot build, and settings that exclude each other.

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
    for name, reason in architecture_problems(config).items():
        found.setdefault(name, reason)
    t = config.train
    if t.lr_warmup_steps > 0 and t.lr_warmup_epochs > 0:
        found.setdefault("lr_warmup_steps", f"Warm-up is set twice, {t.lr_warmup_epochs:g} epochs and "
                                            f"{t.lr_warmup_steps} steps; keep one and set the other to 0.")
    d = config.data
    if not d.dataset_dir and d.task not in TASKS:
        found.setdefault("task", f"Unknown task '{d.task}'. Known tasks: {', '.join(sorted(TASKS))}.")
    elif "curriculum" not in found and "task" not in found:
        for name, reason in curriculum_problems(config).items():
            found.setdefault(name, reason)
    return found


def architecture_problems(config: RunConfig) -> dict[str, str]:
    """Model settings the chosen architecture cannot build from; settings it does not read are never
    a problem (a TRM-only value left over while training HRM is ignored)."""
    m = config.model
    found: dict[str, str] = {}
    if m.arch == "hrm" and m.pos_encodings == "none":
        found["pos_encodings"] = ("HRM needs token positions: set pos_encodings to rope or learned "
                                  "(none is for arch trm only).")
    if m.arch == "trm" and m.puzzle_emb_ndim > 0 and 0 < m.puzzle_emb_len * m.hidden_size < m.puzzle_emb_ndim:
        found["puzzle_emb_len"] = (f"{m.puzzle_emb_len} prefix positions of width hidden_size ({m.hidden_size}) "
                                   f"cannot hold a puzzle embedding of {m.puzzle_emb_ndim}: raise puzzle_emb_len "
                                   f"to {-(-m.puzzle_emb_ndim // m.hidden_size)} or more, or set it to 0 (as "
                                   f"many as the embedding needs).")
    return found


def validate(config: RunConfig) -> RunConfig:
    """Raise ConfigError naming every problem of the run; return `config` so calls can chain."""
    raise_if_invalid(problems(config))
    return config
