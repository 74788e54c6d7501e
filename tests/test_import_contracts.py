"""The import contracts in pyproject.toml catch what they promise to.

`make test` runs `lint-imports` on the real tree; here each contract is broken on purpose in a
scratch copy of the package, so a contract that no longer bites (a typo in a module name, a
dropped line) fails this test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

BAD_IMPORTS = {
    "The core never imports Qt": ("hrm_studio/evaluation/metrics.py", "from PySide6 import QtCore\n"),
    "The core never imports the window": ("hrm_studio/runs/discovery.py", "import hrm_studio.gui.widgets.theme\n"),
    "The run store imports neither torch nor Qt": ("hrm_studio/runstore/keys.py", "import torch\n"),
    "The window imports no torch itself": ("hrm_studio/gui/widgets/theme.py",
                                           "def _late():\n    import torch\n"),
}


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True,
                          timeout=300, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scratch")
    shutil.copytree(ROOT / "hrm_studio", root / "hrm_studio",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.mark.parametrize("contract", sorted(BAD_IMPORTS))
def test_a_deliberately_bad_import_breaks_its_contract(scratch: Path, contract: str) -> None:
    relative, line = BAD_IMPORTS[contract]
    target = scratch / relative
    original = target.read_text()
    target.write_text(original + "\n" + line)
    try:
        broken = _lint(scratch)
    finally:
        target.write_text(original)
    assert broken.returncode != 0, broken.stdout
    assert "BROKEN" in broken.stdout
    module = relative.removesuffix(".py").replace("/", ".")
    assert f"-   {module} -> " in broken.stdout, broken.stdout
