"""Puzzle data for HRM Studio: numpy in, numpy out (no torch, no Qt).

``make_task`` generates a built-in task from ``TaskOptions``; ``read_dataset`` and
``write_dataset`` speak the official HRM dataset folder layout.
"""

from hrm_studio.data.hrm_format import read_dataset, write_dataset
from hrm_studio.data.puzzle_set import PuzzleSet
from hrm_studio.data.task_data import TaskData, TaskInfo
from hrm_studio.data.task_options import TaskOptions
from hrm_studio.data.tasks import TASKS, make_task

__all__ = [
    "TASKS",
    "PuzzleSet",
    "TaskData",
    "TaskInfo",
    "TaskOptions",
    "make_task",
    "read_dataset",
    "write_dataset",
]
