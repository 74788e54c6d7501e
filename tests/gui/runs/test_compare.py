"""Compare runs in the Runs tab: one curve per run in every plot, settings that differ, best marked, exports."""

from __future__ import annotations

import json
from pathlib import Path

from hrm_studio.gui.metrics.plots import MetricsDashboard
from hrm_studio.gui.widgets.theme import plot_colours
from hrm_studio.render.metric_panels import PANELS, curve_keys, curve_style, panel_curves


def fake_run(root: Path, name: str, exact: list[float], **settings: object) -> Path:
    """A run folder with settings and a history, as training leaves it (no checkpoint needed to compare)."""
    folder = root / name
    folder.mkdir(parents=True)
    sections = {"data": {"task": "copy-increment"}, "model": {}, "train": {"epochs": len(exact)}}
    for key, value in settings.items():
        sections["model" if key in ("hidden_size", "num_heads") else "train"][key] = value
    (folder / "config.json").write_text(json.dumps(sections))
    rows = [{"epoch": i + 1, "loss": 2.0 - v, "val_loss": 2.1 - v, "token_accuracy": v, "val_token_accuracy": v,
             "exact_match_accuracy": v, "val_exact_match_accuracy": v, "learning_rate": 1e-3,
             "mean_act_steps": 2.0, "val_mean_act_steps": 2.0, "q_halt_accuracy": 0.5, "val_q_halt_accuracy": 0.5,
             "wall_seconds": 1.5 * (i + 1)} for i, v in enumerate(exact)]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "status.json").write_text(json.dumps({"state": "finished", "reason": "completed"}))
    return folder


def test_three_runs_give_three_curves_per_plot_and_only_the_differing_settings(qtbot, make_window, tmp_path):
    root = tmp_path / "runs"
    a = fake_run(root, "lr-high", [0.1, 0.3, 0.6], lr=0.001)
    b = fake_run(root, "lr-low", [0.1, 0.2, 0.3, 0.35], lr=0.0001)
    c = fake_run(root, "wide", [0.2, 0.5], lr=0.001, hidden_size=96)
    window = make_window()
    window.show_tab("runs")
    tab = window.runs_tab
    tab.refresh()
    before = {key: window.dashboard.curve(key) for key in window.dashboard.curve_keys()}
    tab.select([a, b, c])
    assert tab.compare_button.isEnabled()
    with qtbot.waitSignal(tab.compare_shown, timeout=10_000):
        tab.compare_button.click()
    view = tab.compare_view
    assert tab.comparing
    for panel in PANELS:
        curves = view.dashboard.run_curves(panel.name)
        assert len(curves) == 3, panel.name
    lengths = sorted(len(curve.xData) for curve in view.dashboard.run_curves("exact_match"))
    assert lengths == [2, 3, 4]
    # Each run keeps its own colour.
    pens = {curve.opts["pen"].color().name() for curve in view.dashboard.run_curves("loss")}
    assert len(pens) == 3
    # Differences only: exactly the settings that are not the same everywhere.
    assert view.differences_only.isChecked()
    assert set(view.shown_settings()) == {"lr", "hidden_size", "epochs"}
    view.differences_only.setChecked(False)
    assert len(view.shown_settings()) > 20
    view.differences_only.setChecked(True)
    assert set(view.shown_settings()) == {"lr", "hidden_size", "epochs"}
    # The best value per score is bold, in its run's column only.
    best = view.best_cells()
    assert best["Best held-out exact"] == ["lr-high"] and best["Lowest held-out loss"] == ["lr-high"]
    assert best["Epochs"] == []
    # The same smoothing for every run: the slider smooths all three.
    view.dashboard.set_smoothing(0.6)
    raw = [0.1, 0.3, 0.6]
    assert view.dashboard.run_curves("exact_match")[0].yData[-1] < 100 * raw[-1]
    # Exports like every plot.
    assert view.export_plots(tmp_path / "out" / "compare.png").stat().st_size > 1000
    assert view.export_plots(tmp_path / "out" / "compare.svg").read_text().count("<svg") == 1
    csv = view.export_csv(tmp_path / "out" / "compare.csv").read_text().splitlines()
    assert csv[0].startswith("epoch,run,") and len(csv) == 1 + 3 + 4 + 2
    # Leaving the comparison: the library is back and the Metrics tab kept its own curves.
    view.back_button.click()
    assert not tab.comparing and tab.pages.currentWidget() is tab.library_page
    assert {key: window.dashboard.curve(key) for key in window.dashboard.curve_keys()} == before


def test_compare_needs_two_runs(qtbot, make_window, tmp_path):
    a = fake_run(tmp_path / "runs", "only", [0.1])
    window = make_window()
    tab = window.runs_tab
    tab.refresh()
    tab.select([a])
    assert not tab.compare_button.isEnabled()
    with qtbot.waitSignal(window.error_shown) as shown:
        tab.compare([a])
    assert "two or more" in shown.args[0]


def test_the_dashboard_is_built_from_the_shared_panel_description(qtbot):
    """The window's plots and the report's picture read one list: same panels, titles, keys and colours."""
    colours = plot_colours(dark=False)
    board = MetricsDashboard(colours)
    qtbot.addWidget(board)
    patterns = ["copy", "increment"]
    # every optional panel shown (curriculum, ARC pass@2), so every curve of the description is on screen
    board.set_history([{"epoch": 1, "loss": 1.0, "curriculum_difficulty": 2, "val_arc_pass@2": 0.5}], patterns)
    board.flush()
    assert sorted(board.curve_keys()) == sorted(curve_keys(patterns))
    for panel in PANELS:
        plot = board.plot(panel.name)
        assert panel.title in plot.titleLabel.text
        assert (plot.getAxis("left").labelText or "") == panel.y_label
        items = plot.listDataItems()
        described = panel_curves(panel, patterns)
        assert len(items) == len(described), panel.name
        for curve in described:
            item = board.curve(curve.key)
            assert item in items, curve.key
            assert item.opts["pen"].color().name() == curve_style(curve, colours).colour
    # A plain run: the optional panels and their curves go, the rest stay as described.
    board.set_history([{"epoch": 1, "loss": 1.0}], patterns)
    optional = {"curriculum_difficulty", "val_arc_pass@2"}
    assert sorted(board.curve_keys()) == sorted(k for k in curve_keys(patterns) if k not in optional)
