"""Test-wide setup: headless Qt, few threads, and a tiny run configuration."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any, Iterator

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

try:
    import fcntl
except ImportError:  # Windows: no lock, a worker may compile the kernel a second time
    fcntl = None  # type: ignore[assignment]


def _one_core_per_worker() -> None:
    """Under pytest-xdist, pin each worker (and the processes it starts) to a core of its own.

    A run's default "all cores" then means that one core (training/threads.available_cores), so
    two workers never put four OpenMP threads on two cores, which made a default-settings test
    several times slower than the same test alone.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or not hasattr(os, "sched_setaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) > 1:
        os.sched_setaffinity(0, {cores[int(worker[2:]) % len(cores)]})


_one_core_per_worker()


@pytest.fixture(scope="session")
def _session_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One cache folder for the whole test run, shared by the pytest-xdist workers (their temp
    folders have one parent per run): the attention kernel is compiled once per test run."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
        shared = base.parent / "xdg-cache"
        shared.mkdir(exist_ok=True)
        return str(shared)
    return str(tmp_path_factory.mktemp("xdg-cache"))


@contextlib.contextmanager
def _one_process_at_a_time(folder: Path) -> Iterator[None]:
    """Workers wanting the kernel wait for the one compiling it (10-30 s) instead of compiling too."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".test-build.lock", "a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def built_kernel(_session_cache_dir: str) -> Any:
    """The real attention kernel (a KernelLibrary), compiled once per test run into the shared
    cache folder, the one `kernels.build.load()` uses under these tests' XDG_CACHE_HOME."""
    from hrm_studio.kernels.build import build

    cache = Path(_session_cache_dir) / "hrm-studio" / "kernels"
    with _one_process_at_a_time(cache):
        return build(cache)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                        _session_cache_dir: str) -> None:
    """Runs without --out must not land in the real user's data, config or cache folders."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", _session_cache_dir)


TINY_SETTINGS = {
    "data": {"task": "copy-increment", "train_size": 48, "test_size": 12, "grid_size": 3},
    "model": {"hidden_size": 32, "num_heads": 2, "expansion": 2.0, "puzzle_emb_ndim": 32,
              "halt_max_steps": 2},
    "train": {"epochs": 2, "batch_size": 16, "num_threads": 1, "seed": 3, "stop_at_exact": 0.0},
}


@pytest.fixture
def tiny_config():
    from hrm_studio.config import RunConfig

    return RunConfig.from_dict(TINY_SETTINGS)
