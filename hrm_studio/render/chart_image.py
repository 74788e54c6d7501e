"""A small Pillow line-chart renderer: a grid of panels, one polyline per curve, one legend on top.

Why not matplotlib or Qt: the headless report must draw without a display and without
another large dependency, and it only needs what the Metrics tab shows — titled panels
with a y unit, ticks at round numbers, light gridlines, solid or dashed lines and a single
legend. Everything is drawn at `supersample` times the size and scaled down, so lines and
text come out anti-aliased.

The renderer knows nothing about metrics: callers pass `ChartPanel`s with their ranges,
tick steps and styled curves (render/metrics_chart.py builds them from the shared panel
description). `draw_charts` returns the picture and a `ChartLayout` that says where every
panel's plot area and every drawn curve's points ended up, in the picture's pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from PIL import Image, ImageDraw

from hrm_studio.render.grid_image import Font, blend, plain_text, text_size, ui_font
from hrm_studio.render.grid_style import hex_to_rgb
from hrm_studio.render.metric_panels import CurveStyle, LegendEntry
from hrm_studio.render.plot_colours import PlotColours
from hrm_studio.render.plot_ranges import nice_step, nice_ticks

Box = tuple[float, float, float, float]   # left, top, right, bottom

# Sizes at 1× (the output picture's pixels).
TITLE_PX = 15
TICK_PX = 12
LABEL_PX = 12
LEGEND_PX = 13
PANEL_HEIGHT = 300
MARGIN = 14               # around the whole picture
CELL_GAP = 22             # between panels
TICK_LEN = 4
LEGEND_SWATCH = 26        # the line drawn before each legend text
X_PADDING = 0.02          # share of the x range left free on each side (as the window's plots)
Y_PADDING = 0.07          # room above 100 % and below 0 so the lines are not on the frame
DOT_RADIUS = 2.6          # a curve of one point is drawn as a dot


@dataclass(frozen=True)
class ChartCurve:
    key: str
    label: str
    xs: Sequence[float]
    ys: Sequence[float]
    style: CurveStyle


@dataclass(frozen=True)
class ChartPanel:
    name: str
    title: str
    curves: tuple[ChartCurve, ...]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    x_label: str = ""
    y_label: str = ""
    x_step: float | None = None    # None: a nice step for about six labels
    y_step: float | None = None


@dataclass(frozen=True)
class DrawnCurve:
    key: str
    panel: str
    colour: str
    dashed: bool
    points: tuple[tuple[float, float], ...]   # pixel centres of the curve's points in the picture


@dataclass
class ChartLayout:
    size: tuple[int, int]
    legend: Box | None = None
    panels: dict[str, Box] = field(default_factory=dict)      # plot area (inside the axes) per panel
    curves: dict[str, DrawnCurve] = field(default_factory=dict)  # only curves with a finite point


@dataclass(frozen=True)
class _Fonts:
    title: Font
    tick: Font
    label: Font
    legend: Font


def _fonts(scale: int) -> _Fonts:
    return _Fonts(ui_font(TITLE_PX * scale), ui_font(TICK_PX * scale), ui_font(LABEL_PX * scale),
                  ui_font(LEGEND_PX * scale))


def tick_text(value: float, step: float) -> str:
    """A tick label with as many decimals as the step needs (0.0005 steps: 0.001, 0.0015); steps
    below 0.001 in short e-notation (2e-05) so small learning rates stay narrow."""
    if value == 0:
        return "0"
    if abs(step) < 1e-3:
        return f"{value:.3g}"
    for decimals in range(0, 7):
        if abs(round(step, decimals) - step) <= abs(step) * 1e-6:
            return f"{value:.{decimals}f}"
    return f"{value:.3g}"


def _grid_colour(colours: PlotColours) -> tuple[int, int, int]:
    return blend(colours.background, colours.foreground, colours.grid_alpha)


def _legend_lines(entries: Sequence[LegendEntry], font: Font, width: float,
                  scale: int) -> list[list[tuple[LegendEntry, float]]]:
    """Entries with their widths, wrapped into lines no wider than `width`."""
    gap = 18 * scale
    lines: list[list[tuple[LegendEntry, float]]] = [[]]
    used = 0.0
    for entry in entries:
        w = text_size(entry.text, font)[0] + (0 if entry.colour is None else (LEGEND_SWATCH + 6) * scale)
        if lines[-1] and used + gap + w > width:
            lines.append([])
            used = 0.0
        used += (gap if lines[-1] else 0) + w
        lines[-1].append((entry, w))
    return [line for line in lines if line]


def _dashed(draw: ImageDraw.ImageDraw, points: Sequence[tuple[float, float]], colour: tuple[int, int, int],
            width: int, dash: float, gap: float) -> None:
    """A polyline drawn dash by dash, the pattern running on across its corners."""
    on, left = True, dash
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        length = math.hypot(x1 - x0, y1 - y0)
        done = 0.0
        while length - done > 1e-9:
            step = min(left, length - done)
            if on:
                a, b = done / length, (done + step) / length
                draw.line([(x0 + (x1 - x0) * a, y0 + (y1 - y0) * a), (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)],
                          fill=colour, width=width)
            done += step
            left -= step
            if left <= 1e-9:
                on = not on
                left = dash if on else gap


def _draw_legend(draw: ImageDraw.ImageDraw, entries: Sequence[LegendEntry], colours: PlotColours, fonts: _Fonts,
                 left: float, top: float, width: float, scale: int) -> float:
    """The legend centred in [left, left + width]; returns its height."""
    lines = _legend_lines(entries, fonts.legend, width, scale)
    line_h = text_size("Ag", fonts.legend)[1] + 8 * scale
    gap = 18 * scale
    fg = hex_to_rgb(colours.foreground)
    for n, line in enumerate(lines):
        total = sum(w for _, w in line) + gap * (len(line) - 1)
        x = left + (width - total) / 2
        y = top + n * line_h + line_h / 2
        for entry, w in line:
            if entry.colour is not None:
                colour = hex_to_rgb(entry.colour)
                swatch = [(x, y), (x + LEGEND_SWATCH * scale, y)]
                if entry.dashed:
                    _dashed(draw, swatch, colour, 2 * scale, 5 * scale, 3 * scale)
                else:
                    draw.line(swatch, fill=colour, width=3 * scale)
                x += (LEGEND_SWATCH + 6) * scale
            draw.text((x, y), plain_text(entry.text, fonts.legend), font=fonts.legend, fill=fg, anchor="lm")
            x += w - (0 if entry.colour is None else (LEGEND_SWATCH + 6) * scale) + gap
    return len(lines) * line_h


def _vertical_text(text: str, font: Font, colour: tuple[int, int, int]) -> Image.Image:
    w, h = text_size(text, font)
    tile = Image.new("L", (w + 4, h + 4), 0)
    ImageDraw.Draw(tile).text((2, 2), plain_text(text, font), font=font, fill=255)
    mask = tile.rotate(90, expand=True)
    solid = Image.new("RGB", mask.size, colour)
    solid.putalpha(mask)
    return solid


@dataclass(frozen=True)
class _Frame:
    """One panel's plot area (supersampled pixels), its padded data ranges and its ticks."""

    box: Box
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    x_ticks: list[float]
    y_ticks: list[float]
    x_texts: list[str]
    y_texts: list[str]

    def to_px(self, x: float, y: float) -> tuple[float, float]:
        left, top, right, bottom = self.box
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        return left + (x - x0) / (x1 - x0) * (right - left), bottom - (y - y0) / (y1 - y0) * (bottom - top)


