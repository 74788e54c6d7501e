"""Is a data set an ARC build? Read from its puzzle names and its folder, never from its name.

The window shows ARC tasks (demonstrations, ranked candidates) instead of bare augmented
puzzles when the data set is one: built by HRM Studio (``arc_tasks.json`` beside it) or by the
official builder (every puzzle named by a task id or ``{task}_t{k}_{p0…p9}``, 30×30 canvas).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hrm_studio.data.arc.augment import parse_puzzle_name
from hrm_studio.data.arc.build import ARC_TASKS_FILE, SEQ_LEN, VOCAB_SIZE
from hrm_studio.errors import DatasetError


def has_arc_shape(task: Mapping[str, Any]) -> bool:
    """A TaskInfo dict with ARC's canvas and vocabulary (cheap: the window asks it on every set)."""
    return task.get("seq_len") == SEQ_LEN and task.get("vocab_size") == VOCAB_SIZE


def has_arc_tasks(dataset_dir: str | Path | None) -> bool:
    """The folder holds the build's original tasks (HRM Studio's build): demonstrations can be shown."""
    return bool(dataset_dir) and (Path(str(dataset_dir)) / ARC_TASKS_FILE).is_file()


def _augmentations(identifier_names: Sequence[str]) -> list[Any] | None:
    """Each puzzle name's augmentation (after ``<blank>``), or None when one is not an ARC name."""
    try:
        return [parse_puzzle_name(name)[1] for name in identifier_names[1:]]
    except DatasetError:
        return None


def all_arc_names(identifier_names: Sequence[str]) -> bool:
    """Every puzzle name (after ``<blank>``) is an ARC task id or augmentation name."""
    return _augmentations(identifier_names) is not None


def is_arc_names(identifier_names: Sequence[str]) -> bool:
    """Every puzzle name is an ARC name and at least one is augmented: the puzzles of an ARC build,
    whoever built it."""
    augmentations = _augmentations(identifier_names)
    return augmentations is not None and any(not aug.is_identity for aug in augmentations)


def is_arc_build(task: Mapping[str, Any], dataset_dir: str | Path | None = None) -> bool:
    """ARC canvas and vocabulary, and either the build's ``arc_tasks.json`` or ARC puzzle names."""
    if not has_arc_shape(task):
        return False
    return has_arc_tasks(dataset_dir) or is_arc_names(task.get("identifier_names") or [])
