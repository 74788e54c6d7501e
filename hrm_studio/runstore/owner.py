"""Which process is writing a run, and whether that process is still alive.

A running Trainer records `pid`, `host` and `pid_started` (the process's start time, where
the system tells it) in status.json. A reader can then tell a run that is still being
written from one whose process died without saying so (killed, power cut, crash): the
status says "running" but its process is gone. `pid_started` guards against the pid
having been reused by an unrelated process since. No torch, no Qt: the run browser uses it.
"""

from __future__ import annotations

import os
import socket
from typing import Any


def _start_ticks(pid: int) -> int | None:
    """Start time of `pid` in clock ticks since boot (Linux); None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = text[text.rfind(")") + 2:].split()
    try:
        return int(fields[19])  # field 22 overall
    except (IndexError, ValueError):
        return None


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except OSError:
        return False
    return text[text.rfind(")") + 2:][:1] in ("Z", "X")


def this_process() -> dict[str, Any]:
    """The fields a running Trainer writes into status.json."""
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "pid_started": _start_ticks(pid)}


def _pid_exists(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT on Windows
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return kernel32.GetLastError() == 5  # access denied: it exists
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OSError:
        return False
    return not _is_zombie(pid)


def writer_alive(status: dict[str, Any]) -> bool | None:
    """Is the process named in `status` still running? None when it cannot be told.

    It cannot be told for a run written on another host (a shared or synced folder) or by
    an older HRM Studio that did not record its pid.
    """
    pid = status.get("pid")
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return None
    host = status.get("host")
    if host and host != socket.gethostname():
        return None
    if not _pid_exists(pid):
        return False
    started = status.get("pid_started")
    if isinstance(started, int):
        now = _start_ticks(pid)
        if now is not None and now != started:
            return False  # the pid now belongs to another process
    return True


def is_this_process(status: dict[str, Any]) -> bool:
    return status.get("pid") == os.getpid() and status.get("host") in (None, socket.gethostname())
