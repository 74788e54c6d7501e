"""The Runs table's Architecture column: read from each run's config; a run without one is HRM."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from hrm_studio.gui.runs.run_library_model import COLUMNS, SORT_ROLE, RunLibraryModel
from hrm_studio.runs.discovery import read_run


def test_the_architecture_column_names_each_runs_architecture(qtbot, tmp_path):
    configs = {"old": {"data": {"task": "copy-increment"}},
               "tiny": {"data": {"task": "copy-increment"}, "model": {"arch": "trm"}}}
    for name, config in configs.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps(config))
    model = RunLibraryModel()
    model.set_runs([read_run(tmp_path / name) for name in configs])
    column = COLUMNS.index("Architecture")
    assert [model.index(row, column).data() for row in range(2)] == ["HRM", "TRM"]
    assert model.index(1, column).data(SORT_ROLE) == "trm"
    assert model.headerData(column, Qt.Orientation.Horizontal) == "Architecture"
