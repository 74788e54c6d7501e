"""Built-in tasks: the registry ``TASKS`` and ``make_task``.

Each family module declares TaskSpecs; ``build.py`` turns a spec plus TaskOptions
into TaskData. Add a task by writing a module with a ``SPECS`` tuple and listing it here.
"""

from __future__ import annotations

from hrm_studio.data.task_data import TaskData
from hrm_studio.data.task_options import TaskOptions
from hrm_studio.data.tasks import (
    copy_increment,
    geometry,
    maze,
    maze_hard,
    recolor,
    sudoku,
    sudoku_hard,
)
from hrm_studio.data.tasks.build import build_task
from hrm_studio.data.tasks.spec import TaskSpec
from hrm_studio.errors import ConfigError

TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for module in (copy_increment, geometry, recolor, sudoku, sudoku_hard, maze, maze_hard)
    for spec in module.SPECS
}


def make_task(options: TaskOptions) -> TaskData:
    """Generate the training and held-out puzzles ``options`` describe.

    Raises ConfigError (naming the field) when an option is out of range for the task.
    """
    if not isinstance(options, TaskOptions):
        raise ConfigError(f"make_task needs TaskOptions, not {type(options).__name__}.")
    spec = TASKS.get(options.task)
    if spec is None:
        raise ConfigError(f"Unknown task {options.task!r}; choose one of: {', '.join(TASKS)}.")
    return build_task(spec, options)


__all__ = ["TASKS", "TaskSpec", "make_task"]
