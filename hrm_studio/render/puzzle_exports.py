"""Pictures of the prediction viewer's puzzles: one puzzle's panel (PNG), its reasoning
steps (animated GIF) and a contact sheet of many puzzles (PNG).

Why a module of its own: the viewer's Export buttons, the CLI and the run report all
want the same pictures, drawn without Qt from a PredictionSet. Every file is written to
a temporary name beside the target and then renamed, so a crash never leaves half a
picture under the name the user chose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw

from hrm_studio.data.grid import IGNORE
from hrm_studio.render.grid_geometry import GridGeometry, grid_geometry
from hrm_studio.render.grid_image import Font, draw_grid, plain_text, text_size, ui_font
from hrm_studio.render.grid_style import GridStyle
from hrm_studio.runstore.atomic import atomic_write
from hrm_studio.runstore.prediction_set import PredictionSet

MAX_SHEET_PUZZLES = 32

# One dark theme for every export, close to the window's dark grid background.
BACKGROUND = "#1e1f22"
TEXT = "#e8e8e8"
MUTED = "#9aa0a6"
GOOD = "#2ECC40"
PAD_PX = 14      # outer margin
GAP_PX = 18      # between grids
LINE_GAP_PX = 6  # between a grid and its title / size line


# ----- small layout kit ---------------------------------------------------------------------------
@dataclass
class _Tile:
    """A grid with a title over it and a note under it, laid out as one column."""

    image: Image.Image
    title: str
    note: str = ""
    title_colour: str = TEXT


def _fonts(cell: int) -> tuple[Font, Font]:
    """(title font, note font), scaled a little with the cell size so big exports stay balanced."""
    title = max(11, min(18, int(round(cell * 0.6))))
    return ui_font(title), ui_font(max(10, title - 2))


def _draw_text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, font: Font,
               fill: str, anchor: str = "la") -> None:
    draw.text(xy, plain_text(text, font), font=font, fill=fill, anchor=anchor)


def _row_of_tiles(tiles: Sequence[_Tile], cell: int) -> Image.Image:
    """Tiles side by side, titles on one baseline, grids top-aligned, notes under each grid."""
    title_font, note_font = _fonts(cell)
    title_h = max(text_size(t.title or "Ag", title_font)[1] for t in tiles)
    note_h = max(text_size(t.note or "Ag", note_font)[1] for t in tiles)
    widths = [max(t.image.width, text_size(t.title, title_font)[0], text_size(t.note, note_font)[0])
              for t in tiles]
    grid_h = max(t.image.height for t in tiles)
    width = sum(widths) + GAP_PX * (len(tiles) - 1)
    height = title_h + LINE_GAP_PX + grid_h + LINE_GAP_PX + note_h
    row = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(row)
    x = 0
    for tile, w in zip(tiles, widths):
        centre = x + w / 2
        _draw_text(draw, (centre, 0), tile.title, title_font, tile.title_colour, anchor="ma")
        row.paste(tile.image, (int(round(centre - tile.image.width / 2)), title_h + LINE_GAP_PX))
        if tile.note:
            _draw_text(draw, (centre, title_h + LINE_GAP_PX + grid_h + LINE_GAP_PX), tile.note, note_font,
                       MUTED, anchor="ma")
        x += w + GAP_PX
    return row


def _stack(parts: Sequence[Image.Image | tuple[str, Font, str]], min_width: int = 0) -> Image.Image:
    """Images and (text, font, colour) lines one under another, left-aligned, with margins."""
    sizes = [(p.width, p.height) if isinstance(p, Image.Image) else text_size(p[0], p[1]) for p in parts]
    width = max([min_width] + [w for w, _ in sizes]) + 2 * PAD_PX
    height = sum(h for _, h in sizes) + LINE_GAP_PX * 2 * (len(parts) - 1) + 2 * PAD_PX
    page = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(page)
    y = PAD_PX
    for part, (_, h) in zip(parts, sizes):
        if isinstance(part, Image.Image):
            page.paste(part, (PAD_PX, y))
        else:
            text, font, colour = part
            _draw_text(draw, (PAD_PX, y), text, font, colour)
        y += h + LINE_GAP_PX * 2
    return page


# ----- what to draw for one puzzle ----------------------------------------------------------------
def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-float(x))) if x > -60 else 0.0


def _tick(ok: bool) -> str:
    return "✓" if ok else "✗"


def _check_puzzle(ps: PredictionSet, i: int, segment: int | None) -> int:
    """The segment to show (0-based), after checking that `i` and `segment` exist."""
    if not 0 <= i < len(ps):
        raise ValueError(f"There is no puzzle {i}; this set holds puzzles 0 to {len(ps) - 1}.")
    if segment is None:
        return ps.steps - 1
    if not 0 <= segment < ps.steps:
        raise ValueError(f"There is no segment {segment}; the model ran segments 0 to {ps.steps - 1}.")
    return segment


def _look(ps: PredictionSet, i: int) -> tuple[GridGeometry, GridStyle]:
    task = ps.task
    geometry = grid_geometry(task["grid_shape"], ps.puzzles.inputs[i], ps.puzzles.labels[i],
                             frame=task.get("display") == "colour")
    return geometry, GridStyle.for_task(task)


def _truth(ps: PredictionSet, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Ground-truth tokens to draw, and which cells are not scored.

    Unscored cells (IGNORE) show the input's token, faded, so the grid still reads as a
    whole puzzle without pretending those cells were part of the answer.
    """
    labels = ps.puzzles.labels[i]
    unscored = labels == IGNORE
    return np.where(unscored, ps.puzzles.inputs[i], labels), unscored


