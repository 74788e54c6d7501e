"""flip and rotate: move cells, keep colours. The model must learn where each cell goes."""

from __future__ import annotations

import numpy as np

from hrm_studio.data.tasks.colour_source import (
    FIRST_COLOUR,
    LAST_COLOUR,
    ColourPattern,
    fixed_colour_task,
)
from hrm_studio.data.tasks.spec import TaskSpec


def flip_left_right(grids: np.ndarray) -> np.ndarray:
    """Mirror each grid [n, rows, cols] left to right."""
    return grids[:, :, ::-1]


def rotate_clockwise(grids: np.ndarray) -> np.ndarray:
    """Rotate each grid [n, rows, cols] by 90° clockwise (square grids keep their shape)."""
    return np.rot90(grids, k=-1, axes=(1, 2))


SPECS: tuple[TaskSpec, ...] = (
    fixed_colour_task(
        "flip",
        "Mirror a grid of random colours left to right.",
        {"flip": ColourPattern(FIRST_COLOUR, LAST_COLOUR, flip_left_right)},
    ),
    fixed_colour_task(
        "rotate",
        "Rotate a square grid of random colours 90 degrees clockwise.",
        {"rotate": ColourPattern(FIRST_COLOUR, LAST_COLOUR, rotate_clockwise)},
    ),
)
