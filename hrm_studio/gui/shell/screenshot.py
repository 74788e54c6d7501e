"""Save a picture of the window once it has painted and any file it was opening is shown."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from hrm_studio.errors import UserError

LAYOUT_PASSES = 4  # nested layouts (dock, group box, label) settle within this many event passes


def save_window(window: QWidget, path: Path) -> Path:
    """QWidget.grab() renders at the screen's device pixel ratio. Pending layout passes run first:
    a label that just got longer text re-lays its parents one level per pass, and a grab between
    passes pictures a state nobody sees (a wrapped line cut off)."""
    for _ in range(LAYOUT_PASSES):
        QApplication.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path), "PNG"):
        raise UserError(f"Could not write the screenshot {path}.")
    return path


def save_when_idle(window: QWidget, path: Path, *, then_quit: bool = False, poll_ms: int = 100) -> None:
    """Wait until background jobs (opening a checkpoint) are done, then save `path`."""
    timer = QTimer(window)

    def check() -> None:
        jobs = getattr(window, "jobs", None)
        if jobs is not None and jobs.busy:
            return
        timer.stop()
        try:
            save_window(window, path)
            print(f"saved {path}", flush=True)
        except UserError as exc:
            print(f"error: {exc}", flush=True)
        if then_quit:
            QApplication.instance().quit()

    timer.timeout.connect(check)
    timer.start(poll_ms)
