"""Light / dark colours for the plots, read from the running application's palette.

The plots follow the desktop: when the colour scheme changes, the window asks for the
colours again and re-applies them (no hard-coded white background in a dark desktop).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette

_PATTERNS_LIGHT = ("#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
_PATTERNS_DARK = ("#6fd36f", "#ff7070", "#c5a3ff", "#d9a27f", "#ff9bd9", "#c7c7c7", "#e6e65c", "#5fe0ef")


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


def is_dark() -> bool:
    """The desktop's colour scheme, falling back to the palette's window lightness."""
    app = QGuiApplication.instance()
    if app is None:
        return False
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def plot_colours(dark: bool | None = None) -> PlotColours:
    dark = is_dark() if dark is None else dark
    palette = QGuiApplication.palette() if QGuiApplication.instance() is not None else None
    if dark:
        background = "#1e1f22"
        foreground = "#d7d7d7"
    else:
        background = "#ffffff"
        foreground = "#303030"
    if palette is not None:
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        if (base.lightness() < 128) == dark:  # trust the palette only when it agrees
            background, foreground = base.name(), text.name()
    return PlotColours(
        dark=dark, background=background, foreground=foreground, grid_alpha=0.25 if dark else 0.15,
        train="#5fa8e8" if dark else "#1f77b4", validation="#ffa54f" if dark else "#ff7f0e",
        patterns=_PATTERNS_DARK if dark else _PATTERNS_LIGHT, cursor="#9a9a9a" if dark else "#8a8a8a")
