"""Curriculum: train on easier puzzles first and reach the task's own difficulty over time.

The knob. Each built-in task has one setting that makes its puzzles harder: the number of
Sudoku blanks, or the grid side of the colour tasks and of the maze. The target is the
run's own setting (`blanks` / `grid_size`, 0 = the task's default); `curriculum_start` is
the easy end (0 = half the target, rounded up to a value the task allows). Smaller is always easier.

The schedule is a pure function of the settings, the epoch and the history so far
(`difficulty_at`), so the same seed gives the same history and a resumed run continues
at the difficulty an uninterrupted one would have reached:

- ``linear``: from the start to the target in equal steps over `curriculum_epochs`
  epochs, rounded down to a value the task allows; the target from the epoch after.
- ``stepped``: `curriculum_steps` equal plateaus over `curriculum_epochs` epochs, then
  the target.
- ``threshold``: the same ladder of `curriculum_steps` levels, climbed one rung each time
  held-out exact match *at the current difficulty* reaches `curriculum_threshold`.
  The run's held-out split stays at the target (see below), so the trainer scores a
  held-out split drawn at the current difficulty too, logged as ``curriculum_exact``.

Why the held-out split never changes: it stays at the target difficulty, so
``val_…`` curves of a curriculum run compare directly with those of a plain run, and
once the curriculum reaches the target the training puzzles are exactly the plain run's.

Why smaller grids are padded, not re-encoded. The tight encoding's sequence length
follows the grid side, but the model's sequence length (its positions, and learned
position embeddings) is fixed when the model is built. So a smaller grid is placed at the
top-left of a PAD canvas the size of the target's encoded grid: with the EOS frame a 3×3
copy grid on a 6×6 block reads exactly like the target's 5×5 tight layout, and PAD cells
are never scored. Sudoku blanks do not change the shape at all. A padded small grid can
never equal a held-out input (their sizes differ), nor can a Sudoku with fewer blanks.

Deliberately Qt-free and torch-free: the settings form checks `curriculum_problems` on
every keystroke.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from hrm_studio.errors import ConfigError
from hrm_studio.runstore.keys import HistoryKey

MODES = ("off", "stepped", "linear", "threshold")
DIFFICULTY_KEY = HistoryKey.CURRICULUM_DIFFICULTY  # history: the difficulty trained at in that epoch
EXACT_KEY = HistoryKey.CURRICULUM_EXACT  # history: held-out exact match at that difficulty (threshold)


@dataclass(frozen=True)
class CurriculumPlan:
    """Everything `difficulty_at` needs: the mode, the knob and its allowed values."""

    mode: str
    knob: str                 # "grid_size" | "blanks": the setting being scheduled
    allowed: tuple[int, ...]  # values the task accepts from start to target, ascending
    epochs: int               # curriculum_epochs
    steps: int                # curriculum_steps
    threshold: float          # curriculum_threshold

    @property
    def start(self) -> int:
        return self.allowed[0]

    @property
    def target(self) -> int:
        return self.allowed[-1]

    def snap(self, value: float) -> int:
        """The largest allowed value not above `value` (never below the start)."""
        below = [a for a in self.allowed if a <= value + 1e-9]
        return below[-1] if below else self.start

    def ladder(self) -> tuple[int, ...]:
        """The distinct levels of the stepped and threshold schedules, start first, target last."""
        levels = [self.snap(self.start + (self.target - self.start) * k / self.steps)
                  for k in range(self.steps + 1)]
        return tuple(dict.fromkeys(levels))


def difficulty_at(plan: CurriculumPlan, epoch: int, history: Sequence[Mapping[str, Any]] = ()) -> int:
    """The difficulty to train epoch `epoch` (1-based) at.

    `history` (rows of the epochs before) matters only for "threshold": it reads the
    previous epoch's difficulty and held-out exact match at that difficulty.
    """
    if epoch < 1:
        raise ValueError("epochs count from 1")
    start, target = plan.start, plan.target
    if plan.mode == "off":
        return target
    if plan.mode == "linear":
        if epoch > plan.epochs:
            return target
        return plan.snap(start + (target - start) * (epoch - 1) / plan.epochs)
    if plan.mode == "stepped":
        if epoch > plan.epochs:
            return target
        k = math.floor((epoch - 1) * plan.steps / plan.epochs)
        return plan.snap(start + (target - start) * k / plan.steps)
    if plan.mode == "threshold":
        ladder = plan.ladder()
        previous = next((r for r in reversed(history) if r.get(HistoryKey.EPOCH) == epoch - 1), None)
        current = previous.get(DIFFICULTY_KEY) if previous else None
        if current not in ladder:
            return ladder[0]  # the first epoch (or a history that never logged one)
        exact = previous.get(EXACT_KEY)
        passed = isinstance(exact, (int, float)) and not isinstance(exact, bool) and exact >= plan.threshold
        index = ladder.index(current)
        return ladder[min(index + 1, len(ladder) - 1)] if passed else current
    raise ValueError(f"unknown curriculum mode {plan.mode!r}")


def schedule(plan: CurriculumPlan, epochs: int) -> list[int]:
    """Difficulty per epoch 1..epochs for the schedules that need no history (not "threshold")."""
    return [difficulty_at(plan, e) for e in range(1, epochs + 1)]


# ----- from the settings ----------------------------------------------------------------------

def _knob(spec: Any, data: Any) -> tuple[str, tuple[int, ...], int] | None:
    """(setting, every allowed value ascending, target) for the task, or None without a knob."""
    if spec.blank_range is not None:
        low, high = spec.blank_range
        return "blanks", tuple(range(low, high + 1)), data.blanks or spec.default_blanks
    if len(spec.grid_sizes) > 1:
        return "grid_size", tuple(sorted(spec.grid_sizes)), data.grid_size or spec.default_grid_size
    return None


def curriculum_problems(config: Any) -> dict[str, str]:
    """Every curriculum setting that cannot work, with a one-sentence reason (cheap: no data)."""
    d = config.data
    if d.curriculum == "off":
        return {}
    if d.dataset_dir:
        return {"curriculum": "A curriculum needs a generated task: a dataset folder has no difficulty to "
                              "change. Clear dataset_dir or set curriculum to off."}
    from hrm_studio.data.tasks import TASKS

    spec = TASKS.get(d.task)
    if spec is None:
        return {}  # the task itself is reported
    knob = _knob(spec, d)
    if knob is None:
        return {"curriculum": f"Task '{d.task}' has no difficulty setting to schedule; set curriculum to off."}
    name, allowed, target = knob
    found: dict[str, str] = {}
    if target not in allowed:
        return {}  # grid_size / blanks itself is reported when the data is made
    if name == "grid_size" and not spec.canvas_ok:
        found["curriculum"] = (f"A grid-size curriculum pads small grids onto the target's canvas, which task "
                               f"'{d.task}' does not allow; set curriculum to off.")
    if target == allowed[0]:
        found["curriculum"] = (f"The target {name} {target} is already the easiest task '{d.task}' allows, so "
                               f"there is nothing to schedule; raise {name} or set curriculum to off.")
        return found
    start = d.curriculum_start
    if start:
        if start >= target:
            found["curriculum_start"] = (f"curriculum_start ({start}) must be easier, i.e. smaller, than the "
                                         f"target {name} ({target}).")
        elif start not in allowed:
            found["curriculum_start"] = (f"curriculum_start {start} is not a {name} task '{d.task}' accepts; "
                                         f"use one of {_describe(allowed)} below {target}.")
    if d.curriculum == "stepped" and d.curriculum_steps > d.curriculum_epochs:
        found["curriculum_steps"] = (f"{d.curriculum_steps} steps do not fit in {d.curriculum_epochs} curriculum "
                                     f"epochs; lower curriculum_steps or raise curriculum_epochs.")
    return found


def plan_for(config: Any) -> CurriculumPlan | None:
    """The run's curriculum, or None when it has none; ConfigError when it cannot work."""
    d = config.data
    if d.curriculum == "off":
        return None
    found = curriculum_problems(config)
    if found:
        raise ConfigError(" ".join(found.values()))
    from hrm_studio.data.tasks import TASKS

    spec = TASKS[d.task]
    knob = _knob(spec, d)
    assert knob is not None
    name, allowed, target = knob
    start = d.curriculum_start or _snap_up(allowed, target / 2)
    values = tuple(a for a in allowed if start <= a <= target)
    return CurriculumPlan(mode=d.curriculum, knob=name, allowed=values, epochs=d.curriculum_epochs,
                          steps=d.curriculum_steps, threshold=d.curriculum_threshold)


