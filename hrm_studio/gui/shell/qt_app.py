"""The QApplication and its identity, and the safe way to destroy a window.

Apart from `app.main()` (the entry point) so that the entry point and what it starts
(the window, the self-test) can all use these without importing each other.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QLibraryInfo
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from hrm_studio import __version__
from hrm_studio.gui.shell.app_icon import APP_ID, apply_app_icon
from hrm_studio.gui.shell.platform_check import PlatformProblem, check_platform

DESKTOP_FILE_NAME = APP_ID  # packaging/linux/<APP_ID>.desktop; also the icon's installed name


def platform_problem() -> PlatformProblem | None:
    """What would make Qt abort when the QApplication is created (Linux xcb: missing libraries, no display)."""
    plugins = QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)
    return check_platform(os.environ, Path(plugins) if plugins else None)


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The one QApplication, named so the desktop can match its .desktop file and icon."""
    QGuiApplication.setDesktopFileName(DESKTOP_FILE_NAME)
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv else [sys.argv[0] if sys.argv else "hrm-studio"])
    app.setApplicationName("HRM Studio")
    app.setOrganizationName("HRM Studio")
    app.setApplicationVersion(__version__)
    apply_app_icon(app)
    return app  # type: ignore[return-value]


def dispose(window: "object") -> None:
    """Destroy the window while the QApplication still exists: PySide6 6.12 with pyqtgraph
    crashes at interpreter exit when a plot widget is still alive then."""
    import gc

    import shiboken6

    window.close()  # type: ignore[attr-defined]
    if shiboken6.isValid(window):
        shiboken6.delete(window)
    gc.collect()
