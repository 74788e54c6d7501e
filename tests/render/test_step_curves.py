"""The critical-step plot description: curves in %, one dashed boundary between segments, a decodable PNG."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from hrm_studio.render.step_curves import save_step_curve_chart, step_curve_panel


def test_panel_has_the_curves_in_percent_and_a_boundary_between_segments():
    panel = step_curve_panel([0.0, 0.5, 1.0, 1.0, 0.9, 0.9], [0.4, 0.8, 1.0, 1.0, 0.95, 0.95], 2, count=7)
    by_key = {c.key: c for c in panel.curves}
    assert by_key["exact"].ys == [0.0, 50.0, 100.0, 100.0, 90.0, 90.0]
    assert by_key["token_accuracy"].xs == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    boundaries = [c for c in panel.curves if c.style.dashed]
    assert [c.xs[0] for c in boundaries] == [2.5, 4.5]  # 3 segments: 2 boundaries, between updates
    assert panel.y_range == (0.0, 100.0) and "7 held-out puzzles" in panel.title


def test_chart_is_written_and_bad_input_refused(tmp_path):
    path = save_step_curve_chart(np.array([0.1, 0.6, 0.7]), np.array([0.5, 0.9, 0.9]), 1, tmp_path / "s.png")
    with Image.open(path) as image:
        image.load()
        assert image.width == 900 and image.height > 150
    with pytest.raises(ValueError):
        save_step_curve_chart([], [], 1, tmp_path / "empty.png")
