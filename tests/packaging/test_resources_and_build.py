"""Resources the code names exist and ship, as package data, in every kind of install; one
version string; the packaged build's recipe is in place but stays out of `make test`."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from hrm_studio import __version__, resource_files
from hrm_studio.gui.shell.app_icon import ICON_SIZES, ICON_SVG, icon_png
from hrm_studio.render.grid_style import hex_to_rgb

from .conftest import ROOT, project_version

# resource_path("x") / read_json_resource("x") with a literal name, anywhere in the package.
NAMED = re.compile(r"""\b(?:resource_path|read_json_resource)\(\s*(?:f?)(["'])(?P<name>[^"']+)\1""")


def names_in_code() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for source in sorted((ROOT / "hrm_studio").rglob("*.py")):
        for match in NAMED.finditer(source.read_text(encoding="utf-8")):
            found.setdefault(match["name"], []).append(str(source.relative_to(ROOT)))
    return found


def test_every_resource_the_code_names_exists():
    named = names_in_code()
    assert "palettes.json" in named, "the search for resource names found nothing: is the pattern stale?"
    named.update({ICON_SVG: ["hrm_studio/gui/shell/app_icon.py"]})
    named.update({icon_png(size): ["hrm_studio/gui/shell/app_icon.py"] for size in ICON_SIZES})
    missing = [f"resources/{name} (named in {', '.join(where)})" for name, where in named.items()
               if "{" in name or not (ROOT / "resources" / name).is_file()]
    assert missing == []


def setuptools_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def resource_package(folder: Path) -> str:
    """The package a folder of resources/ installs as (pyproject.toml's package-dir)."""
    return ".".join(("hrm_studio", "resources", *folder.relative_to(ROOT / "resources").parts))


def folders(top: Path) -> list[Path]:
    return [top, *(path for path in top.rglob("*") if path.is_dir() and "__pycache__" not in path.parts)]


def test_every_package_folder_is_listed_for_a_pip_install():
    config = setuptools_config()
    assert config["package-dir"] == {"hrm_studio.resources": "resources"}
    code = {".".join(folder.relative_to(ROOT).parts) for folder in folders(ROOT / "hrm_studio")
            if any(folder.glob("*.py"))}
    data = {resource_package(folder) for folder in folders(ROOT / "resources")}
    listed = set(config["packages"])
    assert (sorted((code | data) - listed), sorted(listed - (code | data))) == ([], []), \
        "[tool.setuptools] packages in pyproject.toml: (add these, remove these)"


def test_every_resource_file_is_listed_for_a_pip_install():
    package_data = setuptools_config()["package-data"]
    unlisted = [str(path.relative_to(ROOT)) for path in sorted((ROOT / "resources").rglob("*"))
                if path.is_file() and path.suffix not in (".py", ".pyc")
                and not any(fnmatch.fnmatch(path.name, pattern)
                            for pattern in package_data.get(resource_package(path.parent), []))]
    assert unlisted == [], "add these to [tool.setuptools.package-data] in pyproject.toml"


# Draws a 2×2 colour grid through the installed package and says where everything came from.
RENDER_PROBE = """
import numpy as np
import hrm_studio
from hrm_studio.data.grid import COLOUR_VOCAB_LABELS
from hrm_studio.render.grid_geometry import grid_geometry
from hrm_studio.render.grid_image import draw_grid
from hrm_studio.render.grid_style import GridStyle
from hrm_studio.resource_files import resource_path, resources_dir
tokens = np.array([2, 3, 4, 5])  # colours 0, 1, 2, 3
style = GridStyle.for_task({"display": "colour", "vocab_labels": list(COLOUR_VOCAB_LABELS)})
image = draw_grid(tokens, grid_geometry((2, 2), tokens, tokens, frame=False), style, 8)
print(hrm_studio.__version__, hrm_studio.__file__, resources_dir(), resource_path("icon/hrm-studio-48.png"))
print(*image.getpixel((12, 4)))
"""


def test_pip_install_target_renders_a_grid_with_the_packaged_palettes(tmp_path):
    """`pip install --target DIR .`, then draw a grid from DIR, outside the checkout (5–10 s: a wheel build)."""
    source = tmp_path / "src"
    shutil.copytree(ROOT / "hrm_studio", source / "hrm_studio", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "resources", source / "resources", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    target = tmp_path / "target"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "install", "--no-deps"]
    installed = subprocess.run([*pip, "--no-build-isolation", "--no-compile", "--target", str(target), str(source)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    assert not {"resources", "share"} & {p.name for p in target.iterdir()}, "resources go inside the package"
    done = subprocess.run([sys.executable, "-c", RENDER_PROBE], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(target)})
    assert done.returncode == 0, done.stderr
    version, module, folder, icon, *pixel = done.stdout.split()
    assert version == project_version()
    assert Path(module) == target / "hrm_studio" / "__init__.py"
    assert Path(folder) == target / "hrm_studio" / "resources" and Path(icon).is_file()
    palettes = json.loads((ROOT / "resources" / "palettes.json").read_text(encoding="utf-8"))
    assert tuple(map(int, pixel)) == hex_to_rgb(palettes["colour"]["1"])


def test_resources_are_found_in_a_pyinstaller_bundle_and_in_an_uninstalled_checkout(tmp_path, monkeypatch):
    def not_installed(package: str):
        raise ModuleNotFoundError(package)

    monkeypatch.setattr(resource_files.resources, "files", not_installed)
    assert resource_files.resources_dir() == ROOT / "resources"
    bundled = tmp_path / "hrm_studio" / "resources"
    bundled.mkdir(parents=True)
    (bundled / "palettes.json").write_text("{}")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_files.resource_path("palettes.json") == bundled / "palettes.json"


def test_one_version_string():
    assert __version__ == project_version()
    done = subprocess.run([sys.executable, "-m", "hrm_studio", "--version"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.strip() == f"hrm-studio {project_version()}", done.stderr
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    # The newest released section names this version; an [Unreleased] section may sit above it.
    released = [v for v in re.findall(r"^## \[(.+?)\]", changelog, re.M) if v != "Unreleased"]
    assert released and released[0] == project_version(), released


def test_licence_file_matches_the_metadata():
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License") and "2026 HRM Studio contributors" in licence
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "MIT"


def test_the_packaged_build_is_its_own_target():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    test_recipe = re.search(r"^test:.*?(?=^\S)", makefile, re.M | re.S)
    assert test_recipe and "package" not in test_recipe[0] and "PyInstaller" not in test_recipe[0]
    dry = subprocess.run(["make", "-n", "--no-print-directory", "package"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    assert "PyInstaller" in dry.stdout and "packaging/pyinstaller/hrm-studio.spec" in dry.stdout
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "dist/" in ignored and "build/" in ignored


def test_the_spec_keeps_resources_and_drops_only_unused_torch_parts():
    spec = (ROOT / "packaging/pyinstaller/hrm-studio.spec").read_text(encoding="utf-8")
    compile(spec, "hrm-studio.spec", "exec")
    assert '"hrm_studio", "resources"' in spec and '"hrm_studio.resources"' in spec  # where importlib looks
    assert 'copy_metadata("hrm-studio")' in spec
    entry = ROOT / "packaging/pyinstaller/hrm_studio_entry.py"
    assert "from hrm_studio.cli import main" in entry.read_text(encoding="utf-8")
    # Modules torch imports while it loads must never be excluded.
    excluded = re.search(r"EXCLUDED_MODULES = \[(.*?)\]", spec, re.S)[1]  # type: ignore[index]
    needed_modules = ("torch._dynamo", "torch.distributed", "torch.testing", "sympy", "numpy", "PySide6.QtSvg",
                      "tensorboard")  # every run writes TensorBoard event files through it
    for needed in needed_modules:
        assert f'"{needed}"' not in excluded, needed
