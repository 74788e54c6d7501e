"""copy, increment and copy-increment: the seed's "arc-simple" task family.

copy:      colours 0–9 (tokens 2–11) → the same grid.
increment: colours 0–8 (tokens 2–10) → each cell + 1. A token 11 input would wrap to
           2 in the seed's code; the seed never drew one, and neither do we.
copy-increment mixes both. With one shared puzzle identifier (the seed's setup) a copy
grid with no colour 9 could just as well be an increment input, which caps held-out
exact match below 1 (``mixed_ceiling``).
"""

from __future__ import annotations

from collections.abc import Mapping

from hrm_studio.data.tasks.colour_source import (
    FIRST_COLOUR,
    LAST_COLOUR,
    ColourPattern,
    fixed_colour_task,
)
from hrm_studio.data.tasks.spec import TaskSpec

COPY = ColourPattern(FIRST_COLOUR, LAST_COLOUR, lambda g: g.copy())
INCREMENT = ColourPattern(FIRST_COLOUR, LAST_COLOUR - 1, lambda g: g + 1)


def mixed_ceiling(weights: Mapping[str, float], grid_size: int, shared: bool) -> float:
    """Best held-out exact match for a copy/increment mix.

    With separate identifiers the identifier names the rule: 1.0. With one shared
    identifier, every increment input is also a possible copy input, and a copy input
    is a possible increment input when it lacks colour 9 (probability 0.9**cells), so
    the best guess still loses min(p_inc, p_copy * 0.9**cells).
    """
    if not shared:
        return 1.0
    p_copy = weights.get("copy", 0.0)
    p_inc = weights.get("increment", 0.0)
    return 1.0 - min(p_inc, p_copy * 0.9 ** (grid_size * grid_size))


SPECS: tuple[TaskSpec, ...] = (
    fixed_colour_task("copy", "Copy a grid of random colours unchanged.", {"copy": COPY}),
    fixed_colour_task(
        "increment", "Add one to every colour (inputs use colours 0-8).", {"increment": INCREMENT}
    ),
    fixed_colour_task(
        "copy-increment",
        "The seed's task: some puzzles copy the grid, others add one to every colour.",
        {"copy": COPY, "increment": INCREMENT},
        ceiling=mixed_ceiling,
    ),
)
