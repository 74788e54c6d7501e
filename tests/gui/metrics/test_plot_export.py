"""Exported SVG plots name font families a browser honours (Qt writes its own "Sans Serif")."""

from __future__ import annotations

import re

from hrm_studio.gui.metrics.plot_export import save_svg, web_font_family
from hrm_studio.gui.metrics.plots import MetricsDashboard

GENERIC = ("sans-serif", "serif", "monospace")


def test_svg_text_uses_a_generic_family_browsers_honour(qtbot, tmp_path):
    board = MetricsDashboard()
    qtbot.addWidget(board)
    board.resize(500, 400)
    board.show()
    path = save_svg(board.view, tmp_path / "plots.svg")
    families = set(re.findall(r'font-family="([^"]*)"', path.read_text(encoding="utf-8")))
    assert families, "the plots' text should be in the drawing"
    assert "Sans Serif" not in families
    assert all(f.split(",")[-1].strip() in GENERIC for f in families), families


def test_font_family_names_map_to_web_ones():
    assert web_font_family("Sans Serif") == "sans-serif"
    assert web_font_family("DejaVu Sans") == "DejaVu Sans, sans-serif"
    assert web_font_family("Monospace") == "monospace"
