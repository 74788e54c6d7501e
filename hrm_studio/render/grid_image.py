"""Draw one token grid as a Pillow image, the way the window's grid viewer draws it.

Why Pillow and not Qt: exports run headless (CLI, report, tests) and must not need a
display; the colours, labels, crop and marks come from `grid_style` and `grid_geometry`,
which the window reads too, so a saved picture matches what the user saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from hrm_studio.data.grid import PAD
from hrm_studio.render.grid_geometry import GridGeometry
from hrm_studio.render.grid_style import GridStyle, hex_to_rgb

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

# Fonts with the few symbols the exports use (× ✓ ✗ ·), tried in order before Pillow's own.
_FONT_FILES = ("DejaVuSans.ttf", "segoeui.ttf", "Arial Unicode.ttf", "Arial.ttf", "Helvetica.ttc")
# What a symbol reads as when the font found has no glyph for it.
_ASCII = {"×": "x", "✓": "yes", "✗": "no", "·": "|", "…": "...", "−": "-"}
# Labels that are not content: drawing "PAD" or "_" in a cell only adds noise.
_SILENT_LABELS = frozenset({"PAD", "EOS", "_", "", " "})
_MIN_TEXT_CELL = 10   # below this many pixels a label cannot be read, so it is left out
_CONFIDENCE_SHADE = 0.75  # darkest overlay (at probability 0), so the colour stays recognisable
_DIM_SHARE = 0.7      # how far dimmed cells fade toward the grid-line colour


@lru_cache(maxsize=32)
def ui_font(size: int) -> Font:
    """A font of `size` pixels: a system sans with ✓/✗ if there is one, else Pillow's own."""
    for name in _FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one fixed-size bitmap font
        return ImageFont.load_default()


def _ink(font: Font, char: str) -> bytes:
    image = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(image).text((8, 8), char, font=font, fill=255)
    return image.tobytes()


@lru_cache(maxsize=256)
def _has_glyph(font: Font, char: str) -> bool:
    """False when `font` would draw its "no glyph" box (or nothing) for `char`."""
    ink = _ink(font, char)
    return any(ink) and ink != _ink(font, "\U000f0000")  # a private-use code point: surely missing


def plain_text(text: str, font: Font) -> str:
    """`text` with symbols the font cannot draw spelled in ASCII, so no empty boxes appear."""
    return "".join(_ASCII.get(ch, ch) if ch in _ASCII and not _has_glyph(font, ch) else ch for ch in text)


def text_size(text: str, font: Font) -> tuple[int, int]:
    """(width, height) in pixels that `text` takes when drawn with `font`."""
    left, top, right, bottom = font.getbbox(plain_text(text, font))
    return int(np.ceil(right - min(left, 0))), int(np.ceil(bottom - min(top, 0)))


def blend(colour: str | tuple[int, int, int], towards: str | tuple[int, int, int],
          share: float) -> tuple[int, int, int]:
    """`colour` moved `share` (0..1) of the way to `towards`."""
    a = hex_to_rgb(colour) if isinstance(colour, str) else colour
    b = hex_to_rgb(towards) if isinstance(towards, str) else towards
    return tuple(int(round(x + (y - x) * share)) for x, y in zip(a, b))  # type: ignore[return-value]


