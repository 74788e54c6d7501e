"""Write files so that a crash leaves either the old file or the new one, never half of one.

The recipe: write a temp file in the same folder, flush and fsync it, `os.replace` it over
the target, then fsync the folder so the rename itself survives a power cut. A process
killed at any instant therefore leaves the previous complete file in place (plus, at
worst, a stray `.<name>.*.tmp` that `RunDir.remove_temp_files` cleans up later).

The file gets the permissions `open()` would give it: an existing file keeps its mode, a new
one gets 0666 less the umask (mkstemp alone would make every file 0600, unreadable to a
teammate or a web server).

`HRM_STUDIO_TEST_WRITE_DELAY` (seconds) is a test hook only: the crash tests set it in a
child process so that a kill lands inside a write often enough to matter. It is read on
every call, so nothing is cached at import time.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import IO, Any, Callable

TEST_DELAY_ENV = "HRM_STUDIO_TEST_WRITE_DELAY"
TEMP_SUFFIX = ".tmp"


def _test_delay() -> float:
    try:
        return max(0.0, float(os.environ.get(TEST_DELAY_ENV, "0") or 0))
    except ValueError:
        return 0.0


class _SlowHandle:
    """Wraps a file so the first write is followed by a pause (test hook, see module doc)."""

    def __init__(self, handle: IO[bytes], delay: float) -> None:
        self._handle, self._delay, self._paused = handle, delay, False

    def write(self, data: Any) -> int:
        written = self._handle.write(data)
        if not self._paused:
            self._paused = True
            self._handle.flush()
            time.sleep(self._delay)
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


def fsync_dir(folder: str | Path) -> None:
    """Make a rename in `folder` durable. Not possible on every platform (Windows): skipped there."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(folder, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def process_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux: /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (a moment's window for other threads)
    os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    """What `open(path, "w")` would leave: the existing file's mode, else 0666 less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~process_umask()


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call `write(fileobj)` on a temp file in the same folder, fsync it, then rename over `path`.

    The temp file lives beside the target so `os.replace` is a same-filesystem rename. On
    any failure (a full disk, say) the temp file is removed and `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    delay = _test_delay()
    mode = _mode_for(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            write(_SlowHandle(handle, delay) if delay else handle)  # type: ignore[arg-type]
            handle.flush()
            os.fsync(handle.fileno())
        if delay:
            time.sleep(delay)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))
