"""Curriculum: the schedules per epoch, the settings' validation, and runs that follow them."""

from __future__ import annotations

import numpy as np
import pytest

from hrm_studio import validation
from hrm_studio.config import RunConfig
from hrm_studio.errors import ConfigError
from hrm_studio.training.curriculum import (DIFFICULTY_KEY, EXACT_KEY, CurriculumPlan, difficulty_at,
                                            level_options, make_level, plan_for, schedule)
from hrm_studio.training.trainer import Trainer, comparable


def _plan(mode: str, allowed=(2, 3, 4, 5, 6), epochs: int = 4, steps: int = 2, threshold: float = 0.5):
    return CurriculumPlan(mode=mode, knob="grid_size", allowed=tuple(allowed), epochs=epochs, steps=steps,
                          threshold=threshold)


# ----- schedules ---------------------------------------------------------------------------------

def test_linear_climbs_evenly_then_holds_the_target():
    assert schedule(_plan("linear", epochs=4), 7) == [2, 3, 4, 5, 6, 6, 6]
    assert schedule(_plan("linear", epochs=8), 10) == [2, 2, 3, 3, 4, 4, 5, 5, 6, 6]


def test_linear_rounds_down_to_sizes_the_task_allows():
    maze = _plan("linear", allowed=(5, 7, 9), epochs=4)
    assert schedule(maze, 6) == [5, 5, 7, 7, 9, 9]


def test_stepped_makes_equal_plateaus_then_the_target():
    assert schedule(_plan("stepped", epochs=4, steps=2), 6) == [2, 2, 4, 4, 6, 6]
    assert schedule(_plan("stepped", epochs=6, steps=3), 8) == [2, 2, 3, 3, 4, 4, 6, 6]
    assert schedule(_plan("stepped", epochs=1, steps=1), 3) == [2, 6, 6]


def test_off_is_always_the_target():
    assert schedule(_plan("off"), 3) == [6, 6, 6]


def test_threshold_climbs_one_level_each_time_the_current_level_is_passed():
    plan = _plan("threshold", steps=2, threshold=0.5)
    assert plan.ladder() == (2, 4, 6)
    history: list[dict] = []
    seen = []
    # held-out exact at the current level, per epoch (None: not evaluated that epoch)
    exacts = [0.2, 0.6, None, 0.4, 0.9, 0.1, 1.0]
    for epoch, exact in enumerate(exacts, start=1):
        level = difficulty_at(plan, epoch, history)
        seen.append(level)
        row = {"epoch": epoch, DIFFICULTY_KEY: level}
        if exact is not None:
            row[EXACT_KEY] = exact
        history.append(row)
    assert seen == [2, 2, 4, 4, 4, 6, 6]


def test_threshold_starts_at_the_bottom_without_a_previous_row():
    plan = _plan("threshold")
    assert difficulty_at(plan, 1) == 2
    assert difficulty_at(plan, 5, [{"epoch": 1, DIFFICULTY_KEY: 4, EXACT_KEY: 1.0}]) == 2


# ----- settings ----------------------------------------------------------------------------------

def _config(**data) -> RunConfig:
    return RunConfig.from_dict({"data": {"task": "copy-increment", "train_size": 48, "test_size": 12,
                                         "grid_size": 3, **data}})


def test_plan_from_the_settings_targets_the_tasks_own_difficulty():
    plan = plan_for(_config(curriculum="linear", curriculum_start=1, curriculum_epochs=2))
    assert (plan.knob, plan.allowed, plan.target) == ("grid_size", (1, 2, 3), 3)
    assert plan_for(_config()) is None
    sudoku = plan_for(RunConfig.from_dict({"data": {"task": "sudoku-4x4", "curriculum": "stepped"}}))
    assert (sudoku.knob, sudoku.start, sudoku.target) == ("blanks", 4, 8)  # 0 = half the default 8 blanks
    maze = plan_for(RunConfig.from_dict({"data": {"task": "maze", "curriculum": "linear"}}))
    assert maze.allowed == (5, 7, 9)


@pytest.mark.parametrize(("data", "field", "words"), [
    ({"curriculum": "linear", "curriculum_start": 3}, "curriculum_start", "must be easier"),
    ({"curriculum": "linear", "curriculum_start": 6, "task": "maze", "grid_size": 9},
     "curriculum_start", "is not a grid_size"),
    ({"curriculum": "linear", "grid_size": 1}, "curriculum", "already the easiest"),
    ({"curriculum": "linear", "dataset_dir": "/somewhere"}, "curriculum", "needs a generated task"),
    ({"curriculum": "stepped", "curriculum_steps": 5, "curriculum_epochs": 3}, "curriculum_steps", "do not fit"),
    ({"curriculum": "sometimes"}, "curriculum", "must be one of"),
    ({"curriculum": "threshold", "curriculum_threshold": 0.0}, "curriculum_threshold", "greater than 0"),
])
def test_settings_that_cannot_work_are_named(data, field, words):
    config = _config(**data)
    problems = validation.problems(config)
    assert field in problems and words in problems[field], problems
    with pytest.raises(ConfigError, match=words):
        validation.validate(config)


