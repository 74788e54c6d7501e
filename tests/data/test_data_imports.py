"""The data package stays numpy-only: it must import and run with torch and Qt unavailable."""

import subprocess
import sys

BLOCK_AND_RUN = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'PySide6', 'pyqtgraph', 'shiboken6'):
            raise ImportError('blocked ' + name)
sys.meta_path.insert(0, Block())
import hrm_studio.data as d
from hrm_studio.data import TaskOptions, TaskData, TaskInfo, PuzzleSet, make_task, TASKS, read_dataset, write_dataset
data = make_task(TaskOptions('copy-increment', 4, 2))
assert len(data.train) == 4
print('ok')
"""


def test_data_package_needs_neither_torch_nor_qt():
    result = subprocess.run([sys.executable, "-c", BLOCK_AND_RUN], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
