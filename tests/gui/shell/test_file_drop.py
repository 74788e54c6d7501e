"""Files and folders dropped on the window open as `hrm-studio gui PATH…` opens them; other drags are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from hrm_studio.runstore.keys import CheckpointKind
from hrm_studio.runstore.run_dir import RunDir
from hrm_studio.training.trainer import Trainer
from tests.gui.conftest import RUN_TIMEOUT_MS


@pytest.fixture
def tiny_run(tiny, tmp_path) -> Path:
    """A finished one-epoch run of the shared tiny settings, outside the window's runs folder."""
    folder = tmp_path / "dropped" / "tiny-run"
    Trainer(tiny(epochs=1), folder).fit()
    return folder


def mime_of(*urls: QUrl) -> QMimeData:
    mime = QMimeData()
    mime.setUrls(list(urls))
    return mime


def drag_enter(window, mime: QMimeData) -> bool:
    event = QDragEnterEvent(QPoint(40, 40), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)
    return event.isAccepted()


def drop(window, mime: QMimeData) -> bool:
    event = QDropEvent(QPointF(40, 40), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)
    return event.isAccepted()


def test_dropping_a_checkpoint_and_a_run_folder_opens_each(qtbot, make_window, tiny_run):
    window = make_window()
    checkpoint = RunDir(tiny_run).checkpoint(CheckpointKind.FINAL)
    mime = mime_of(QUrl.fromLocalFile(str(checkpoint)), QUrl.fromLocalFile(str(tiny_run)))
    assert drag_enter(window, mime)
    opened = []
    window.opened.connect(opened.append)
    assert drop(window, mime)
    qtbot.waitUntil(lambda: len(opened) == 2, timeout=RUN_TIMEOUT_MS)
    assert opened[0].checkpoint == checkpoint and opened[0].resumable          # the checkpoint first…
    assert opened[1].run_dir == tiny_run                                         # …then the run folder, shown
    assert window.session.shows(tiny_run) and len(window.dashboard.rows()) == 1
    recent = {(Path(item["path"]), item["kind"]) for item in window.user_state.recent()}
    assert {(checkpoint.resolve(), "checkpoint"), (tiny_run.resolve(), "run")} <= recent
    assert window.banner.text == ""


def test_drags_without_local_files_are_refused(qtbot, make_window, tmp_path):
    window = make_window()
    text = QMimeData()
    text.setText(str(tmp_path))
    web = mime_of(QUrl("https://example.org/model.safetensors"))
    mixed = mime_of(QUrl.fromLocalFile(str(tmp_path)), QUrl("https://example.org/x.pt"))
    for mime in (text, web, mixed, QMimeData()):
        assert not drag_enter(window, mime)
        assert not drop(window, mime)
    assert not window.jobs.busy and window.session.opened is None
