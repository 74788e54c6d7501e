"""The puzzle editor: an edit reaches the model and its answer comes back; a second edit makes the first
one's answer stale (never drawn, no thread left); painting and typing edit only puzzle cells; the kept
puzzles save as a data set the official-layout reader loads, and an existing folder is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from hrm_studio.config import RunConfig
from hrm_studio.data.grid import EOS
from hrm_studio.data.hrm_format import read_dataset
from hrm_studio.gui.editor.editor_controller import EditorController
from hrm_studio.gui.editor.editor_tab import EditorTab
from tests.conftest import TINY_SETTINGS
from tests.gui.analysis_models import jobs_for


@pytest.fixture
def editor(qtbot: Any, tmp_path: Path) -> Any:
    jobs = jobs_for(RunConfig.from_dict(TINY_SETTINGS), tmp_path)
    tab = EditorTab()
    qtbot.addWidget(tab)
    control = EditorController(tab, jobs)
    tab.resize(900, 600)
    tab.show()
    with qtbot.waitSignal(control.answered, timeout=60_000):
        control.refresh()   # loads the model, starts from held-out puzzle 0 and answers it
    yield control
    jobs.shutdown()
    control.shutdown()


def test_each_edit_is_answered_and_a_second_edit_drops_the_first_answer(qtbot: Any, editor: Any) -> None:
    answers: list[Any] = []
    editor.answered.connect(answers.append)
    cell = int(np.flatnonzero(editor.inputs >= 2)[0])   # a colour cell
    first, second = (2, 3) if editor.inputs[cell] not in (2, 3) else (4, 5)
    editor.edit(cell, first)
    assert editor.jobs.busy and editor.tab.status_label.text() == "Answering…"   # the window did not wait
    editor.edit(cell, second)
    qtbot.waitUntil(lambda: not editor.jobs.busy, timeout=60_000)
    assert len(answers) == 1 and editor.jobs.superseded == 1
    assert answers[0].inputs[cell] == second and editor.tab.answer is answers[0]
    pattern = editor.pattern   # the copy or increment rule: the solver's answer follows the edit
    assert answers[0].solver_labels[cell] == second + (1 if pattern == "increment" else 0)
    assert answers[0].trace.correct is not None and editor.last_round_trip_ms > 0


def test_painting_and_typing_change_only_puzzle_cells(qtbot: Any, editor: Any) -> None:
    view = editor.tab.paint_view
    frame = int(np.flatnonzero(editor.inputs == EOS)[0])
    assert not view.editable[frame]
    before = editor.inputs.copy()
    editor.edit(frame, 5)   # the frame is not puzzle content: refused, nothing asked
    assert np.array_equal(editor.inputs, before) and not editor.jobs.busy
    view.cursor_pos = int(np.flatnonzero(view.editable & (before != 9))[0])
    view.setFocus()
    with qtbot.waitSignal(editor.answered, timeout=60_000):
        qtbot.keyClick(view, "7")   # colour 7 is token 9
    changed = np.flatnonzero(editor.inputs != before)
    assert changed.tolist() == [view.cursor_pos] and editor.inputs[view.cursor_pos] == 9


def test_kept_puzzles_save_as_a_data_set_the_official_reader_loads(qtbot: Any, editor: Any, tmp_path: Path) -> None:
    assert editor.keep()   # the unedited puzzle keeps its own label
    cell = int(np.flatnonzero(editor.inputs >= 2)[0])
    with qtbot.waitSignal(editor.answered, timeout=60_000):
        editor.edit(cell, 2 if editor.inputs[cell] != 2 else 3)
    assert editor.keep()   # the edited one is labelled by the solver
    folder = tmp_path / "edited"
    with qtbot.waitSignal(editor.saved, timeout=30_000):
        editor.save(folder)
    data = read_dataset(folder)
    assert len(data.test) == 2 and len(data.train) == 2
    assert np.array_equal(data.test.inputs[1], editor.inputs)
    solver = editor.tab.answer.solver_labels
    assert np.array_equal(data.test.labels[1], solver) and set(data.test.patterns) == {"edited"}
    with qtbot.waitSignal(editor.failed, timeout=30_000) as refused:
        editor.save(folder)
    assert "already exists" in refused.args[0]


def test_blank_start_keeps_the_frame_and_clears_the_cells(qtbot: Any, editor: Any) -> None:
    with qtbot.waitSignal(editor.answered, timeout=60_000):
        editor.tab.blank_button.click()
    colours = editor.inputs[(editor.inputs != 0) & (editor.inputs != EOS)]
    assert colours.size and (colours == editor.tokens[0]).all()
    view = editor.tab.paint_view
    pos = int(np.flatnonzero(view.editable)[-1])
    assert view.content is not None
    # A click on that cell paints it with the chosen brush.
    editor.tab.brush_group.button(editor.tokens[-1]).setChecked(True)
    geometry = view.content.geometry
    r, c = divmod(pos, geometry.grid_cols)
    tops, lefts = geometry.offsets(view.cell)
    origin = view._origin()
    point = QPoint(int(origin.x() + (lefts[c - geometry.col_start] + lefts[c - geometry.col_start + 1]) / 2),
                   int(origin.y() + (tops[r - geometry.row_start] + tops[r - geometry.row_start + 1]) / 2))
    with qtbot.waitSignal(editor.answered, timeout=60_000):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=point)
    assert editor.inputs[pos] == editor.tokens[-1]