def _title(ps: PredictionSet, i: int) -> str:
    return f"{ps.split} puzzle {int(ps.indices[i])} · {ps.puzzles.patterns[i]}"


def panel_caption(ps: PredictionSet, i: int, t: int) -> str:
    """The panel's figures line: accuracy and exact match after segment `t`, where the model halts."""
    halt = int(ps.predictions.halt_step[i])
    return (f"token accuracy {ps.token_accuracy(t)[i]:.1%} · exact {_tick(bool(ps.exact(t)[i]))} · "
            f"halts at segment {halt}/{ps.steps} · halt p={ps.halt_confidence()[i]:.2f}")


def step_caption(ps: PredictionSet, i: int, t: int) -> str:
    """A GIF frame's line: the Q-head's view after segment `t` and whether the answer is right yet."""
    halts_here = t + 1 == int(ps.predictions.halt_step[i])
    return (f"segment {t + 1}/{ps.steps} · halt p={_sigmoid(ps.predictions.q_halt[i, t]):.2f} · "
            f"q_continue={float(ps.predictions.q_continue[i, t]):.2f} · correct {_tick(bool(ps.exact(t)[i]))}"
            + (" · (model halts here)" if halts_here else ""))


def puzzle_panel(ps: PredictionSet, i: int, segment: int | None = None, cell: int = 24) -> Image.Image:
    """Input, prediction, ground truth and diff of puzzle `i` after `segment` (0-based; default last)."""
    t = _check_puzzle(ps, i, segment)
    geometry, style = _look(ps, i)
    pred = ps.predictions.predictions[i, t]
    wrong = ps.wrong_cells(i, t)
    truth, unscored = _truth(ps, i)
    changed = ps.changed_cells(i, t)
    size = geometry.shape_text
    n_wrong = int(wrong.sum())
    tiles = [
        _Tile(draw_grid(ps.puzzles.inputs[i], geometry, style, cell), "Input", size),
        _Tile(draw_grid(pred, geometry, style, cell, wrong=wrong, changed=changed),
              f"Prediction (segment {t + 1}/{ps.steps})", size),
        _Tile(draw_grid(truth, geometry, style, cell, dim=unscored), "Ground truth", size),
        _Tile(draw_grid(pred, geometry, style, cell, wrong=wrong, dim=~wrong), f"Diff ({n_wrong} wrong)",
              size, title_colour=style.marks["wrong"] if n_wrong else GOOD),
    ]
    title_font, note_font = _fonts(cell)
    exact = bool(ps.exact(t)[i])
    caption = panel_caption(ps, i, t)
    legend = "red: wrong cell · cyan: changed since the previous segment"
    return _stack([(_title(ps, i), title_font, TEXT), _row_of_tiles(tiles, cell),
                   (caption, note_font, GOOD if exact else TEXT), (legend, note_font, MUTED)])


def _step_frame(ps: PredictionSet, i: int, t: int, geometry: GridGeometry, style: GridStyle,
                cell: int) -> Image.Image:
    """One GIF frame: the prediction after segment `t` next to the ground truth."""
    pred = ps.predictions.predictions[i, t]
    truth, unscored = _truth(ps, i)
    exact = bool(ps.exact(t)[i])
    tiles = [
        _Tile(draw_grid(pred, geometry, style, cell, wrong=ps.wrong_cells(i, t), changed=ps.changed_cells(i, t)),
              f"Prediction · segment {t + 1}/{ps.steps}", geometry.shape_text),
        _Tile(draw_grid(truth, geometry, style, cell, dim=unscored), "Ground truth", geometry.shape_text),
    ]
    title_font, note_font = _fonts(cell)
    return _stack([(_title(ps, i), title_font, TEXT), _row_of_tiles(tiles, cell),
                   (step_caption(ps, i, t), note_font, GOOD if exact else TEXT)])


def step_frames(ps: PredictionSet, i: int, cell: int = 24) -> list[Image.Image]:
    """One equally sized frame per ACT segment of puzzle `i` (what the GIF shows)."""
    _check_puzzle(ps, i, None)
    geometry, style = _look(ps, i)
    frames = [_step_frame(ps, i, t, geometry, style, cell) for t in range(ps.steps)]
    width, height = max(f.width for f in frames), max(f.height for f in frames)
    out = []
    for frame in frames:  # captions differ in length; pad so the GIF does not jump
        canvas = Image.new("RGB", (width, height), BACKGROUND)
        canvas.paste(frame, (0, 0))
        out.append(canvas)
    return out


