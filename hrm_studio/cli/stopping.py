"""Ctrl-C during a long command: the first one stops the work cleanly, a second one aborts."""

from __future__ import annotations

import signal
import sys
from typing import Any, Callable, TypeVar

T = TypeVar("T")


def stoppable(run: Callable[[], T], stop: Callable[[], None], doing: str) -> tuple[T, bool]:
    """(`run()`, whether Ctrl-C stopped it): the first Ctrl-C calls `stop()` (the work ends
    cleanly and keeps what it has), a second one aborts as usual."""
    interrupted = False

    def on_sigint(signum: int, frame: Any) -> None:
        nonlocal interrupted
        interrupted = True
        print(f"\n{doing} (Ctrl-C again to abort)…", file=sys.stderr, flush=True)
        stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        return run(), interrupted
    finally:
        signal.signal(signal.SIGINT, previous)
