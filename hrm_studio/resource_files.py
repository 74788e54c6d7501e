"""Find files in the top-level `resources/` folder, from a checkout or a packaged build.

Why a helper: code must never build resource paths itself. A source checkout (or an
editable install) has `resources/` beside the package; a PyInstaller build unpacks it
under `sys._MEIPASS`. One function keeps both working and names the missing file.
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any


def resources_dir() -> Path:
    """The folder holding HRM Studio's icons, palettes and other non-code files."""
    bundled = getattr(sys, "_MEIPASS", None)
    candidates = ([Path(bundled) / "resources"] if bundled else []) + [
        Path(__file__).resolve().parent.parent / "resources",
        Path(sys.prefix) / "share" / "hrm-studio" / "resources",
    ]
    for folder in candidates:
        if folder.is_dir():
            return folder
    return candidates[0]


def resource_path(name: str) -> Path:
    """Path of `resources/<name>`; FileNotFoundError naming it when the install lacks it."""
    path = resources_dir() / name
    if not path.exists():
        raise FileNotFoundError(f"HRM Studio's resource '{name}' is missing from {resources_dir()}; "
                                f"reinstall HRM Studio.")
    return path


@lru_cache(maxsize=None)
def read_json_resource(name: str) -> Any:
    """A JSON resource, parsed once per process (the files never change while it runs)."""
    return json.loads(resource_path(name).read_text(encoding="utf-8"))