def contact_sheet(ps: PredictionSet, indices: Sequence[int], cell: int = 16) -> Image.Image:
    """Puzzles as columns; input, prediction (wrong cells marked) and truth as rows."""
    indices = [int(k) for k in indices]
    if not indices:
        raise ValueError("Pick at least one puzzle for the contact sheet.")
    if len(indices) > MAX_SHEET_PUZZLES:
        raise ValueError(f"A contact sheet holds at most {MAX_SHEET_PUZZLES} puzzles; {len(indices)} were "
                         f"picked. Pick fewer, or save several sheets.")
    for k in indices:
        _check_puzzle(ps, k, None)
    title_font, note_font = _fonts(cell)
    exact = ps.exact()
    columns: list[list[Image.Image]] = []
    headers: list[tuple[str, str]] = []
    for k in indices:
        geometry, style = _look(ps, k)
        truth, unscored = _truth(ps, k)
        columns.append([
            draw_grid(ps.puzzles.inputs[k], geometry, style, cell),
            draw_grid(ps.predictions.predictions[k, -1], geometry, style, cell, wrong=ps.wrong_cells(k)),
            draw_grid(truth, geometry, style, cell, dim=unscored),
        ])
        ok = bool(exact[k])
        pattern = str(ps.puzzles.patterns[k])
        if len(pattern) > 14:
            pattern = pattern[:13] + "…"
        headers.append((f"#{int(ps.indices[k])} {pattern} {_tick(ok)}", GOOD if ok else style.marks["wrong"]))

    row_names = ("Input", "Prediction", "Truth")
    label_w = max(text_size(name, note_font)[0] for name in row_names) + GAP_PX // 2
    header_h = text_size("Ag", note_font)[1]
    col_w = [max(max(g.width for g in col), text_size(h, note_font)[0]) for col, (h, _) in zip(columns, headers)]
    row_h = [max(col[r].height for col in columns) for r in range(3)]
    width = 2 * PAD_PX + label_w + sum(col_w) + GAP_PX // 2 * (len(columns) - 1)
    height = 2 * PAD_PX + header_h + LINE_GAP_PX + sum(row_h) + GAP_PX // 2 * 2
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    y = PAD_PX + header_h + LINE_GAP_PX
    for r, name in enumerate(row_names):
        _draw_text(draw, (PAD_PX, y + row_h[r] / 2), name, note_font, MUTED, anchor="lm")
        y += row_h[r] + GAP_PX // 2
    x = PAD_PX + label_w
    for col, (header, colour), w in zip(columns, headers, col_w):
        centre = x + w / 2
        _draw_text(draw, (centre, PAD_PX), header, note_font, colour, anchor="ma")
        y = PAD_PX + header_h + LINE_GAP_PX
        for r, grid in enumerate(col):
            sheet.paste(grid, (int(round(centre - grid.width / 2)), y))
            y += row_h[r] + GAP_PX // 2
        x += w + GAP_PX // 2
    return sheet


# ----- files -------------------------------------------------------------------------------------
def _target(path: str | Path, suffix: str, what: str) -> Path:
    path = Path(path)
    if path.suffix.lower() != suffix:
        found = f"ends in '{path.suffix}'" if path.suffix else "has no file extension"
        raise ValueError(f"{what} can only be saved as a {suffix} file; '{path.name}' {found}.")
    return path


def _write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """runstore/atomic.py's recipe (temp file beside `path`, fsync, rename), returning `path`."""
    atomic_write(path, write)
    return path


def save_puzzle_png(ps: PredictionSet, i: int, path: str | Path, segment: int | None = None,
                    cell: int = 24) -> Path:
    """Save puzzle `i`'s panel (see `puzzle_panel`) as a PNG."""
    path = _target(path, ".png", "A puzzle panel")
    image = puzzle_panel(ps, i, segment, cell)
    return _write_atomically(path, lambda handle: image.save(handle, format="PNG", optimize=True))


def save_steps_gif(ps: PredictionSet, i: int, path: str | Path, frame_ms: int = 600, cell: int = 24) -> Path:
    """Save puzzle `i`'s prediction after every ACT segment as a looping animated GIF."""
    path = _target(path, ".gif", "The reasoning steps")
    if frame_ms <= 0:
        raise ValueError(f"Each frame must show for a positive time, not {frame_ms} ms.")
    frames = step_frames(ps, i, cell)
    # disposal=1 keeps frames whole; each frame's caption differs, so Pillow never merges two.
    return _write_atomically(path, lambda handle: frames[0].save(
        handle, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0,
        disposal=1))


def save_contact_sheet(ps: PredictionSet, indices: Sequence[int], path: str | Path, cell: int = 16) -> Path:
    """Save a contact sheet (see `contact_sheet`) of up to MAX_SHEET_PUZZLES puzzles as a PNG."""
    path = _target(path, ".png", "A contact sheet")
    image = contact_sheet(ps, indices, cell)
    return _write_atomically(path, lambda handle: image.save(handle, format="PNG", optimize=True))
