"""The Predictions tab after a real tiny training run: the browser, filters, the diff, the
step slider, the summaries and the exports — against what `hrm-studio eval` says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest

from hrm_studio.cli import main as cli_main
from hrm_studio.gui.predictions.prediction_jobs import PredictionSource, evaluate_split
from hrm_studio.gui.predictions.predictions_tab import first_changed_segment
from hrm_studio.evaluation.metrics import summarise_predictions
from hrm_studio.runstore.prediction_set import PredictionSet
from hrm_studio.runstore.run_dir import RunDir
from hrm_studio.evaluation.prediction_summary import pattern_table, token_histograms
from tests.gui.conftest import RUN_TIMEOUT_MS, train

STEPS = 4


@pytest.fixture
def trained(make_window: Any, tiny: Any, qtbot: Any) -> Any:
    """A window after a 1-epoch run with 4 ACT segments, its test split fully evaluated (one epoch is
    enough: the tests need a trained run, some wrong puzzles and segments that change their answer)."""
    window = make_window(tiny(epochs=1, halt_max_steps=STEPS, test_size=16, viewer_sample=8))
    last = train(qtbot, window)
    assert type(last).__name__ == "Finished"
    window.show_tab("predictions")   # a person inspecting predictions has the tab in front
    tab = window.predictions
    qtbot.waitUntil(lambda: tab.current_set() is not None and tab.current_set().complete
                    and not window.prediction_jobs.busy, timeout=RUN_TIMEOUT_MS)
    return window


def eval_json(checkpoint: Path, capsys: Any) -> dict[str, Any]:
    capsys.readouterr()
    assert cli_main(["eval", str(checkpoint), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_browser_lists_every_test_puzzle_with_the_metrics_of_hrm_studio_eval(trained: Any, capsys: Any) -> None:
    tab = trained.predictions
    ps = tab.current_set()
    assert ps.split == "test" and len(ps) == 16 and tab.proxy.rowCount() == 16
    report = eval_json(trained._run_dir / "checkpoints" / "final.pt", capsys)
    assert report["puzzles"] == 16
    token = tab.model.column("token")
    exact = tab.model.column("exact")
    assert token.mean() == pytest.approx(report["token_accuracy"])
    assert exact.mean() == pytest.approx(report["exact_match_accuracy"])
    assert tab.model.column("steps").mean() == pytest.approx(report["mean_act_steps"])
    shown = [tab.proxy.index(r, 2).data() for r in range(tab.proxy.rowCount())]
    assert shown == [f"{100 * t:.1f} %" for t in token]


def test_saved_predictions_reopen_without_evaluating(trained: Any, make_window: Any, qtbot: Any,
                                                     monkeypatch: Any) -> None:
    run_dir = trained._run_dir
    saved = PredictionSet.load(RunDir(run_dir).predictions_path("test"))
    assert saved.complete and len(saved) == 16

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("the saved predictions should have been shown, not recomputed")

    monkeypatch.setattr("hrm_studio.gui.predictions.prediction_jobs.evaluate_split", refuse)
    again = make_window(state_file="other.json")
    with qtbot.waitSignal(again.opened, timeout=RUN_TIMEOUT_MS):
        again.open_run_folder(run_dir)
    qtbot.waitUntil(lambda: again.predictions.current_set() is not None, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not again.prediction_jobs.busy, timeout=RUN_TIMEOUT_MS)
    shown = again.predictions.current_set()
    assert np.array_equal(shown.predictions.predictions, saved.predictions.predictions)
    assert again.banner.text == ""


def test_filters_and_sorting_change_the_rows(trained: Any) -> None:
    tab = trained.predictions
    ps = tab.current_set()
    exact = ps.exact()
    tab.set_result_filter("wrong")
    assert tab.shown_rows() == [i for i in range(len(ps)) if not exact[i]]
    tab.set_result_filter("correct")
    assert tab.shown_rows() == [i for i in range(len(ps)) if exact[i]]
    tab.set_result_filter("all")
    tab.set_pattern_filter("increment")
    assert tab.shown_rows() == [i for i in range(len(ps)) if ps.puzzles.patterns[i] == "increment"]
    assert tab.count_label.text().startswith(f"{len(tab.shown_rows())} of {len(ps)}")
    tab.set_pattern_filter("")
    tab.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    token = ps.token_accuracy()
    ordered = [token[r] for r in tab.shown_rows()]
    assert ordered == sorted(ordered, reverse=True)
    tab.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert tab.shown_rows() == list(range(len(ps)))


def test_arrow_keys_move_through_the_puzzles(trained: Any) -> None:
    tab = trained.predictions
    tab.select_row(0)
    tab.table.setFocus()
    QTest.keyClick(tab.table, Qt.Key.Key_Down)
    QTest.keyClick(tab.table, Qt.Key.Key_Down)
    assert tab.selected_row() == 2
    assert "Puzzle 2 " in tab.summary_label.text()


def test_a_wrong_puzzle_marks_exactly_its_wrong_cells(trained: Any) -> None:
    tab = trained.predictions
    ps = tab.current_set()
    assert not ps.exact().all(), "the tiny run should leave some held-out puzzle wrong"
    assert tab.select_first_wrong()
    row = tab.selected_row()
    assert not ps.exact()[row]
    diff = tab.rendered_views()["diff"]
    labels = ps.puzzles.labels[row]
    final = ps.predictions.predictions[row, -1]
    expected = (labels != -100) & (final != labels)
    assert np.array_equal(diff.wrong, expected) and expected.any()
    assert tab.views["diff"].title == f"Diff: {int(expected.sum())} wrong"
    # every marked cell is inside the drawn (cropped) grid
    visible = set(diff.geometry.visible_index().ravel().tolist())
    assert set(np.flatnonzero(expected).tolist()) <= visible


def test_step_slider_has_one_position_per_segment_and_follows_the_model(trained: Any) -> None:
    tab = trained.predictions
    ps = tab.current_set()
    assert tab.slider.minimum() == 0 and tab.slider.maximum() == STEPS - 1
    assert tab.segment == STEPS - 1   # opens on the answer exact match scores
    changing = [r for r in range(len(ps)) if first_changed_segment(ps, r) is not None]
    assert changing, "the model should change its mind on some puzzle between segments"
    row = changing[0]
    t = first_changed_segment(ps, row)
    tab.select_row(row)
    tab.slider.setValue(t - 1)
    before = tab.rendered_views()["prediction"].tokens.copy()
    tab.slider.setValue(t)
    view = tab.rendered_views()["prediction"]
    assert not np.array_equal(before, view.tokens)
    assert np.array_equal(view.changed, before != view.tokens)
    assert tab.views["prediction"].title == f"Prediction ({t + 1}/{STEPS})"
    assert tab.strip.current == t and tab.segment_label.text() == f"{t + 1} of {STEPS}"


def test_play_walks_through_the_segments(trained: Any, qtbot: Any) -> None:
    tab = trained.predictions
    tab.select_row(0)
    tab.slider.setValue(0)
    tab.play_button.setChecked(True)
    qtbot.waitUntil(lambda: not tab.play_button.isChecked(), timeout=10_000)
    assert tab.segment == STEPS - 1


def test_summaries_agree_with_the_metrics(trained: Any) -> None:
    tab = trained.predictions
    ps = tab.current_set()
    metrics = summarise_predictions(ps.predictions, ps.puzzles.patterns, prefix="")
    rows = {row.pattern: row for row in tab.aggregates.pattern_rows}
    for pattern in ps.puzzles.pattern_names:
        assert rows[pattern].exact == pytest.approx(metrics[f"{pattern}_accuracy"])
        assert rows[pattern].token_accuracy == pytest.approx(metrics[f"{pattern}_token_accuracy"])
    assert rows["all"].exact == pytest.approx(metrics["exact_match_accuracy"])
    assert [r.pattern for r in tab.aggregates.pattern_rows] == [r.pattern for r in pattern_table(ps)]
    predicted, truth = token_histograms(ps)
    labelled = ps.puzzles.labels[ps.puzzles.labels != -100]
    assert truth.sum() == labelled.size and predicted.sum() == labelled.size
    assert np.array_equal(truth, np.bincount(labelled, minlength=truth.size))


def test_hover_zoom_and_numbers(trained: Any, qtbot: Any) -> None:
    tab = trained.predictions
    tab.select_first_wrong() or tab.select_row(0)
    view = tab.views["diff"]
    content = view.content
    g = content.geometry
    text = view.describe_cell(g.row_start, g.col_start)
    assert text.startswith("row 1, column 1") and "label" in text and "probability" in text
    before = view.cell
    with qtbot.waitSignal(view.zoom_requested) as zoom:
        event = QWheelEvent(QPointF(20, 40), QPointF(view.mapToGlobal(QPoint(20, 40))), QPoint(0, 0),
                            QPoint(0, 120), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                            Qt.ScrollPhase.NoScrollPhase, False)
        view.wheelEvent(event)
    assert zoom.args[0] > before or before == pytest.approx(64.0)
    assert view.cell == pytest.approx(zoom.args[0])
    assert all(v.cell == tab.views["input"].cell for v in tab.views.values())
    tab.numbers_box.setChecked(True)
    assert all(v.show_numbers for v in tab.views.values())


def test_exports_decode(trained: Any, qtbot: Any, tmp_path: Path) -> None:
    tab = trained.predictions
    jobs = trained.prediction_jobs
    tab.select_row(0)
    written = {}
    for kind, name in (("png", "puzzle.png"), ("gif", "steps.gif"), ("sheet", "sheet.png")):
        with qtbot.waitSignal(jobs.saved, timeout=RUN_TIMEOUT_MS) as saved:
            assert jobs.export(kind, tmp_path / name)
        written[kind] = saved.args[0][0]
    with Image.open(written["png"]) as image:
        assert image.format == "PNG" and image.width > 200
    with Image.open(written["gif"]) as image:
        assert image.format == "GIF" and image.n_frames == STEPS
    with Image.open(written["sheet"]) as image:
        assert image.format == "PNG" and image.width > image.height / 4


def test_an_unknown_export_suffix_is_a_message_not_a_crash(trained: Any, qtbot: Any, tmp_path: Path) -> None:
    tab = trained.predictions
    tab.select_row(0)
    with qtbot.waitSignal(trained.prediction_jobs.failed, timeout=RUN_TIMEOUT_MS) as failed:
        trained.prediction_jobs.export("png", tmp_path / "puzzle.bmp")
    assert "png" in failed.args[0].lower()
    assert not (tmp_path / "puzzle.bmp").exists()


def test_the_training_split_shows_the_live_sample_then_evaluates_in_full(trained: Any, qtbot: Any) -> None:
    tab = trained.predictions
    tab.set_split("train")
    sample = tab.current_set()
    assert sample.split == "train" and not sample.complete and len(sample) == 8
    assert "fixed sample" in tab.source_label.text()
    assert tab.evaluate_button.isEnabled()
    tab.evaluate_button.click()
    qtbot.waitUntil(lambda: tab.current_set().complete and not trained.prediction_jobs.busy,
                    timeout=RUN_TIMEOUT_MS)
    full = tab.current_set()
    assert len(full) == 48 and tab.proxy.rowCount() == 48 and not tab.progress.isVisible()
    assert PredictionSet.load(RunDir(trained._run_dir).predictions_path("train")).complete


def test_a_cancelled_evaluation_returns_nothing(trained: Any) -> None:
    source = PredictionSource(trained._run_dir / "checkpoints" / "final.pt", trained._run_config, None)
    assert evaluate_split(source, "test", lambda *_: None, lambda: True) is None


def test_predictions_that_arrive_while_the_tab_is_hidden_are_drawn_when_it_is_shown(trained: Any) -> None:
    from dataclasses import fields

    from hrm_studio.runstore.prediction_record import Predictions
    from hrm_studio.runstore.prediction_set import build_prediction_set

    tab = trained.predictions
    ps = tab.current_set()
    first = np.arange(5)
    pred = Predictions(**{f.name: getattr(ps.predictions, f.name)[first] for f in fields(Predictions)
                          if f.name != "logits"})
    smaller = build_prediction_set("test", ps.epoch + 1, first, ps.puzzles.subset(first), pred, ps.task, False)
    trained.show_tab("metrics")
    tab.set_predictions(smaller)
    assert tab.model.rowCount() == 16          # kept, not drawn: a hidden tab costs training nothing
    trained.show_tab("predictions")
    assert tab.model.rowCount() == 5 and tab.proxy.rowCount() == 5
    assert tab.source_label.text().startswith(f"Epoch {ps.epoch + 1}")
