"""The training core must import without Qt: the CLI runs where no display library exists."""

from __future__ import annotations

import subprocess
import sys

BLOCK_QT = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'):
            raise ImportError('Qt is blocked in this test: ' + name)
sys.meta_path.insert(0, Block())
import hrm_studio.config, hrm_studio.cli, hrm_studio.presets
import hrm_studio.model, hrm_studio.data, hrm_studio.training.trainer, hrm_studio.training.checkpoint
import hrm_studio.evaluation.predict, hrm_studio.training.sweep
import hrm_studio.analysis.timeline, hrm_studio.analysis.attention, hrm_studio.analysis.curve
import hrm_studio.analysis.report_curve
from hrm_studio.cli import main
assert main(['presets']) == 0
print('QT-FREE OK')
"""


def test_core_and_cli_import_without_qt():
    done = subprocess.run([sys.executable, "-c", BLOCK_QT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "QT-FREE OK" in done.stdout
