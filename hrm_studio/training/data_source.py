"""Where a run's puzzles come from: a generated task or an official dataset folder.

`load_data` checks memory before it generates anything: a generated task's shape follows
from its settings alone, so a run that cannot fit is refused before a single puzzle (or
tensor) is made. A dataset folder is read first (its size is bounded by the files on
disk), then checked the same way before the model is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hrm_studio.config import RunConfig, parse_pattern_mix
from hrm_studio.costs import check_memory
from hrm_studio.data import TASKS, TaskData, TaskOptions, make_task, read_dataset
from hrm_studio.errors import DatasetError


@dataclass(frozen=True)
class DataShape:
    """What the cost estimates (hrm_studio.costs) need to know about the puzzles."""

    seq_len: int
    vocab_size: int
    num_puzzle_identifiers: int
    train_size: int
    test_size: int


def task_options(config: RunConfig) -> TaskOptions:
    d = config.data
    return TaskOptions(
        task=d.task, train_size=d.train_size, test_size=d.test_size, grid_size=d.grid_size,
        encoding=d.encoding, canvas_size=d.canvas_size, shared_identifier=d.shared_identifier,
        pattern_mix=parse_pattern_mix(d.pattern_mix) or None, label_noise=d.label_noise,
        blanks=d.blanks, seed=config.train.seed,
    )


def generated_shape(config: RunConfig) -> DataShape:
    """The shape of a generated task, from its settings alone (nothing is generated)."""
    from hrm_studio.data.grid import encoded_shape
    from hrm_studio.data.tasks.build import resolve_options

    options = task_options(config)
    spec = TASKS[options.task]
    resolved = resolve_options(spec, options)  # ConfigError naming the field, as make_task would
    rows, cols = encoded_shape((resolved.grid_size, resolved.grid_size), options.encoding,
                               options.canvas_size, spec.eos)
    ids = 2 if options.shared_identifier else 1 + len(spec.pattern_names)
    return DataShape(rows * cols, spec.vocab_size, ids, options.train_size, options.test_size)


def shape_of(data: TaskData) -> DataShape:
    info = data.info
    return DataShape(info.seq_len, info.vocab_size, info.num_puzzle_identifiers, len(data.train), len(data.test))


def load_data(config: RunConfig, *, check: bool = False) -> TaskData:
    """Generate the task (deterministic in the run's seed) or read the dataset folder.

    With `check`, refuse (ConfigError) a run that would not fit in memory, and a dataset
    folder without training or held-out puzzles (DatasetError), before anything big exists.
    """
    if config.data.dataset_dir:
        folder = Path(config.data.dataset_dir).expanduser()
        _prepare_preset_folder(folder)
        data = read_dataset(folder)
        if check:
            if len(data.train) == 0:
                raise DatasetError(f"The dataset folder {folder} has no training puzzles; its train/ split "
                                   f"is empty. Choose a folder with puzzles in train/.")
            if len(data.test) == 0:
                raise DatasetError(f"The dataset folder {folder} has no held-out puzzles; its test/ split is "
                                   f"empty. Add puzzles to test/ so the run can be scored.")
            check_memory(config, shape_of(data))
        return data
    if check:
        check_memory(config, generated_shape(config))
    return make_task(task_options(config))


def _prepare_preset_folder(folder: Path) -> None:
    """A preset's ARC data set (presets.PRESET_ARC_DATA) is built on first use; other folders are read as they are."""
    from hrm_studio.data.arc.prepared import prepare_if_named
    from hrm_studio.presets import preset_arc_specs

    prepare_if_named(folder, preset_arc_specs())
