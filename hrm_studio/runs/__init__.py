"""Runs on disk, without Qt or torch: list them, tell their state, find the ones to resume.

    from hrm_studio.runs import list_runs, find_unfinished, read_run
"""

from hrm_studio.runs.discovery import RunInfo, find_unfinished, list_runs, read_run

__all__ = ["RunInfo", "find_unfinished", "list_runs", "read_run"]