def test_a_start_that_cannot_make_enough_puzzles_says_what_to_change():
    config = _config(curriculum="linear", curriculum_start=1, train_size=48)
    plan = plan_for(config)
    with pytest.raises(ConfigError, match="curriculum cannot make its puzzles at grid_size 1.*curriculum_start"):
        make_level(config, plan, 1, with_test=False)


def test_small_grids_are_padded_to_the_targets_sequence_length():
    config = _config(curriculum="linear", curriculum_start=2)
    plan = plan_for(config)
    options = level_options(config, plan, 2, with_test=False)
    assert (options.grid_size, options.encoding, options.canvas_size, options.test_size) == (2, "canvas", 4, 0)
    level = make_level(config, plan, 2, with_test=False)
    assert level.train.inputs.shape == (48, 16)  # the target 3×3 grid with its EOS frame: 4×4
    grid = level.train.inputs[0].reshape(4, 4)
    assert (grid[3] == 0).all() and (grid[:, 3] == 0).all()  # PAD beyond the small grid's frame
    assert (level.train.labels.reshape(-1, 4, 4)[:, 3] == -100).all()  # never scored


# ----- runs --------------------------------------------------------------------------------------

def _run(config, path, events=None):
    trainer = Trainer(config, path, (events if events is not None else []).append)
    return trainer, trainer.fit()


def test_a_curriculum_run_logs_its_difficulty_rising_as_scheduled(tiny_config, tmp_path):
    config = tiny_config.copy()
    config.train.epochs = 4
    config.data.curriculum, config.data.curriculum_start, config.data.curriculum_epochs = "linear", 2, 2
    _, result = _run(config, tmp_path / "run")
    assert [row[DIFFICULTY_KEY] for row in result.history] == [2, 2, 3, 3]
    assert all(row["puzzles"] == 48 for row in result.history)
    assert all(row["val_puzzles"] == 12 for row in result.history)  # the held-out split stays at the target
    again, other = _run(config, tmp_path / "again")
    assert comparable(other.history) == comparable(result.history)  # same seed, same history


def test_a_plain_run_logs_no_difficulty(tiny_config, tmp_path):
    _, result = _run(tiny_config, tmp_path / "plain")
    assert all(DIFFICULTY_KEY not in row for row in result.history)


def test_threshold_runs_log_exact_match_at_the_current_level(tiny_config, tmp_path):
    config = tiny_config.copy()
    config.train.epochs = 2
    config.data.curriculum, config.data.curriculum_start = "threshold", 2
    config.data.curriculum_threshold = 0.01
    _, result = _run(config, tmp_path / "run")
    first = result.history[0]
    assert first[DIFFICULTY_KEY] == 2 and 0.0 <= first[EXACT_KEY] <= 1.0
    expected = 3 if first[EXACT_KEY] >= 0.01 else 2
    assert result.history[1][DIFFICULTY_KEY] == expected


def test_resume_mid_curriculum_continues_the_schedule(tiny_config, tmp_path):
    config = tiny_config.copy()
    config.train.epochs = 4
    config.data.curriculum, config.data.curriculum_start = "stepped", 2
    config.data.curriculum_epochs, config.data.curriculum_steps = 2, 1
    _, straight = _run(config, tmp_path / "straight")
    assert [r[DIFFICULTY_KEY] for r in straight.history] == [2, 2, 3, 3]

    half = config.copy()
    half.train.epochs = 1
    _run(half, tmp_path / "split")
    resumed = Trainer.resuming(tmp_path / "split", epochs=4)
    result = resumed.fit()
    assert [r[DIFFICULTY_KEY] for r in result.history] == [2, 2, 3, 3]
    assert comparable(result.history) == comparable(straight.history)
    assert np.isfinite(result.history[-1]["loss"])


def test_sudoku_levels_change_blanks_and_keep_the_shape():
    config = RunConfig.from_dict({"data": {"task": "sudoku-4x4", "train_size": 30, "test_size": 10,
                                           "curriculum": "stepped", "curriculum_steps": 2, "curriculum_epochs": 2}})
    plan = plan_for(config)
    assert plan.ladder() == (4, 6, 8)
    level = make_level(config, plan, 4, with_test=True)
    assert level.train.inputs.shape == (30, 16) and len(level.test) == 10
    assert ((level.train.inputs == 1).sum(axis=1) == 4).all()  # four blank cells (token 1) per puzzle


def test_maze_levels_sit_on_the_targets_grid():
    config = RunConfig.from_dict({"data": {"task": "maze", "train_size": 20, "test_size": 5, "grid_size": 7,
                                           "curriculum": "linear"}})
    plan = plan_for(config)
    level = make_level(config, plan, 5, with_test=False)
    grids = level.train.inputs.reshape(-1, 7, 7)
    assert (grids[:, 5:, :] == 0).all() and (grids[:, :, 5:] == 0).all() and (grids[:, :5, :5] > 0).all()
