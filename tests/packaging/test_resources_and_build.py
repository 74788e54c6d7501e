"""Resources the code names exist and ship in every kind of install; one version string;
the packaged build's recipe is in place but stays out of `make test`."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from hrm_studio import __version__
from hrm_studio.gui.shell.app_icon import ICON_SIZES, ICON_SVG, icon_png

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


def data_files_patterns() -> dict[str, list[str]]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return pyproject["tool"]["setuptools"]["data-files"]


def test_every_resource_file_is_listed_for_a_pip_install():
    patterns = [pattern for group in data_files_patterns().values() for pattern in group]
    unlisted = [str(path.relative_to(ROOT)) for path in sorted((ROOT / "resources").rglob("*"))
                if path.is_file() and not any(fnmatch.fnmatch(str(path.relative_to(ROOT)), p) and
                                              Path(p).parent == path.relative_to(ROOT).parent for p in patterns)]
    assert unlisted == [], "add these to [tool.setuptools.data-files] in pyproject.toml"
    for target, group in data_files_patterns().items():
        for pattern in group:
            assert target == "share/hrm-studio/" + str(Path(pattern).parent), (target, pattern)


def test_a_wheel_install_finds_its_resources(tmp_path):
    """Build a wheel from a copy of the project, install it into a bare venv, and look."""
    source = tmp_path / "src"
    shutil.copytree(ROOT / "hrm_studio", source / "hrm_studio", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "resources", source / "resources")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    built = subprocess.run([*pip, "wheel", str(source), "--no-deps", "--no-build-isolation", "-w",
                            str(tmp_path / "wheel")], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    wheel = next((tmp_path / "wheel").glob("hrm_studio-*.whl"))
    installed = subprocess.run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr
    probe = ("from hrm_studio import __version__; from hrm_studio.resource_files import resource_path;"
             "print(__version__); print(resource_path('palettes.json')); print(resource_path('icon/hrm-studio-48.png'))")
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    version, palettes, icon = done.stdout.split()
    assert version == project_version()
    assert Path(palettes) == venv / "share/hrm-studio/resources/palettes.json"
    assert Path(icon).is_file()


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
    assert '"resources"' in spec and 'copy_metadata("hrm-studio")' in spec
    entry = ROOT / "packaging/pyinstaller/hrm_studio_entry.py"
    assert "from hrm_studio.cli import main" in entry.read_text(encoding="utf-8")
    # Modules torch imports while it loads must never be excluded.
    excluded = re.search(r"EXCLUDED_MODULES = \[(.*?)\]", spec, re.S)[1]  # type: ignore[index]
    for needed in ("torch._dynamo", "torch.distributed", "torch.testing", "sympy", "numpy", "PySide6.QtSvg"):
        assert f'"{needed}"' not in excluded, needed
