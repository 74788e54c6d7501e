"""Pictures of one puzzle's reasoning timeline: a PNG strip of every step, and a GIF of them.

Why here (Qt-free, Pillow): the inspector's "Save timeline" and any script or report draw the
same picture from a ReasoningTrace, with the same colours as every other grid export
(`puzzle_exports`' layout kit and `draw_grid`). The strip puts the answer after each
high-level update side by side, wrapped into rows of one segment or more, cells that changed
outlined and wrong cells marked; each caption says step, segment, right or wrong and, at a
segment's end, sigmoid(q_halt).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from hrm_studio.analysis.trace import ReasoningTrace
from hrm_studio.data.grid import IGNORE
from hrm_studio.render.grid_geometry import grid_geometry
from hrm_studio.render.grid_image import draw_grid
from hrm_studio.render.grid_style import GridStyle
from hrm_studio.render.puzzle_exports import (BACKGROUND, GOOD, TEXT, _fonts, _row_of_tiles, _stack, _target,
                                              _Tile, _write_atomically)

MAX_PER_ROW = 8


def _wrong(trace: ReasoningTrace, labels: np.ndarray | None, t: int) -> np.ndarray | None:
    if labels is None:
        return None
    return (labels != IGNORE) & (trace.answers[t] != labels)


def _caption(trace: ReasoningTrace, t: int) -> tuple[str, str]:
    """(title, note) of step `t`'s tile."""
    seg = trace.segment_of(t)
    right = "" if trace.correct is None else (" ✓" if trace.correct[t] else " ✗")
    title = f"step {t + 1}{right}"
    note = f"segment {seg + 1}"
    if t in trace.segment_end_steps():
        note += f" · halt p={float(trace.q_halt_prob[seg]):.2f}"
    return title, note


def _tiles(trace: ReasoningTrace, inputs: np.ndarray, labels: np.ndarray | None, task: dict[str, Any],
           cell: int) -> list[_Tile]:
    shown_labels = labels if labels is not None else np.full(trace.seq_len, IGNORE)
    geometry = grid_geometry(task["grid_shape"], inputs, shown_labels, frame=task.get("display") == "colour")
    style = GridStyle.for_task(task)
    tiles = []
    for t in range(trace.steps):
        image = draw_grid(trace.answers[t], geometry, style, cell, wrong=_wrong(trace, labels, t),
                          changed=trace.changed[t])
        title, note = _caption(trace, t)
        colour = GOOD if trace.correct is not None and trace.correct[t] else TEXT
        tiles.append(_Tile(image, title, note, colour))
    return tiles


def timeline_strip(trace: ReasoningTrace, inputs: np.ndarray, labels: np.ndarray | None, task: dict[str, Any],
                   title: str = "", cell: int = 16) -> Image.Image:
    """Every step's answer in rows (whole segments per row when they fit MAX_PER_ROW)."""
    tiles = _tiles(trace, np.asarray(inputs), None if labels is None else np.asarray(labels), task, cell)
    per_row = trace.steps_per_segment * max(1, MAX_PER_ROW // trace.steps_per_segment)
    rows = [_row_of_tiles(tiles[i:i + per_row], cell) for i in range(0, len(tiles), per_row)]
    title_font, note_font = _fonts(cell)
    legend = "red: wrong cell · cyan: changed since the step before"
    return _stack([(title or "Reasoning timeline", title_font, TEXT), *rows, (legend, note_font, TEXT)])


def timeline_frames(trace: ReasoningTrace, inputs: np.ndarray, labels: np.ndarray | None, task: dict[str, Any],
                    title: str = "", cell: int = 24) -> list[Image.Image]:
    """One equally sized frame per step (the GIF)."""
    tiles = _tiles(trace, np.asarray(inputs), None if labels is None else np.asarray(labels), task, cell)
    title_font, _ = _fonts(cell)
    frames = [_stack([(title or "Reasoning timeline", title_font, TEXT), _row_of_tiles([tile], cell)])
              for tile in tiles]
    width, height = max(f.width for f in frames), max(f.height for f in frames)
    out = []
    for frame in frames:
        canvas = Image.new("RGB", (width, height), BACKGROUND)
        canvas.paste(frame, (0, 0))
        out.append(canvas)
    return out


def save_timeline_png(trace: ReasoningTrace, inputs: np.ndarray, labels: np.ndarray | None,
                      task: dict[str, Any], path: str | Path, title: str = "") -> Path:
    path = _target(path, ".png", "A timeline strip")
    image = timeline_strip(trace, inputs, labels, task, title)
    return _write_atomically(path, lambda handle: image.save(handle, format="PNG", optimize=True))


def save_timeline_gif(trace: ReasoningTrace, inputs: np.ndarray, labels: np.ndarray | None,
                      task: dict[str, Any], path: str | Path, title: str = "", frame_ms: int = 500) -> Path:
    path = _target(path, ".gif", "A timeline animation")
    frames = timeline_frames(trace, inputs, labels, task, title)
    return _write_atomically(path, lambda handle: frames[0].save(
        handle, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0, disposal=1))
