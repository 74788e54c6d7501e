"""The attention kernel is compiled on the user's machine, so its C source must ship with every
form of the app: the wheel (package data) and the PyInstaller bundle (a data file)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path("hrm_studio") / "kernels" / "attention.c"


def test_the_wheel_carries_the_kernel_source():
    assert (ROOT / SOURCE).is_file()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = package_data.get("hrm_studio.kernels", [])
    assert any(fnmatch.fnmatch(SOURCE.name, pattern) for pattern in patterns)


def test_the_pyinstaller_bundle_carries_the_kernel_source_where_build_py_looks():
    spec = (ROOT / "packaging" / "pyinstaller" / "hrm-studio.spec").read_text()
    assert '"hrm_studio" / "kernels" / "attention.c"), "hrm_studio/kernels")' in spec
