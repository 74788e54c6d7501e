"""Where a run's puzzles come from: a generated task or an official dataset folder."""

from __future__ import annotations

from pathlib import Path

from hrm_studio.config import RunConfig, parse_pattern_mix
from hrm_studio.data import TaskData, TaskOptions, make_task, read_dataset


def task_options(config: RunConfig) -> TaskOptions:
    d = config.data
    return TaskOptions(
        task=d.task, train_size=d.train_size, test_size=d.test_size, grid_size=d.grid_size,
        encoding=d.encoding, canvas_size=d.canvas_size, shared_identifier=d.shared_identifier,
        pattern_mix=parse_pattern_mix(d.pattern_mix) or None, label_noise=d.label_noise,
        blanks=d.blanks, seed=config.train.seed,
    )


def load_data(config: RunConfig) -> TaskData:
    """Generate the task (deterministic in the run's seed) or read the dataset folder."""
    if config.data.dataset_dir:
        return read_dataset(Path(config.data.dataset_dir).expanduser())
    return make_task(task_options(config))
