"""PredictionAggregates: the table shows pattern_table, a row click emits its pattern, the bars and
the confusion matrix are token_histograms / confusion_matrix, and they follow the segment."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from PySide6.QtCore import Qt

from hrm_studio.gui.predictions.prediction_aggregates import COLUMNS, PredictionAggregates
from hrm_studio.evaluation.prediction_summary import confusion_matrix, pattern_table, token_histograms
from tests.evaluation.test_prediction_summary import synthetic_prediction_set


def _widget(qtbot, ps=None):
    widget = PredictionAggregates()
    qtbot.addWidget(widget)
    widget.resize(900, 300)
    widget.set_predictions(ps if ps is not None else synthetic_prediction_set(n=40, steps=3))
    return widget


def _click_row(qtbot, widget, row):
    table = widget.table
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_the_table_rows_are_the_pattern_table(qtbot):
    ps = synthetic_prediction_set(n=40, steps=3)
    widget = _widget(qtbot, ps)
    rows = pattern_table(ps)
    assert widget.pattern_rows == rows
    text = widget.table_text()
    assert [widget.table.horizontalHeaderItem(c).text() for c in range(len(COLUMNS))] == list(COLUMNS)
    assert [r[0] for r in text] == [r.pattern for r in rows] == ["rotate", "copy", "flip", "all"]
    for shown, row in zip(text, rows):
        assert shown[1] == str(row.puzzles)
        assert shown[2] == f"{100 * row.token_accuracy:.1f}%"
        assert shown[3] == f"{100 * row.exact:.1f}%"
        assert shown[4] == f"{row.mean_steps:.2f}"
        assert shown[5] == f"{100 * row.q_halt_accuracy:.1f}%"


def test_clicking_a_row_emits_its_pattern_and_all_emits_empty(qtbot):
    widget = _widget(qtbot)
    widget.show()
    with qtbot.waitSignal(widget.pattern_selected, timeout=2000) as blocker:
        _click_row(qtbot, widget, 1)
    assert blocker.args == ["copy"] and widget.pattern == "copy"
    with qtbot.waitSignal(widget.pattern_selected, timeout=2000) as blocker:
        _click_row(qtbot, widget, 3)
    assert blocker.args == [""] and widget.pattern == ""


def test_histogram_bars_and_confusion_are_the_summary_numbers_and_follow_the_segment(qtbot):
    ps = synthetic_prediction_set(n=40, steps=3)
    widget = _widget(qtbot, ps)
    for segment in (None, 0, 1):
        widget.set_segment(segment)
        predicted, true = widget.histogram_bars
        expected = token_histograms(ps, segment)
        assert predicted.tolist() == expected[0].tolist() and true.tolist() == expected[1].tolist()
        assert np.array_equal(widget.confusion, confusion_matrix(ps, segment))
    assert widget.histogram_bars[0].tolist() != token_histograms(ps)[0].tolist()  # segment 1 ≠ last
    ticks = widget.histogram_plot.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [label for _, label in ticks] == ps.task["vocab_labels"]


def test_a_chosen_pattern_narrows_the_charts(qtbot):
    ps = synthetic_prediction_set(n=40, steps=3)
    widget = _widget(qtbot, ps)
    copy = np.asarray(ps.puzzles.patterns) == "copy"
    with qtbot.assertNotEmitted(widget.pattern_selected):
        widget.set_pattern("copy")
    assert widget.histogram_bars[1].tolist() == token_histograms(ps, mask=copy)[1].tolist()
    assert widget.table.selectionModel().selectedRows()[0].row() == 1
    # A new set keeps the chosen pattern; set_pattern("") goes back to all puzzles.
    widget.set_predictions(synthetic_prediction_set(n=40, steps=3, seed=1))
    assert widget.pattern == "copy"
    widget.set_pattern("")
    assert widget.histogram_bars[1].sum() == token_histograms(widget.predictions)[1].sum()


def test_confusion_tooltip_names_tokens_and_counts(qtbot):
    ps = synthetic_prediction_set(n=40, steps=3)
    widget = _widget(qtbot, ps)
    matrix = confusion_matrix(ps)
    n = int(matrix[3, 3])
    text = widget.cell_tooltip(3, 3)
    assert text.startswith(f"true 1 → predicted 1: {n} cells")
    assert f"{100 * n / matrix[3].sum():.1f}% of true 1" in text
    assert widget.cell_tooltip(99, 0) == ""


def test_none_clears_everything(qtbot):
    widget = _widget(qtbot)
    widget.set_predictions(None)
    assert widget.table.rowCount() == 0 and widget.pattern_rows == []
    assert widget.histogram_bars[0].size == 0 and widget.confusion.size == 0
    widget.set_segment(1)  # no set: nothing to draw, and no error
    assert "No predictions" in widget.hover_label.text()


def test_importing_the_widget_does_not_import_torch():
    code = ("import sys; import hrm_studio.gui.predictions.prediction_aggregates; "
            "assert 'torch' not in sys.modules; print('OK')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.stdout.strip() == "OK", done.stderr


def test_the_table_follows_the_segment_slider_too(qtbot):
    ps = synthetic_prediction_set(n=40, steps=3)
    widget = _widget(qtbot, ps)
    widget.set_segment(0)
    first = ps.exact(0)
    assert widget.pattern_rows == pattern_table(ps, segment=0)
    assert widget.table_text()[-1][3] == f"{100 * first.mean():.1f}%"
    assert widget.table_text()[-1][2] == f"{100 * ps.token_accuracy(0).mean():.1f}%"
    assert first.mean() != ps.exact().mean()   # the first segment reads differently from the last
    widget.set_segment(None)
    assert widget.table_text()[-1][3] == f"{100 * ps.exact().mean():.1f}%"
