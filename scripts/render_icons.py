"""Render resources/icon/hrm-studio.svg to the PNG sizes the app and the desktop use.

Run after editing the SVG: `.venv/bin/python scripts/render_icons.py`. The PNGs are
committed, so neither the app nor a packaged build needs an SVG renderer at run time.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRectF, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from hrm_studio.gui.shell.app_icon import ICON_SIZES  # noqa: E402

ICON_DIR = ROOT / "resources" / "icon"


def render(renderer: QSvgRenderer, size: int) -> QImage:
    """The SVG drawn on a transparent square of `size` pixels, antialiased."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICON_DIR / "hrm-studio.svg"))
    if not renderer.isValid():
        print("resources/icon/hrm-studio.svg is not a valid SVG", file=sys.stderr)
        return 1
    for size in ICON_SIZES:
        out = ICON_DIR / f"hrm-studio-{size}.png"
        if not render(renderer, size).save(str(out), "PNG"):
            print(f"could not write {out}", file=sys.stderr)
            return 1
        print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