def level_options(config: Any, plan: CurriculumPlan, difficulty: int, *, with_test: bool) -> Any:
    """TaskOptions for the training puzzles at `difficulty` (and a held-out split there, `with_test`).

    A smaller grid goes on a PAD canvas the size of the target's encoded grid, so every
    level has the target's sequence length (see the module docstring).
    """
    from dataclasses import replace

    from hrm_studio.data.grid import encoded_shape
    from hrm_studio.data.tasks import TASKS
    from hrm_studio.training.data_source import task_options

    options = task_options(config)
    options = replace(options, test_size=options.test_size if with_test else 0)
    if plan.knob == "blanks":
        return replace(options, blanks=difficulty)
    spec = TASKS[config.data.task]
    rows, cols = encoded_shape((plan.target, plan.target), options.encoding, options.canvas_size, spec.eos)
    return replace(options, grid_size=difficulty, encoding="canvas", canvas_size=max(rows, cols))


def make_level(config: Any, plan: CurriculumPlan, difficulty: int, *, with_test: bool) -> Any:
    """The TaskData for `difficulty`; a ConfigError says which curriculum setting to change."""
    from hrm_studio.data import make_task

    try:
        return make_task(level_options(config, plan, difficulty, with_test=with_test))
    except ConfigError as exc:
        raise ConfigError(f"The curriculum cannot make its puzzles at {plan.knob} {difficulty}: {exc} "
                          f"Raise curriculum_start or lower train_size.") from None


def _snap_up(allowed: Sequence[int], value: float) -> int:
    """The smallest allowed value not below `value`: the automatic start, half the target rounded up."""
    return next(a for a in allowed if a >= value)


def _describe(values: Sequence[int]) -> str:
    if len(values) > 2 and all(b - a == values[1] - values[0] for a, b in zip(values, values[1:])):
        step = values[1] - values[0]
        return f"{values[0]} to {values[-1]}" + (f" in steps of {step}" if step > 1 else "")
    return ", ".join(map(str, values))
