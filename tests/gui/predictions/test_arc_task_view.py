"""The Predictions tab on an ARC build: the task view beside the puzzle browser, its filter, its candidates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hrm_studio.config import RunConfig
from hrm_studio.gui.predictions.arc_task_switch import PUZZLES_PAGE, TASKS_PAGE
from hrm_studio.gui.predictions.prediction_jobs import PredictionJobs, PredictionSource, dataset_dir_of
from hrm_studio.gui.predictions.predictions_tab import PredictionsTab
from tests.data.arc.arc_helpers import tiny_tasks
from tests.gui.predictions.arc_sets import FAILED, PASSED, arc_prediction_set, build_tiny_arc
from tests.gui.predictions.square_sets import square_prediction_set


@pytest.fixture(scope="module")
def arc_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    folder = build_tiny_arc(tmp_path_factory.mktemp("arc") / "arc")
    return folder, arc_prediction_set(folder)


@pytest.fixture
def tab(qtbot: Any, arc_set: tuple[Path, Any]) -> PredictionsTab:
    folder, ps = arc_set
    tab = PredictionsTab()
    qtbot.addWidget(tab)
    tab.resize(1280, 700)
    tab.arc.set_dataset_dir(folder)
    tab.show()
    tab.set_predictions(ps)
    qtbot.waitUntil(lambda: tab.arc.view.views is not None, timeout=10_000)
    yield tab
    tab.arc.shutdown()


def test_an_arc_test_split_opens_on_its_tasks_and_the_filter_lists_passed_or_failed(tab: PredictionsTab) -> None:
    view = tab.arc.view
    assert tab.arc.is_arc and tab.arc.currentIndex() == TASKS_PAGE
    assert view.listed_tasks() == [PASSED, FAILED]
    assert "1 passed, 1 failed at pass@2" in view.count_label.text()
    view.set_filter("passed")
    assert view.listed_tasks() == [PASSED]
    view.set_filter("failed")
    assert view.listed_tasks() == [FAILED] and view.current_task().task_id == FAILED
    assert "2 test inputs" in view.title_label.text() and view.test_box.isVisible()
    view.set_filter("all")
    assert view.current_task().task_id == FAILED   # the chosen task stays chosen


def test_a_task_shows_its_demonstrations_and_ranked_candidates_with_the_right_one_marked(tab: PredictionsTab) -> None:
    view = tab.arc.view
    view.select_task(PASSED)
    task = next(t for t in tiny_tasks() if t.task_id == PASSED)
    assert view.demo_row.count() == len(task.train) and not view.demo_note.isVisible()
    tiles = [view.test_row.itemAt(i).widget() for i in range(view.test_row.count())]
    assert [t.title for t in tiles] == ["Test input", "Right answer", "#1 ✓ right", "#2"]
    assert np.array_equal(tiles[0].grid, task.test[0].input) and np.array_equal(tiles[1].grid, task.test[0].output)
    assert tiles[2].right and not tiles[3].right
    assert tiles[2].caption.startswith("3 votes") and tiles[3].caption.startswith("1 vote ")
    assert view.aug_slider.maximum() == 3   # the original and 3 augmentations
    view.aug_slider.setValue(3)   # the last augmentation predicts all black: candidate #2
    assert "candidate #2" in view.aug_label.text() and not view.aug_tiles[2].right
    assert not view.aug_tiles[2].grid.any()
    view.aug_slider.setValue(1)
    assert view.aug_tiles[2].right and np.array_equal(view.aug_tiles[2].grid, task.test[0].output)


def test_without_the_build_folder_the_tasks_come_from_the_test_split(tab: PredictionsTab, qtbot: Any) -> None:
    before = tab.arc.view.views
    tab.arc.set_dataset_dir(None)
    qtbot.waitUntil(lambda: tab.arc.view.views is not before and tab.arc.view.views is not None, timeout=10_000)
    assert not tab.arc.view.views.has_demonstrations and tab.arc.view.demo_note.isVisible()
    assert tab.arc.view.listed_tasks() == [PASSED, FAILED]


def test_other_sets_show_only_the_puzzle_browser(tab: PredictionsTab, arc_set: tuple[Path, Any]) -> None:
    tab.set_split("train")   # nothing for the training split: the browser, no tabs
    assert not tab.arc.is_arc and tab.arc.currentIndex() == PUZZLES_PAGE
    tab.set_split("test")
    tab.set_predictions(square_prediction_set(side=30))   # a 30×30 task that is not ARC
    assert not tab.arc.is_arc and tab.arc.currentIndex() == PUZZLES_PAGE and tab.body.isVisible()
    config = RunConfig()
    config.set("dataset_dir", str(arc_set[0]))
    assert dataset_dir_of(PredictionSource(None, config)) == str(arc_set[0])
    assert dataset_dir_of(PredictionSource(None, RunConfig())) is None and dataset_dir_of(None) is None
    jobs = PredictionJobs(tab)   # the window's jobs tell the tab which folder the model's data set is in
    jobs.set_source(PredictionSource(None, config))
    assert tab.arc.dataset_dir == str(arc_set[0])
    jobs.training_started(None)
    assert tab.arc.dataset_dir is None
    jobs.shutdown()
