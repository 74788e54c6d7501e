"""Save a widget (the plots) as PNG or SVG.

PNG: rendered at the screen's device pixel ratio, so a HiDPI display gives a sharp image
of the same logical size. SVG: pyqtgraph 0.14's own SVG exporter is broken, so the widget
is rendered through QSvgGenerator instead; lines and text stay vectors. Qt names its own font
families there ("Sans Serif"), which no browser knows and most draw with a serif font, so each
family gets the CSS generic family after it (`SVG_FONT_FALLBACK`).
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QRect, QRectF, QSize
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QWidget

from hrm_studio.errors import UserError

PLOT_FORMATS = {"png": "PNG image (*.png)", "svg": "SVG drawing (*.svg)"}
# Qt's family aliases → what a browser honours; any other family keeps its name with sans-serif after it.
QT_FAMILY_ALIASES = {"sans serif": "sans-serif", "sans": "sans-serif", "serif": "serif", "monospace": "monospace",
                     "helvetica": "Helvetica, Arial, sans-serif"}
SVG_FONT_FALLBACK = "sans-serif"
_FAMILY = re.compile(r'font-family="([^"]*)"')


def save_png(widget: QWidget, path: str | Path, background: str | None = None) -> Path:
    path = Path(path)
    ratio = max(widget.devicePixelRatioF(), 1.0)
    size = widget.size()
    image = QImage(round(size.width() * ratio), round(size.height() * ratio),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(QColor(background) if background else widget.palette().window().color())
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    widget.render(painter)
    painter.end()
    _ensure_folder(path)
    if not image.save(str(path), "PNG"):
        raise UserError(f"Could not write the image {path}; check that the folder exists and is writable.")
    return path


def save_svg(widget: QWidget, path: str | Path, title: str = "HRM Studio plots") -> Path:
    path = Path(path)
    _ensure_folder(path)
    size = widget.size()
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(size.width(), size.height()))
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    generator.setDescription("Exported by HRM Studio")
    painter = QPainter()
    if not painter.begin(generator):
        raise UserError(f"Could not write the drawing {path}; check that the folder exists and is writable.")
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    scene = getattr(widget, "scene", None)
    if callable(scene) and scene() is not None:
        # A QGraphicsView: render its scene directly so every item is drawn as vectors.
        scene().render(painter, QRectF(0, 0, size.width(), size.height()), QRectF(widget.viewport().rect()))
    else:
        widget.render(painter)
    painter.end()
    if not path.exists() or path.stat().st_size == 0:
        raise UserError(f"Could not write the drawing {path}.")
    _use_web_font_families(path)
    return path


def web_font_family(family: str) -> str:
    """A font-family value browsers draw as intended: "Sans Serif" → "sans-serif", "DejaVu Sans" →
    "DejaVu Sans, sans-serif"."""
    name = family.strip().strip("'")
    known = QT_FAMILY_ALIASES.get(name.lower())
    if known is not None:
        return known
    return f"{name}, {SVG_FONT_FALLBACK}" if name else SVG_FONT_FALLBACK


def _use_web_font_families(path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
        path.write_text(_FAMILY.sub(lambda m: f'font-family="{web_font_family(m.group(1))}"', text), encoding="utf-8")
    except OSError as exc:
        raise UserError(f"Could not write the drawing {path}: {exc.strerror or exc}.") from None


def save_plot(widget: QWidget, path: str | Path, background: str | None = None) -> Path:
    """By the file's extension: .png or .svg."""
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        return save_png(widget, path, background)
    if suffix == ".svg":
        return save_svg(widget, path)
    raise UserError(f"Plots can be saved as .png or .svg, not '{suffix or 'no extension'}'.")


def _ensure_folder(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"Cannot create the folder {path.parent}: {exc.strerror or exc}.") from None
