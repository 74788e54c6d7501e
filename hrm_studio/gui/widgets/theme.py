"""Light / dark colours for the plots, read from the running application's palette.

The plots follow the desktop: when the colour scheme changes, the window asks for the
colours again and re-applies them (no hard-coded white background in a dark desktop).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette

# The plain colour values live in render/ so the headless report draws with the same ones.
from hrm_studio.render.plot_colours import PlotColours, default_plot_colours

__all__ = ["PlotColours", "is_dark", "plot_colours"]


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
    colours = default_plot_colours(dark)
    palette = QGuiApplication.palette() if QGuiApplication.instance() is not None else None
    if palette is not None:
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        if (base.lightness() < 128) == dark:  # trust the palette only when it agrees
            colours = replace(colours, background=base.name(), foreground=text.name())
    return colours