def _frame(spec: ChartPanel, cell: Box, fonts: _Fonts, scale: int) -> _Frame:
    """Ticks at round numbers, and the plot area left once the title, tick labels and axis labels have room."""
    x0, x1 = spec.x_range
    y0, y1 = spec.y_range
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1
    x_step = spec.x_step or nice_step(x1 - x0, 6)
    y_step = spec.y_step or nice_step(y1 - y0, 5)
    x_ticks, y_ticks = nice_ticks(x0, x1, x_step), nice_ticks(y0, y1, y_step)
    y_texts = [tick_text(v, y_step) for v in y_ticks]
    tick_w = max((text_size(t, fonts.tick)[0] for t in y_texts), default=0)
    tick_h = text_size("0", fonts.tick)[1]
    label_h = text_size("Ag", fonts.label)[1]
    left, top, right, bottom = cell
    box = (left + (label_h + 6 * scale if spec.y_label else 0) + tick_w + (TICK_LEN + 5) * scale,
           top + text_size("Ag", fonts.title)[1] + 10 * scale,
           right - 8 * scale,
           bottom - (tick_h + (TICK_LEN + 6) * scale) - (label_h + 6 * scale if spec.x_label else 0))
    # The padded ranges, as the window's plots pad theirs.
    return _Frame(box, (x0 - X_PADDING * (x1 - x0), x1 + X_PADDING * (x1 - x0)),
                  (y0 - Y_PADDING * (y1 - y0), y1 + Y_PADDING * (y1 - y0)), x_ticks, y_ticks,
                  [tick_text(v, x_step) for v in x_ticks], y_texts)


