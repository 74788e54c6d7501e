"""The run library: every run under the runs folder and any added folder, and what can be done to one.

Why a cache: the Runs tab re-scans every few seconds so that runs a headless
`hrm-studio train` creates, grows or finishes show up without a click. A run whose small
files (config, status, epoch log) have the same size and modification time
as last time is not read again; a running one always is, because its writer can die
without touching a file.

Folders: a run folder is one with a run config (`RunDir.holds_run`). The scan looks at the children of the
runs folder and of every added folder (an added folder may also be a run itself), and one
level into sweep folders (a folder with a sweep.json holding its runs).

Rename and move-to-trash refuse a running run (its writer still has files open there) and say
why in one sentence; they never touch a folder that is not a run folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from hrm_studio.costs import format_bytes
from hrm_studio.errors import UserError
from hrm_studio.runs.discovery import RunInfo, read_run, run_state
from hrm_studio.runstore.keys import RunState
from hrm_studio.runstore.run_dir import RunDir

Signature = tuple[tuple[int, int], ...]
BAD_NAME = re.compile(r'[/\\:*?"<>|\x00-\x1f]')


def is_run_folder(path: Path) -> bool:
    return RunDir.holds_run(path)


def _children(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.is_dir()]
    except OSError:
        return []


def candidate_folders(root: Path | None, extra: Iterable[Path] = ()) -> list[Path]:
    """Run folders under `root` and `extra` (each a run, or a folder of runs), without duplicates."""
    found: dict[Path, None] = {}

    def take_children(folder: Path) -> None:
        for child in _children(folder):
            if is_run_folder(child):
                found.setdefault(child.resolve(), None)
            elif (child / "sweep.json").is_file():
                for run in _children(child):
                    if is_run_folder(run):
                        found.setdefault(run.resolve(), None)

    if root is not None:
        take_children(Path(root))
    for path in extra:
        path = Path(path)
        if is_run_folder(path):
            found.setdefault(path.resolve(), None)
        elif path.is_dir():
            take_children(path)
    return list(found)


def signature(path: Path) -> Signature:
    """Sizes and modification times of the small files a RunInfo is made from."""
    run = RunDir(path)
    out = []
    for file in (run.config_path, run.status_path, run.metrics_path, run.history_path):
        try:
            stat = os.stat(file)
            out.append((stat.st_size, stat.st_mtime_ns))
        except OSError:
            out.append((-1, 0))
    return tuple(out)


@dataclass(frozen=True)
class LibraryScan:
    """The runs found, newest first, and the cache to hand to the next scan."""

    runs: list[RunInfo]
    cache: dict[Path, tuple[Signature, RunInfo]] = field(default_factory=dict)
    read: int = 0     # how many runs were read from disk (the rest came from the cache)


def scan_library(root: Path | None, extra: Iterable[Path] = (),
                 cache: dict[Path, tuple[Signature, RunInfo]] | None = None) -> LibraryScan:
    """Every run in the library. Pure: `cache` is read, never changed, so this may run on any thread."""
    cache = cache or {}
    new_cache: dict[Path, tuple[Signature, RunInfo]] = {}
    runs: list[RunInfo] = []
    read = 0
    for path in candidate_folders(root, extra):
        sig = signature(path)
        old = cache.get(path)
        if old is not None and old[0] == sig and old[1].status != RunState.RUNNING:
            info: RunInfo | None = old[1]
        else:
            info = read_run(path)
            read += 1
        if info is None:
            continue
        new_cache[path] = (sig, info)
        runs.append(info)
    runs.sort(key=lambda r: (r.created or r.modified, r.modified), reverse=True)
    return LibraryScan(runs, new_cache, read)


# ----- what can be done to a run ---------------------------------------------------------------
def check_name(name: str) -> str | None:
    """Why `name` cannot be a run folder's name; None when it can."""
    if not name.strip():
        return "A run needs a name: type one."
    if name != name.strip():
        return "A run name cannot start or end with a space."
    if name in (".", "..") or name.startswith("."):
        return "A run name cannot start with a dot (such folders are hidden)."
    if BAD_NAME.search(name):
        return "A run name cannot contain / \\ : * ? \" < > | or control characters."
    if len(name.encode("utf-8")) > 200:
        return "That name is too long: keep it under 200 characters."
    return None


def _require_run_not_running(path: Path, doing: str) -> None:
    if not is_run_folder(path):
        raise UserError(f"{path} is not an HRM Studio run folder (it has no run settings), so it was not {doing}.")
    if run_state(path) == RunState.RUNNING:
        raise UserError(f"{path.name} is still training, so it cannot be {doing}. Stop it first (or wait until "
                        f"it finishes), then try again.")


def rename_run(path: str | Path, new_name: str) -> Path:
    """Rename a run folder in place (same parent); returns the new path."""
    path = Path(path)
    problem = check_name(new_name)
    if problem:
        raise UserError(problem)
    if new_name == path.name:
        return path
    _require_run_not_running(path, "renamed")
    target = path.with_name(new_name)
    if target.exists():
        raise UserError(f"There is already a folder called {new_name} next to it: pick another name.")
    try:
        path.rename(target)
    except OSError as exc:
        raise UserError(f"Could not rename {path.name} to {new_name}: {exc.strerror or exc}.") from None
    return target


TrashMover = Callable[[Path], str | None]   # moves a folder to the trash: where it went, or None


def trash_run(path: str | Path, move_to_trash: TrashMover) -> str:
    """Move a run folder and everything in it to the system trash; returns where it went.

    The trash itself is the desktop's (the window passes Qt's `QFile.moveToTrash`), so this stays
    Qt-free. It never deletes: when the trash cannot take the folder, the folder stays and the
    UserError says so."""
    path = Path(path)
    _require_run_not_running(path, "moved to the trash")
    where = move_to_trash(path)
    if where is None:
        raise UserError(f"{path.name} could not be moved to the trash: this system has no trash that "
                        f"can take {path.parent} (a network or removable disk often has none). Nothing was "
                        f"deleted. To free the space, delete the folder yourself: {path}")
    return where


def folder_size(path: str | Path) -> int:
    """Bytes in every file under `path` (links are not followed)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
    return total


def deletion_question(paths: Iterable[str | Path]) -> str:
    """The confirmation question: which folders go to the trash, and how much each holds."""
    paths = [Path(p) for p in paths]
    listed = "\n".join(f"  {p} ({format_bytes(folder_size(p))})" for p in paths)
    what = f"the run {paths[0].name}" if len(paths) == 1 else f"these {len(paths)} runs"
    them = "it" if len(paths) == 1 else "them"
    return (f"Move {what} to the trash?\n\n{listed}\n\nEverything in {them} goes: settings, history, "
            f"checkpoints and predictions. You can restore {them} from the system trash.")
