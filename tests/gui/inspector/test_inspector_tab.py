"""The Reasoning tab draws a trace: the step slider moves the answer, changed cells are outlined, the settled
step is marked; a real tiny model's trace arrives through the background jobs; exports write files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, Qt

from hrm_studio.analysis import ReasoningTrace
from hrm_studio.config import RunConfig
from hrm_studio.gui.inspector.inspector_controller import InspectorController
from hrm_studio.gui.inspector.inspector_tab import InspectorTab
from hrm_studio.gui.inspector.step_timeline import LABEL_WIDTH, ROW_HEIGHT
from tests.conftest import TINY_SETTINGS
from tests.gui.analysis_models import jobs_for

TASK = {"task": "copy", "grid_shape": [2, 2], "vocab_labels": ["PAD", "EOS"] + [str(c) for c in range(10)],
        "display": "colour", "identifier_names": ["<blank>", "copy"], "pattern_names": ["copy"]}
INPUTS = np.array([2, 3, 4, 5])


def hand_made_trace() -> ReasoningTrace:
    """2 segments × 2 steps; cell 1 goes wrong → right at step 2 (index 2), stays right."""
    answers = np.array([[2, 9, 4, 5], [2, 9, 4, 5], [2, 3, 4, 5], [2, 3, 4, 5]])
    changed = np.zeros_like(answers, bool)
    changed[1:] = answers[1:] != answers[:-1]
    correct = np.array([False, False, True, True])
    return ReasoningTrace(arch="hrm", segments=2, steps_per_segment=2, inner_per_step=2, answers=answers,
                          changed=changed, correct=correct, token_accuracy=np.array([.75, .75, 1, 1]),
                          settled_step=2, q_halt_prob=np.array([0.2, 0.9]), z_h_residual=np.array([4., 2, 1, .5]),
                          z_l_residual=np.linspace(3, 0.1, 8), z_h_pca=np.arange(8.).reshape(4, 2), pca_cell=None)


def test_the_slider_steps_through_the_answers_with_changed_cells_and_the_settled_mark(qtbot: Any) -> None:
    tab = InspectorTab()
    qtbot.addWidget(tab)
    tab.resize(900, 600)
    tab.show()
    tab.set_model(TASK, {"test": 1, "train": 0}, trained_segments=1, levels={"H": (1, 2), "L": (1, 2)})
    tab.set_available(True)
    steps: list[int] = []
    tab.step_changed.connect(steps.append)
    tab.show_trace(hand_made_trace(), INPUTS, INPUTS.copy(), "Held-out puzzle 0")
    assert tab.slider.maximum() == 3 and tab.slider.value() == 1   # the end of the trained segment
    answer = tab.grids.views["answer"].content
    assert answer is not None and answer.tokens.tolist() == [2, 9, 4, 5] and answer.wrong.tolist()[1]
    tab.slider.setValue(2)
    answer = tab.grids.views["answer"].content
    assert answer.tokens.tolist() == [2, 3, 4, 5] and answer.changed.tolist() == [False, True, False, False]
    assert not answer.wrong.any() and "✓" in tab.grids.views["answer"].title
    assert tab.timeline.step == 2 and steps[-1] == 2
    assert "Right from step 3 on (segment 2, update 1 of 2)" in tab.summary_label.text()
    # Clicking the timeline's last column shows the last step.
    x = LABEL_WIDTH + 3.5 * tab.timeline.column_width()
    qtbot.mouseClick(tab.timeline, Qt.MouseButton.LeftButton, pos=QPoint(int(x), ROW_HEIGHT * 2))
    assert tab.slider.value() == 3 and tab.timeline.step_at(LABEL_WIDTH + 1) == 0
    assert "extra" in tab.step_label.text()   # segment 2 is beyond the trained one


def test_a_tiny_models_trace_arrives_off_the_gui_thread_and_exports(qtbot: Any, tmp_path: Path) -> None:
    config = RunConfig.from_dict(TINY_SETTINGS)
    jobs = jobs_for(config, tmp_path)
    tab = InspectorTab()
    qtbot.addWidget(tab)
    control = InspectorController(tab, jobs)
    tab.resize(900, 600)
    tab.show()
    tab.extra_box.setValue(1)
    with qtbot.waitSignal(control.trace_shown, timeout=60_000) as shown:
        control.refresh()
    trace = shown.args[0]
    assert trace.segments == config.model.halt_max_steps + 1 and tab.slider.maximum() == trace.steps - 1
    assert tab.timeline.trace is trace and tab.grids.views["truth"].content is not None
    with qtbot.waitSignal(control.saved, timeout=30_000) as saved:
        control.export("gif", tmp_path / "timeline.gif")
    assert saved.args[0][0].stat().st_size > 0
    control.export("dynamics", tmp_path / "dynamics.svg")
    assert (tmp_path / "dynamics.svg").read_text().lstrip().startswith("<?xml")
    jobs.shutdown()
    control.shutdown()
