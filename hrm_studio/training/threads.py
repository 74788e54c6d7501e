"""How many CPU threads torch trains with: set on the thread that trains, read for the About box.

Why here: front ends must not import torch themselves (the window has to appear before
torch is loaded), so they call these instead.
"""

from __future__ import annotations

import os

from hrm_studio.config import RunConfig


def available_cores() -> int:
    """The cores this process may run on: fewer than the machine's under taskset, a container's
    cpuset or a test worker pinned to one core, where one thread per machine core would make
    OpenMP threads queue for the same cores (measured 3-30x slower on a busy 2-core machine)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):   # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def thread_count(config: RunConfig) -> int:
    """The threads a run asks for; 0 means every core this process may use, as in the CLI."""
    return config.train.num_threads or available_cores()


def use_threads(config: RunConfig) -> int:
    """Make torch train `config` with its thread count (call it on the training thread:
    OpenMP's setting belongs to the thread that trains); returns the count."""
    import torch

    count = thread_count(config)
    torch.set_num_threads(count)
    return count


def training_thread_count() -> int | None:
    """The threads torch trains with now; None without torch. Imports torch if nothing has yet."""
    try:
        import torch
    except ImportError:
        return None
    return int(torch.get_num_threads())