def _draw_axes(image: Image.Image, spec: ChartPanel, frame: _Frame, cell: Box, colours: PlotColours,
               fonts: _Fonts, scale: int) -> None:
    """Title, gridlines, then the axes with their ticks and labels over them."""
    draw = ImageDraw.Draw(image)
    fg, grid, line_w = hex_to_rgb(colours.foreground), _grid_colour(colours), max(1, scale)
    left, top, right, bottom = frame.box
    draw.text(((cell[0] + cell[2]) / 2, cell[1]), plain_text(spec.title, fonts.title), font=fonts.title, fill=fg,
              anchor="ma")
    xs = [frame.to_px(v, frame.y_range[0])[0] for v in frame.x_ticks]
    ys = [frame.to_px(frame.x_range[0], v)[1] for v in frame.y_ticks]
    for x in xs:
        draw.line([(x, top), (x, bottom)], fill=grid, width=line_w)
    for y in ys:
        draw.line([(left, y), (right, y)], fill=grid, width=line_w)
    draw.line([(left, top), (left, bottom), (right, bottom)], fill=fg, width=line_w)
    for x, text in zip(xs, frame.x_texts):
        draw.line([(x, bottom), (x, bottom + TICK_LEN * scale)], fill=fg, width=line_w)
        draw.text((x, bottom + (TICK_LEN + 3) * scale), text, font=fonts.tick, fill=fg, anchor="ma")
    for y, text in zip(ys, frame.y_texts):
        draw.line([(left - TICK_LEN * scale, y), (left, y)], fill=fg, width=line_w)
        draw.text((left - (TICK_LEN + 4) * scale, y), text, font=fonts.tick, fill=fg, anchor="rm")
    if spec.x_label:
        draw.text(((left + right) / 2, cell[3]), plain_text(spec.x_label, fonts.label), font=fonts.label, fill=fg,
                  anchor="md")
    if spec.y_label:
        label = _vertical_text(spec.y_label, fonts.label, fg)
        image.paste(label, (int(cell[0]), int((top + bottom - label.height) / 2)), label)


def _draw_curves(image: Image.Image, spec: ChartPanel, frame: _Frame, scale: int, layout: ChartLayout) -> None:
    """The curves, clipped to the plot area: drawn on their own layer and pasted through its box."""
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    pen = ImageDraw.Draw(layer)
    for curve in spec.curves:
        points = [frame.to_px(x, y) for x, y in zip(curve.xs, curve.ys) if math.isfinite(x) and math.isfinite(y)]
        if not points:
            continue
        colour = hex_to_rgb(curve.style.colour)
        width = max(1, round(curve.style.width * scale))
        if len(points) == 1:
            (cx, cy), r = points[0], DOT_RADIUS * scale
            pen.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
        elif curve.style.dashed:
            _dashed(pen, points, colour, width, 4 * curve.style.width * scale, 2.5 * curve.style.width * scale)
        else:
            pen.line(points, fill=colour, width=width, joint="curve")
        layout.curves[curve.key] = DrawnCurve(curve.key, spec.name, curve.style.colour, curve.style.dashed,
                                              tuple((x / scale, y / scale) for x, y in points))
    left, top, right, bottom = frame.box
    clip = (int(left) + 1, int(top), int(right) + 1, int(bottom))
    region = layer.crop(clip)
    image.paste(region, clip[:2], region)


def _draw_panel(image: Image.Image, spec: ChartPanel, cell: Box, colours: PlotColours, fonts: _Fonts, scale: int,
                layout: ChartLayout) -> None:
    frame = _frame(spec, cell, fonts, scale)
    _draw_axes(image, spec, frame, cell, colours, fonts, scale)
    _draw_curves(image, spec, frame, scale, layout)
    layout.panels[spec.name] = tuple(v / scale for v in frame.box)  # type: ignore[assignment]


def draw_charts(panels: Sequence[ChartPanel], colours: PlotColours, legend: Sequence[LegendEntry] = (), *,
                width: int = 1200, panel_height: int = PANEL_HEIGHT, columns: int = 2,
                supersample: int = 2) -> tuple[Image.Image, ChartLayout]:
    """The panels in a grid of `columns`, in order, under one legend; an RGB picture `width` pixels wide."""
    if width < 200 or panel_height < 120:
        raise ValueError(f"A chart needs at least 200×120 pixels per panel row, not {width}×{panel_height}.")
    s = max(1, int(supersample))
    fonts = _fonts(s)
    rows = max(1, math.ceil(len(panels) / columns))
    legend_h = 0.0
    if legend:
        legend_h = len(_legend_lines(legend, fonts.legend, (width - 2 * MARGIN) * s, s)) * \
            (text_size("Ag", fonts.legend)[1] + 8 * s) / s + 8
    height = int(math.ceil(MARGIN * 2 + legend_h + rows * panel_height + (rows - 1) * CELL_GAP))
    image = Image.new("RGB", (width * s, height * s), hex_to_rgb(colours.background))
    layout = ChartLayout(size=(width, height))
    draw = ImageDraw.Draw(image)
    if legend:
        _draw_legend(draw, legend, colours, fonts, MARGIN * s, MARGIN * s, (width - 2 * MARGIN) * s, s)
        layout.legend = (MARGIN, MARGIN, width - MARGIN, MARGIN + legend_h)
    cell_w = (width - 2 * MARGIN - (columns - 1) * CELL_GAP) / columns
    for index, spec in enumerate(panels):
        row, col = divmod(index, columns)
        left = MARGIN + col * (cell_w + CELL_GAP)
        top = MARGIN + legend_h + row * (panel_height + CELL_GAP)
        cell = (left * s, top * s, (left + cell_w) * s, (top + panel_height) * s)
        _draw_panel(image, spec, cell, colours, fonts, s, layout)
    if s > 1:
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    return image, layout
