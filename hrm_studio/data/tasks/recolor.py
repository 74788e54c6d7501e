"""recolor: every cell's colour goes through one fixed permutation.

The permutation is the same for every puzzle of a dataset (so it is learnable from
the examples) and follows from the dataset seed (so another seed is another task).
It moves every colour (no fixed points), so copying the input never scores.
"""

from __future__ import annotations

import numpy as np

from hrm_studio.data.tasks.colour_source import (
    COLOUR_TOKENS,
    FIRST_COLOUR,
    LAST_COLOUR,
    ColourPattern,
    ColourSource,
    colour_task_spec,
)
from hrm_studio.data.tasks.spec import TaskSpec

# Mixed into the seed so the permutation does not share a stream with the examples.
_PERMUTATION_STREAM = 0x5EC0102


def recolor_permutation(seed: int) -> np.ndarray:
    """Token map for ``seed``: ``perm[token]`` is the output token (PAD/EOS map to themselves)."""
    rng = np.random.default_rng([_PERMUTATION_STREAM, seed])
    colours = np.arange(len(COLOUR_TOKENS))
    while True:
        shuffled = rng.permutation(colours)
        if not np.any(shuffled == colours):
            break
    perm = np.arange(LAST_COLOUR + 1, dtype=np.int32)
    perm[FIRST_COLOUR:] = shuffled + FIRST_COLOUR
    return perm


def _source(grid_size: int, blanks: int, seed: int) -> ColourSource:
    perm = recolor_permutation(seed)
    return ColourSource(
        grid_size, {"recolor": ColourPattern(FIRST_COLOUR, LAST_COLOUR, lambda g: perm[g])}
    )


SPECS: tuple[TaskSpec, ...] = (
    colour_task_spec(
        "recolor",
        "Swap colours by one fixed permutation (the same for every puzzle; set by the seed).",
        ("recolor",),
        _source,
    ),
)
