"""Packaging checks need two validators from the distribution: desktop-file-validate
(Debian package desktop-file-utils) and appstreamcli (appstream). The fixtures install
them with apt-get when they are missing, and skip, saying why, only when that fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "io.github.hrmstudio.HRMStudio"
DESKTOP_FILE = ROOT / "packaging" / "linux" / f"{APP_ID}.desktop"
METAINFO_FILE = ROOT / "packaging" / "linux" / f"{APP_ID}.metainfo.xml"


def project_version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def _apt_get(prefix: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, "apt-get", *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def ensure_command(command: str, package: str) -> str:
    """The path of `command`, installing Debian's `package` first when it is missing."""
    found = shutil.which(command)
    if found:
        return found
    if shutil.which("apt-get") is None:
        pytest.skip(f"{command} is missing and this system has no apt-get to install '{package}'")
    if os.geteuid() == 0:
        prefix: list[str] = []
    elif shutil.which("sudo"):
        prefix = ["sudo", "-n"]
    else:
        pytest.skip(f"{command} is missing and installing '{package}' needs root (no sudo here)")
    done = _apt_get(prefix, "install", "-y", "-qq", package)
    if done.returncode != 0:  # an empty or stale package list: refresh it once and retry
        _apt_get(prefix, "update", "-qq")
        done = _apt_get(prefix, "install", "-y", "-qq", package)
    found = shutil.which(command)
    if not found:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        pytest.skip(f"{command} is missing and 'apt-get install {package}' failed: {reason}")
    return found


@pytest.fixture(scope="session")
def desktop_file_validate() -> str:
    return ensure_command("desktop-file-validate", "desktop-file-utils")


@pytest.fixture(scope="session")
def appstreamcli() -> str:
    return ensure_command("appstreamcli", "appstream")


def problems(output: str, prefixes: tuple[str, ...]) -> list[str]:
    """The validator's lines that are errors or warnings (hints and infos are advice)."""
    return [line for line in output.splitlines() if line.strip().startswith(prefixes)]


@pytest.fixture
def run_make(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`make TARGET VAR=value …` in the repository, failing the test with its output."""
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done
    return run
