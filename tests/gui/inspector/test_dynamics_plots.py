"""The Dynamics plots fit a narrow panel: their titles are short, so pyqtgraph never lays the plots out
wider than the view (it does not cut a title; a long one pushed the plots past the panel's edge)."""

from __future__ import annotations

from typing import Any

from hrm_studio.gui.inspector.dynamics_plots import DynamicsPlots
from tests.gui.inspector.test_inspector_tab import hand_made_trace


def test_the_plots_fit_a_narrow_panel_and_the_markers_are_explained(qtbot: Any) -> None:
    plots = DynamicsPlots()
    qtbot.addWidget(plots)
    plots.resize(360, 640)
    plots.show()
    plots.set_trace(hand_made_trace(), trained_segments=1)
    view = plots.view
    qtbot.waitUntil(lambda: view.ci.geometry().width() > 0, timeout=5000)
    assert view.ci.minimumWidth() <= view.viewport().width()
    assert view.ci.geometry().width() <= view.viewport().width() + 1
    assert "● right" in plots.key.text() and "✖ wrong" in plots.key.text()
