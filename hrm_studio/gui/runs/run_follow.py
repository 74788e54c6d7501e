"""Follow a run another process is writing (a headless `hrm-studio train`): poll its folder on a timer.

Why polling: the writer appends one line per epoch and replaces its status file; a timer that
reads only the bytes added since last time (runs/follow.py) costs a stat and a small read
per second, works on every file system (network ones included, where watchers are not
told), and never waits on the writer.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from hrm_studio.runstore.follow import FollowUpdate, RunFollower

POLL_MS = 1000


class RunFollowing(QObject):
    """`updated(FollowUpdate)` per poll that found something; the first one has `reset` and the whole
    history. After an update whose state is not "running", following stops by itself."""

    updated = Signal(object)

    def __init__(self, parent: QObject | None = None, interval_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self._follower: RunFollower | None = None
        self._first = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.poll)

    @property
    def active(self) -> bool:
        return self._follower is not None

    @property
    def run_dir(self) -> Path | None:
        return self._follower.run_dir if self._follower is not None else None

    def start(self, run_dir: str | Path) -> None:
        self._follower = RunFollower(run_dir)
        self._first = True
        self.timer.start()
        self.poll()

    def stop(self) -> None:
        self.timer.stop()
        self._follower = None

    def poll(self) -> None:
        follower = self._follower
        if follower is None:
            return
        update = follower.poll()
        if self._first:
            update = FollowUpdate(update.rows, True, update.state)
            self._first = False
        if not update.running:
            self.stop()
        if update.rows or update.reset or not update.running:
            self.updated.emit(update)
