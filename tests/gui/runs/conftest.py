"""The system trash of the Runs tab's Delete…, kept inside the test's tmp folder."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def trash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The freedesktop.org home trash ($XDG_DATA_HOME/Trash) under tmp_path. HOME moves there too: Qt uses
    the home trash only for files on the same disk as HOME (else a .Trash-<uid> at that disk's root)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return tmp_path / "xdg-data" / "Trash"
