"""`make run` / `make test` set up .venv: refuse a too-old Python with what to do, rebuild a
.venv made by a wrong or missing Python, and install only what each command needs.

Every test points VENV at a temporary folder, so the checkout's .venv is never touched, and
no test runs pip: installs are checked with `make -n`, which prints the recipes it would run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT


# The system's folders only: looking for a newer python3.X through pyenv's shims takes seconds.
SYSTEM_PATH = os.pathsep.join(["/usr/local/bin", "/usr/bin", "/bin"])


def make(*args: str, path: str = SYSTEM_PATH) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHON", "VENV", "MAKEFLAGS")}
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args], capture_output=True,
                          text=True, timeout=60, env={**env, "PATH": path})


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def fake_python(folder: Path, minor: int) -> Path:
    """`folder`/python3: the test's own interpreter reporting itself as Python 3.`minor`."""
    site = folder / "site"
    site.mkdir(parents=True)
    (site / "sitecustomize.py").write_text(f'import sys; sys.version_info = (3, {minor}, 1, "final", 0)\n')
    return script(folder / "python3", f'PYTHONPATH={site} exec "{sys.executable}" "$@"')


@pytest.fixture
def python39(tmp_path: Path) -> Path:
    return fake_python(tmp_path / "python39", 9)


@pytest.fixture
def quick_python(tmp_path: Path) -> Path:
    """The test's interpreter, making venvs without pip (0.1 s instead of 8 s)."""
    quick_venv = f'shift 2; exec "{sys.executable}" -m venv --without-pip "$@"'
    return script(tmp_path / "python-quick",
                  f'if [ "$1" = -m ] && [ "$2" = venv ]; then {quick_venv}; fi\nexec "{sys.executable}" "$@"')


def stamp(path: Path) -> None:
    """An install stamp newer than pyproject.toml, as an install leaves it."""
    after_pyproject = (ROOT / "pyproject.toml").stat().st_mtime + 10
    path.touch()
    os.utime(path, (after_pyproject, after_pyproject))


def venv_with_python(folder: Path, python: Path | None) -> Path:
    """A stand-in .venv whose bin/python links to `python` (None: to nothing), with stamps and a marker."""
    (folder / "bin").mkdir(parents=True)
    (folder / "bin" / "python").symlink_to(python if python else folder / "gone" / "python3.9")
    for name in (".installed-run", ".installed-test", "marker"):
        stamp(folder / name)
    return folder


def pip_installs(output: str, venv: Path) -> list[str]:
    return [line.split(" -e ", 1)[1] for line in output.splitlines()
            if line.startswith(f"{venv}/bin/python -m pip install") and " -e " in line]


@pytest.mark.parametrize("python", ["old", "missing"])
def test_a_python_older_than_3_11_or_missing_is_refused_with_what_to_do(tmp_path, python39, python):
    fake = python39 if python == "old" else tmp_path / "no-such-python"
    checked = make("check-python", f"PYTHON={fake}")
    assert checked.returncode != 0
    said = checked.stderr.splitlines()
    assert said[0] == (f"HRM Studio needs Python 3.11 or newer; '{fake}' "
                       + ("is Python 3.9." if python == "old" else "was not found or does not run.")), said
    assert "make check-python PYTHON=python3." in said[1], said
    venv = tmp_path / "venv"
    ran = make("run", f"PYTHON={fake}", f"VENV={venv}")
    assert ran.returncode != 0 and "make run PYTHON=python3." in ran.stderr
    assert not venv.exists() and "pip" not in ran.stdout


@pytest.mark.parametrize("made_by", ["python 3.9", "a python since removed", "python 3.12, 3.11 asked"])
def test_a_venv_made_by_a_wrong_python_is_rebuilt(tmp_path, python39, quick_python, made_by):
    made_with = {"python 3.9": python39, "a python since removed": None,
                 "python 3.12, 3.11 asked": fake_python(tmp_path / "python312", 12)}[made_by]
    venv = venv_with_python(tmp_path / "venv", made_with)
    planned = make("-n", "run", f"VENV={venv}", f"PYTHON={quick_python}")
    assert pip_installs(planned.stdout, venv) == ["."], "stamps of a stale .venv must not count"
    rebuilt = make("venv", f"VENV={venv}", f"PYTHON={quick_python}")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilding it" in rebuilt.stdout and not (venv / "marker").exists()
    version = subprocess.run([venv / "bin" / "python", "-c", "import sys; print(sys.version_info >= (3, 11))"],
                             capture_output=True, text=True, timeout=60)
    assert version.stdout.strip() == "True", version.stderr


def test_a_working_venv_is_kept_whatever_python3_is(tmp_path, python39):
    venv = venv_with_python(tmp_path / "venv", Path(sys.executable))
    kept = make("venv", f"VENV={venv}", path=os.pathsep.join([str(python39.parent), SYSTEM_PATH]))
    assert kept.returncode == 0, kept.stderr
    assert (venv / "marker").exists() and kept.stdout == ""
    assert make("check-python", path=os.pathsep.join([str(python39.parent), SYSTEM_PATH])).returncode != 0


def test_make_run_installs_only_what_running_needs_and_make_test_adds_the_test_tools(tmp_path):
    venv = venv_with_python(tmp_path / "venv", Path(sys.executable))
    for name in (".installed-run", ".installed-test"):
        (venv / name).unlink()

    def plan(target: str) -> list[str]:
        planned = make("-n", target, f"VENV={venv}")
        assert planned.returncode == 0, planned.stderr
        return pip_installs(planned.stdout, venv)

    assert (plan("run"), plan("test")) == (["."], ["'.[test]'"])  # a fresh .venv
    stamp(venv / ".installed-run")
    assert (plan("run"), plan("test")) == ([], ["'.[test]'"])  # after `make run`: test adds its extras
    stamp(venv / ".installed-test")
    assert (plan("run"), plan("test")) == ([], [])  # after `make test`: nothing to install
    test_recipe = make("-n", "--always-make", "setup-test", f"VENV={venv}").stdout
    assert f"touch {venv}/.installed-run {venv}/.installed-test" in test_recipe  # so `make run` after it skips
