"""Find HRM Studio's icons, palettes and other non-code files, however it was installed.

Why a helper: code must never build resource paths itself. The files live in the top-level
`resources/` folder of the repository, which pyproject.toml installs as the package
`hrm_studio.resources` (its `package-dir`), so `importlib.resources` finds them in every pip
layout: editable, `--user`, `--prefix`, `--target`, a wheel. A PyInstaller build puts them in
`hrm_studio/resources` under `sys._MEIPASS`; a checkout that was never installed has them
beside the package. One function tries these in turn and names the missing file.
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

RESOURCE_PACKAGE = "hrm_studio.resources"


def _installed_folder() -> Path | None:
    """The resources package's folder on disk, or None when it is not importable."""
    try:
        folder = resources.files(RESOURCE_PACKAGE)
    except ModuleNotFoundError:  # an uninstalled checkout, or an install from before resources moved
        return None
    # Every supported install unpacks the files on disk; a zip import would give another kind.
    return folder if isinstance(folder, Path) else None


def _candidates() -> list[Path]:
    """Where the resources may be, most specific first."""
    found = [folder for folder in [_installed_folder()] if folder is not None]
    bundled = getattr(sys, "_MEIPASS", None)
    if bundled:
        found.append(Path(bundled) / "hrm_studio" / "resources")
    found.append(Path(__file__).resolve().parent.parent / "resources")
    return found


def resources_dir() -> Path:
    """The folder holding HRM Studio's icons, palettes and other non-code files."""
    candidates = _candidates()
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
