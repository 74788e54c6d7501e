"""How a token looks: its cell colour and the text drawn in it, per display kind.

Why here and not in the GUI: the window's grid viewer (QPainter) and the PNG/GIF
exports (Pillow) must draw the same puzzle the same way, so both read their colours and
labels from this one place, which reads `resources/palettes.json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hrm_studio.resource_files import read_json_resource

DISPLAY_KINDS = ("colour", "sudoku", "maze")


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """'#RRGGBB' → (r, g, b)."""
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def luminance(colour: str) -> float:
    """Perceived brightness 0..1, to pick dark or light text on a cell."""
    r, g, b = hex_to_rgb(colour)
    return (0.299 * r + 0.587 * g + 0.114 * b) / 255.0


@dataclass(frozen=True)
class GridStyle:
    """Fill colour and label per token id for one task's vocabulary."""

    display: str
    labels: tuple[str, ...]
    fills: tuple[str, ...]
    marks: dict[str, str]

    @classmethod
    def for_task(cls, task: dict[str, Any]) -> GridStyle:
        """Style for a TaskInfo dict (`display`, `vocab_labels`); unknown tokens get fallback colours."""
        palettes = read_json_resource("palettes.json")
        display = str(task.get("display", "colour"))
        labels = tuple(str(v) for v in task.get("vocab_labels") or [])
        table = palettes.get(display if display in DISPLAY_KINDS else "colour", {})
        fallback = palettes["fallback"]
        fills = tuple(table.get(label, fallback[i % len(fallback)]) for i, label in enumerate(labels))
        return cls(display=display, labels=labels, fills=fills, marks=dict(palettes["marks"]))

    def fill(self, token: int) -> str:
        """Cell colour of `token` (tokens past the vocabulary get a fallback colour)."""
        if 0 <= token < len(self.fills):
            return self.fills[token]
        return "#ff00ff"

    def label(self, token: int) -> str:
        """Short text for `token`: its vocabulary label ("·" for a blank one, e.g. a maze's open
        cell), or the id itself."""
        if 0 <= token < len(self.labels):
            return self.labels[token] if self.labels[token].strip() else "·"
        return str(token)

    def text_colour(self, token: int) -> str:
        """Dark text on light cells, light text on dark ones."""
        return self.marks["text_dark"] if luminance(self.fill(token)) > 0.55 else self.marks["text_light"]

    def shows_text_by_default(self) -> bool:
        """Sudoku digits are the content; colour and maze cells read from colour alone."""
        return self.display == "sudoku"
