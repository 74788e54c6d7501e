"""HRM Studio's icon, for the window title bar, the taskbar and the About box.

Why PNGs and not the SVG: Qt draws an SVG icon only through its `svg` icon-engine plugin,
which a trimmed packaged build might leave out; the pre-rendered PNGs (made from
`resources/icon/hrm-studio.svg` by `scripts/render_icons.py`) need nothing but Qt's core
image formats, and each size is drawn for its size rather than scaled on the fly.
"""

from __future__ import annotations

from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QWidget

from hrm_studio.resource_files import resource_path

# The application id: the .desktop file's name, the AppStream id and the installed icon's
# name all use it, and Qt passes it to the desktop (Wayland app id, X11 WM class hint)
# so the taskbar can match the running window to its menu entry.
APP_ID = "io.github.hrmstudio.HRMStudio"
ICON_SVG = "icon/hrm-studio.svg"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def icon_png(size: int) -> str:
    """The resource name of the PNG rendering at `size` × `size` pixels."""
    return f"icon/hrm-studio-{size}.png"


def app_icon() -> QIcon:
    """Every PNG size in one QIcon, so Qt picks the sharpest one for each place."""
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addFile(str(resource_path(icon_png(size))))
    return icon


def icon_pixmap(size: int) -> QPixmap:
    """The icon at `size` pixels (for the About box), drawn from the nearest rendering."""
    return app_icon().pixmap(size, size)


def apply_app_icon(app: QApplication, *windows: QWidget) -> QIcon:
    """Set the icon on the application (new windows inherit it) and on `windows` given."""
    icon = app_icon()
    app.setWindowIcon(icon)
    for window in windows:
        window.setWindowIcon(icon)
    return icon
