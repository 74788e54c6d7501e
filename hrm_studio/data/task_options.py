"""TaskOptions: what the user asks a built-in task generator for.

Plain values only, so the config layer can save them in a run's JSON and the
settings panel can bind a widget to each field. ``make_task`` checks them and raises
ConfigError naming the field at fault.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TaskOptions:
    """Options for ``make_task``.

    task:              name of a built-in task (see ``TASKS``)
    train_size:        number of training puzzles (≥ 1)
    test_size:         number of held-out puzzles, none equal to a training input
    grid_size:         side of the grid; 0 = the task's default
    encoding:          "tight" (grid + EOS frame only) or "canvas" (official 30×30 layout)
    canvas_size:       side of the canvas for encoding="canvas"
    shared_identifier: put every example on puzzle identifier 1 (as the seed did)
                       instead of one identifier per pattern
    pattern_mix:       relative weight per pattern name; None = equal weights
    label_noise:       fraction of training label cells replaced by a wrong token
                       (the test split stays clean), in [0, 1)
    blanks:            empty cells per Sudoku; 0 = the task's default
    seed:              everything generated follows from it
    """

    task: str
    train_size: int
    test_size: int
    grid_size: int = 0
    encoding: str = "tight"
    canvas_size: int = 30
    shared_identifier: bool = False
    pattern_mix: dict[str, float] | None = None
    label_noise: float = 0.0
    blanks: int = 0
    seed: int = 0
