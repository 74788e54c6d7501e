"""The plots' colours as plain values: light and dark, train, held-out and one colour per pattern.

Why here and not in gui/widgets/theme.py: the headless report draws the Metrics tab's
plots with Pillow and must use the same colours without importing Qt. The window's
theme.py starts from these values and only swaps in the desktop palette's background and
text colours.
"""

from __future__ import annotations

from dataclasses import dataclass

PATTERNS_LIGHT = ("#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
PATTERNS_DARK = ("#6fd36f", "#ff7070", "#c5a3ff", "#d9a27f", "#ff9bd9", "#c7c7c7", "#e6e65c", "#5fe0ef")


@dataclass(frozen=True)
class PlotColours:
    dark: bool
    background: str
    foreground: str
    grid_alpha: float
    train: str
    validation: str
    patterns: tuple[str, ...]
    cursor: str

    def pattern(self, index: int) -> str:
        return self.patterns[index % len(self.patterns)]


LIGHT = PlotColours(dark=False, background="#ffffff", foreground="#303030", grid_alpha=0.15,
                    train="#1f77b4", validation="#ff7f0e", patterns=PATTERNS_LIGHT, cursor="#8a8a8a")
DARK = PlotColours(dark=True, background="#1e1f22", foreground="#d7d7d7", grid_alpha=0.25,
                   train="#5fa8e8", validation="#ffa54f", patterns=PATTERNS_DARK, cursor="#9a9a9a")


def default_plot_colours(dark: bool) -> PlotColours:
    """The plots' colours before any desktop palette is consulted (the report always uses LIGHT)."""
    return DARK if dark else LIGHT