def _mask(values: np.ndarray | None, size: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    values = np.asarray(values).reshape(-1)
    if values.shape[0] != size:
        raise ValueError(f"{name} has {values.shape[0]} cells but the grid has {size}.")
    return values


def draw_grid(tokens: np.ndarray, geometry: GridGeometry, style: GridStyle, cell: int = 24, *,
              show_text: bool | None = None, wrong: np.ndarray | None = None,
              changed: np.ndarray | None = None, confidence: np.ndarray | None = None,
              dim: np.ndarray | None = None) -> Image.Image:
    """The visible window of `tokens` [S] as an RGB image, one `cell`-pixel square per token.

    wrong:      bool [S]; outlined in marks['wrong'], crossed where no label is drawn (thin lines filled)
    changed:    bool [S]; outlined in marks['changed'] (inside any wrong outline)
    confidence: float [S] 0..1; low-confidence cells are shaded darker
    dim:        bool [S]; faded cells (not scored, or right in a diff view)
    show_text:  draw labels; None = the style's default (Sudoku digits yes, colours no)
    """
    tokens = np.asarray(tokens).reshape(-1)
    size = geometry.grid_rows * geometry.grid_cols
    if tokens.shape[0] != size:
        raise ValueError(f"The sequence has {tokens.shape[0]} tokens but the grid is "
                         f"{geometry.grid_rows}×{geometry.grid_cols} = {size}.")
    if cell < 4:
        raise ValueError(f"A cell must be at least 4 pixels wide, not {cell}.")
    wrong, changed = _mask(wrong, size, "wrong"), _mask(changed, size, "changed")
    confidence, dim = _mask(confidence, size, "confidence"), _mask(dim, size, "dim")
    if show_text is None:
        show_text = style.shows_text_by_default()
    show_text = show_text and cell >= _MIN_TEXT_CELL

    tops, lefts = (np.rint(edges).astype(int) for edges in geometry.offsets(cell))
    line = style.marks["grid_line"]
    # One pixel more than the extent so the far grid line is inside the picture.
    image = Image.new("RGB", (int(lefts[-1]) + 1, int(tops[-1]) + 1), hex_to_rgb(line))
    pen = _Pen(ImageDraw.Draw(image), style, ui_font(max(8, int(cell * 0.6))), max(2, cell // 8), cell,
               show_text, wrong, changed, confidence, dim)
    index = geometry.visible_index()
    for r in range(geometry.rows):
        for c in range(geometry.cols):
            box = (int(lefts[c]) + 1, int(tops[r]) + 1,   # inside the 1 px grid line
                   int(lefts[c + 1]) - 1, int(tops[r + 1]) - 1)
            if box[2] >= box[0] and box[3] >= box[1]:
                pos = int(index[r, c])
                pen.cell(pos, int(tokens[pos]), box, thin=bool(geometry.thin_rows[r] or geometry.thin_cols[c]))
    return image


@dataclass(frozen=True)
class _Pen:
    """What every cell of one picture is drawn with: the canvas, the style and the per-cell marks."""

    draw: ImageDraw.ImageDraw
    style: GridStyle
    font: Any
    mark_width: int
    size: int
    show_text: bool
    wrong: np.ndarray | None
    changed: np.ndarray | None
    confidence: np.ndarray | None
    dim: np.ndarray | None

    def cell(self, pos: int, token: int, box: tuple[int, int, int, int], *, thin: bool) -> None:
        """One token's square: fill, label, and its wrong / changed marks."""
        line = self.style.marks["grid_line"]
        fill = hex_to_rgb(self.style.fill(token))
        if self.confidence is not None:
            p = float(np.clip(np.nan_to_num(float(self.confidence[pos])), 0.0, 1.0))
            fill = blend(fill, (0, 0, 0), (1.0 - p) * _CONFIDENCE_SHADE)
        dimmed = self.dim is not None and bool(self.dim[pos])
        if dimmed:
            fill = blend(fill, line, _DIM_SHARE)
        is_wrong = self.wrong is not None and bool(self.wrong[pos])
        if thin:
            # A strip too narrow for an outline: a wrong EOS cell is filled with the mark.
            self.draw.rectangle(box, fill=self.style.marks["wrong"] if is_wrong else fill)
            return
        self.draw.rectangle(box, fill=fill)
        labelled = self.show_text and token != PAD and self.style.label(token) not in _SILENT_LABELS
        if labelled:
            colour = self.style.text_colour(token)
            if dimmed:
                colour = blend(colour, line, _DIM_SHARE)  # type: ignore[assignment]
            x0, y0, x1, y1 = box
            self.draw.text(((x0 + x1 + 1) / 2, (y0 + y1 + 1) / 2), plain_text(self.style.label(token), self.font),
                           fill=colour, font=self.font, anchor="mm")
        if is_wrong:
            self._wrong_mark(box, crossed=not labelled)
        if self.changed is not None and self.changed[pos]:
            self._changed_mark(box, inside_wrong=is_wrong)

    def _wrong_mark(self, box: tuple[int, int, int, int], *, crossed: bool) -> None:
        # Each mark gets a dark edge so it still shows on a cell of a similar colour (ARC red).
        line, mark, width = self.style.marks["grid_line"], self.style.marks["wrong"], self.mark_width
        self.draw.rectangle(box, outline=line, width=width + 1)
        self.draw.rectangle(box, outline=mark, width=width)
        x0, y0, x1, y1 = box
        inset = width + max(1, self.size // 6)
        cross = max(1, self.size // 12)
        # A cross only where no label is drawn: a wrong digit must stay readable.
        for stroke, colour in ((cross + 2, line), (cross, mark)) if crossed else ():
            self.draw.line((x0 + inset, y0 + inset, x1 - inset, y1 - inset), fill=colour, width=stroke)
            self.draw.line((x0 + inset, y1 - inset, x1 - inset, y0 + inset), fill=colour, width=stroke)

    def _changed_mark(self, box: tuple[int, int, int, int], *, inside_wrong: bool) -> None:
        k = self.mark_width if inside_wrong else 0
        x0, y0, x1, y1 = box
        if x1 - x0 > 2 * k + 2:
            self.draw.rectangle((x0 + k, y0 + k, x1 - k, y1 - k), outline=self.style.marks["changed"],
                                width=max(1, self.mark_width // 2) if inside_wrong else self.mark_width)
