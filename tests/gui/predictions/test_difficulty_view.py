"""The Predictions tab's Difficulty and Segments views: accuracy by givens / rating, Sudoku rule breaks drawn
on the prediction grid, and a re-evaluation with more segments than the model was trained with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hrm_studio.cli import main as cli_main
from hrm_studio.config import RunConfig
from hrm_studio.data.csv_import import import_sudoku_csv
from hrm_studio.data.hrm_format import read_dataset
from hrm_studio.evaluation.difficulty import split_violations
from hrm_studio.gui.predictions.prediction_jobs import PredictionJobs, PredictionSource
from hrm_studio.gui.predictions.predictions_tab import PredictionsTab
from hrm_studio.runstore.prediction_set import PredictionSet
from hrm_studio.runstore.run_dir import RunDir
from tests.conftest import TINY_SETTINGS
from tests.evaluation.sudoku_sets import prediction_set, sudoku_4x4_set
from tests.gui.conftest import RUN_TIMEOUT_MS
from tests.gui.predictions.square_sets import square_prediction_set

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "fixtures"


@pytest.fixture
def tab(qtbot: Any) -> PredictionsTab:
    widget = PredictionsTab()
    qtbot.addWidget(widget)
    widget.resize(1100, 800)
    widget.show()
    return widget


def test_rule_breaks_are_outlined_on_the_prediction_and_counted_for_the_split(tab: PredictionsTab) -> None:
    ps = sudoku_4x4_set()
    tab.set_predictions(ps)
    assert tab.select_row(2)
    shown = tab.rendered_views()["prediction"]
    assert np.flatnonzero(shown.violations).tolist() == [0, 1, 9]
    view = tab.views["prediction"]
    assert "repeats a digit" in view.describe_cell(0, 1) and "repeats a digit" not in view.describe_cell(0, 2)
    assert "repeats a digit in 3 cells" in tab.summary_label.text()
    assert "1 of 4 predictions in the split breaks a Sudoku rule" in tab.summary_label.text()
    panel = tab.summaries.difficulty
    assert panel.violations.summary()["cells"] == split_violations(ps).summary()["cells"] == 3
    assert panel.violations_label.text().startswith("Sudoku rules after segment 2/2: 1 of 4")
    assert tab.select_row(1)   # wrong, but keeps every rule
    assert not tab.rendered_views()["prediction"].violations.any()
    tab.set_segment(0)         # the first segment only copies the givens: nothing repeats
    assert tab.select_row(2) and not tab.rendered_views()["prediction"].violations.any()
    assert "0 of 4" in panel.violations_label.text()


def test_accuracy_by_givens_follows_the_segment_slider(tab: PredictionsTab) -> None:
    tab.set_predictions(sudoku_4x4_set())
    panel = tab.summaries.difficulty
    assert panel.current_view().measure == "givens"
    assert panel.table_text() == [["8", "1", "93.8%", "0.0%"], ["10", "2", "71.9%", "0.0%"],
                                  ["12", "1", "100.0%", "100.0%"]]
    assert panel.bar_heights() == [0.0, 0.0, 100.0]
    assert panel.token_points() == pytest.approx([93.75, 71.875, 100.0])
    tab.set_segment(0)
    assert panel.bar_heights() == [0.0, 0.0, 0.0]   # no puzzle is solved after the first segment
    segments = tab.summaries.segments
    assert segments.curve("exact") == [0.0, 25.0] and segments.cursor_line.value() == 1


def test_other_tasks_group_by_scored_cells_and_show_no_rule_breaks(tab: PredictionsTab) -> None:
    tab.set_predictions(square_prediction_set(side=5, n=4))
    panel = tab.summaries.difficulty
    assert [v.measure for v in panel.views] == ["cells"] and panel.violations is None
    assert panel.violations_label.isHidden()
    assert tab.rendered_views()["prediction"].violations is None


def test_ratings_come_from_the_data_set_folder(tab: PredictionsTab, tmp_path: Path) -> None:
    folder = import_sudoku_csv(FIXTURES / "sudoku_csv", tmp_path / "ds").out_dir
    data = read_dataset(folder)
    labels = np.where(data.test.labels < 0, 0, data.test.labels)
    ps = prediction_set(data.info.to_dict(), data.test.inputs, labels, labels[:, None, :])
    expected = sorted(int(line.rsplit(",", 1)[1])
                      for line in (FIXTURES / "sudoku_csv" / "test.csv").read_text().splitlines()[1:])
    tab.summaries.set_model(2, folder)
    tab.set_predictions(ps)
    panel = tab.summaries.difficulty
    assert [v.measure for v in panel.views] == ["rating", "givens"]
    assert [row[0] for row in panel.table_text()] == [str(r) for r in expected]
    assert panel.measure_box.itemText(0) == "Rating" and panel.measure_box.isEnabled()
    panel.measure_box.setCurrentIndex(1)
    assert panel.table.horizontalHeaderItem(0).text() == "Givens"
    tab.summaries.set_model(2, None)   # another model without ratings: they go
    tab.set_predictions(ps)
    assert [v.measure for v in panel.views] == ["givens"]


@pytest.fixture
def sudoku_run(tmp_path: Path) -> tuple[Path, RunConfig]:
    """A one-epoch sudoku-4x4 run trained with 2 ACT segments."""
    config = RunConfig.from_dict(TINY_SETTINGS)
    for name, value in {"task": "sudoku-4x4", "grid_size": 4, "train_size": 16, "test_size": 6, "epochs": 1}.items():
        config.set(name, value)
    settings = tmp_path / "settings.json"
    settings.write_text(config.to_json(), encoding="utf-8")
    out = tmp_path / "run"
    assert cli_main(["train", "--config", str(settings), "--quiet", "--out", str(out)]) == 0
    return out, config


def test_more_segments_than_trained_are_evaluated_in_the_background(tab: PredictionsTab, qtbot: Any,
                                                                    sudoku_run: tuple[Path, RunConfig]) -> None:
    run_dir, config = sudoku_run
    jobs = PredictionJobs(tab)
    try:
        jobs.set_source(PredictionSource(run_dir / "checkpoints" / "final.pt", config, run_dir))
        qtbot.waitUntil(lambda: tab.current_set() is not None and not jobs.busy, timeout=RUN_TIMEOUT_MS)
        trained = tab.current_set()
        segments = tab.summaries.segments
        assert trained.steps == 2 and segments.trained == 2 and segments.run_button.isEnabled()
        assert segments.spin.value() == 4   # twice the trained number to start with
        segments.spin.setValue(5)
        segments.run_button.click()
        qtbot.waitUntil(lambda: tab.current_set().steps == 5 and not jobs.busy, timeout=RUN_TIMEOUT_MS)
    finally:
        jobs.shutdown()
    longer = tab.current_set()
    # the first two segments are the trained model's own: thinking longer changes nothing before them
    assert np.array_equal(longer.predictions.predictions[:, :2], trained.predictions.predictions)
    assert tab.slider.maximum() == 4 and len(segments.curve("token")) == 5
    assert segments.trained_line.isVisible() and segments.trained_line.value() == 2
    assert segments.curve("exact")[-1] == pytest.approx(100 * longer.exact().mean())
    assert "5 segments shown" in segments.info_label.text()
    # never saved as the run's predictions: those stay the trained model's
    assert PredictionSet.load(RunDir(run_dir).predictions_path("test")).steps == 2
