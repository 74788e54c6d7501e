"""Moving an old run or sweep out of the way instead of deleting it (`--overwrite`).

Why never delete: a run folder is hours of training, and "overwrite" typed by habit must be
undoable. The old folder is renamed beside itself to `<name>.old-N` (the first free N): a
rename in the same folder is instant, keeps every file byte for byte, and stays on the same
disk. No torch, no Qt.
"""

from __future__ import annotations

import errno
import itertools
import os
from pathlib import Path

from hrm_studio.runstore.keys import RunState
from hrm_studio.runstore.run_dir import RunDir, RunFolderError

OLD_SUFFIX = ".old-"


def aside_path(path: str | Path, n: int) -> Path:
    """`<path>.old-<n>`, beside `path`."""
    path = Path(os.path.abspath(path))
    return path.with_name(f"{path.name}{OLD_SUFFIX}{n}")


def live_run_in(folder: Path) -> Path | None:
    """A run that a live process is writing: `folder` itself or a run folder directly in it (a sweep's)."""
    try:
        inside = [p for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
    except OSError:
        inside = []
    for candidate in (folder, *inside):
        run = RunDir(candidate)
        if run.status_path.is_file() and run.state() == RunState.RUNNING:
            return candidate
    return None


def move_aside(path: str | Path) -> Path:
    """Rename `path` (a folder or a file) to the first free `<name>.old-N` beside it; return where it went.

    Refused while a live process writes a run in it: its writer would only write the folder back.

    Names that exist are skipped, so nothing is replaced; one another process takes between the
    check and the rename is skipped too where the rename says so (a folder that is not empty).
    """
    source = Path(os.path.abspath(path))
    live = live_run_in(source)
    if live is not None:
        raise RunFolderError(f"{live} is being written by another HRM Studio process right now; stop that run "
                             f"first, or choose another folder.")
    for n in itertools.count(1):
        target = aside_path(source, n)
        if target.exists() or target.is_symlink():
            continue
        try:
            os.rename(source, target)
        except OSError as exc:
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                continue
            raise RunFolderError(f"Could not move {source} aside to {target.name}: {exc.strerror or exc}. "
                                 f"Nothing was changed; move or rename it yourself, or choose another folder.") from None
        return target
    raise AssertionError("unreachable: the candidates never end")
