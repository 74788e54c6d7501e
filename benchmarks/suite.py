"""Benchmark of the test suite's wall time (issue 21: `make test` ≤ 6 min on this machine while the suite grows).

Runs exactly what `make test` runs after its setup — ``QT_QPA_PLATFORM=offscreen python -m pytest -q -n 2``
in the repository root, with this interpreter — in a subprocess, and reports its wall seconds. The
figure is met only when the suite also passed: a fast suite that fails is not the suite. The cores
this process may use and the 1-minute load average at the start go into the figure's config, since
the wall time of a 2-process suite depends on both (another job on the same cores doubles it).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

from benchmarks.core import Figure, figure

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 360.0
PROCESSES = 2          # as the Makefile's TEST_PROCESSES
TIMEOUT_S = 3600.0
NAME = "make test: test-suite wall time"
TARGET = f"≤ {TARGET_S:g} s (issue 21)"

# "1162 passed, 23 skipped, 2 warnings in 452.29s (0:07:32)"; with -q pytest prints no "=" rulers.
_COUNT = re.compile(r"(\d+) (passed|failed|skipped|xfailed|xpassed|deselected|errors?|warnings?)\b")
_PLURAL = {"error": "errors", "warning": "warnings"}


def summary_counts(output: str) -> dict[str, int]:
    """Outcome → count from pytest's final summary line ({} when there is none, e.g. pytest crashed);
    'error'/'warning' are counted under 'errors'/'warnings'."""
    for line in reversed(output.splitlines()):
        if re.search(r"\bin \d+(\.\d+)?s\b", line) and _COUNT.search(line):
            counts: dict[str, int] = {}
            for number, outcome in _COUNT.findall(line):
                key = _PLURAL.get(outcome, outcome)
                counts[key] = counts.get(key, 0) + int(number)
            return counts
    return {}


def outcome_total(counts: dict[str, int]) -> int:
    """Tests that ran to an outcome (warnings and deselected ones are not tests run)."""
    return sum(counts.get(k, 0) for k in ("passed", "failed", "skipped", "xfailed", "xpassed", "errors"))


def suite_passed(returncode: int, counts: dict[str, int]) -> bool:
    return returncode == 0 and counts.get("passed", 0) > 0 and not counts.get("failed") and not counts.get("errors")


def _missing_tools() -> str:
    """Why the suite cannot run with this interpreter, or ''."""
    missing = [name for name in ("pytest", "xdist", "pytestqt") if importlib.util.find_spec(name) is None]
    return f"{', '.join(missing)} not installed: `make test` installs the test tools" if missing else ""


def suite_figures() -> Iterator[Figure]:
    """One figure: the whole suite's wall seconds against issue 21's target."""
    from hrm_studio.training.threads import available_cores

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    machine = f"{available_cores()} cores, 1-min load {load:.2f} at start" if load is not None \
        else f"{available_cores()} cores"
    missing = _missing_tools()
    if missing:
        yield figure(NAME, None, "s", TARGET, False, f"not run: {missing}; {machine}")
        return
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", str(PROCESSES)], cwd=ROOT,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}, capture_output=True, text=True,
                          timeout=TIMEOUT_S)
    seconds = time.perf_counter() - started
    counts = summary_counts(done.stdout)
    passed = suite_passed(done.returncode, counts)
    cfg = (f"`pytest -q -n {PROCESSES}` as `make test` runs it: {outcome_total(counts)} tests, "
           f"{counts.get('passed', 0)} passed, {counts.get('failed', 0) + counts.get('errors', 0)} failed "
           f"or errors, {counts.get('skipped', 0)} skipped (exit status {done.returncode}); {machine}")
    yield figure(NAME, seconds, "s", TARGET, passed and seconds <= TARGET_S, cfg)
