"""The system trash, through Qt: where the Runs tab's *Delete…* puts run folders.

Why Qt's: `QFile.moveToTrash` speaks each desktop's trash (the freedesktop.org Trash on Linux,
the Recycle Bin on Windows, the Finder's Trash on macOS), so a deleted run can be restored
from the file manager like any other file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QFile, QStandardPaths


def move_to_trash(path: Path) -> str | None:
    """Move `path` to the trash; returns where it now is, None when the trash could not take it
    (then nothing was moved or deleted)."""
    if sys.platform.startswith("linux"):
        # Qt puts the home trash in $XDG_DATA_HOME/Trash but will not create $XDG_DATA_HOME itself
        # (a fresh account or container may not have ~/.local/share yet).
        data = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericDataLocation)
        try:
            Path(data).mkdir(parents=True, exist_ok=True)
        except OSError:
            pass   # then Qt cannot make the trash either, and says so by returning False
    # The instance method: PySide6's static QFile.moveToTrash(name) does not return the path in the
    # trash; the instance's fileName() becomes it.
    file = QFile(str(path))
    if not file.moveToTrash():
        return None
    return file.fileName()
