"""Tail a run's epoch log (one JSON line per epoch) while another process (a headless `hrm-studio train`) writes it.

Why a byte offset: re-reading the whole file every poll grows with the run; remembering
where the last complete line ended costs one `seek` and reads only what is new. The writer
appends whole lines, but a reader can still catch one half-written (the write is not
atomic for a reader), so a last line without its newline is left for the next poll.

The writer rewrites the file (atomically, as a new file) when a run is resumed from an
earlier epoch; a file that got shorter or was replaced starts the reading over, and the
poll says so (`reset`), so the reader drops what it had drawn.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hrm_studio.runstore.keys import RunState
from hrm_studio.runstore.run_dir import RunDir, read_metrics_lines


@dataclass(frozen=True)
class FollowUpdate:
    """What one poll found: new epoch rows, whether to start over, and the run's state now."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    reset: bool = False          # the file was rewritten: `rows` is the whole history
    state: RunState = RunState.RUNNING

    @property
    def running(self) -> bool:
        return self.state == RunState.RUNNING


class MetricsFollower:
    """Complete new lines of one epoch log, each line handed out once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self._identity: tuple[int, int] | None = None
        self._partial = b""

    def read_new(self) -> tuple[list[dict[str, Any]], bool]:
        """(rows completed since the last call, whether the file was rewritten and read from its start)."""
        try:
            stat = os.stat(self.path)
        except OSError:
            return [], False
        identity = (stat.st_dev, stat.st_ino)
        reset = False
        if self._identity is not None and (identity != self._identity or stat.st_size < self.offset):
            self.offset, self._partial, reset = 0, b"", True
        self._identity = identity
        if stat.st_size == self.offset:
            return [], reset
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except OSError:
            return [], reset
        self.offset += len(data)
        data = self._partial + data
        complete, newline, rest = data.rpartition(b"\n")
        if not newline:            # no line ended yet: keep it all for later
            self._partial = data
            return [], reset
        self._partial = rest
        return _parse(complete), reset


def _parse(block: bytes) -> list[dict[str, Any]]:
    """Rows of complete lines (the caller cut the block at its last newline)."""
    return read_metrics_lines(block.decode("utf-8", errors="replace") + "\n")


class RunFollower:
    """A run folder being written elsewhere: new epochs and its state, one `poll()` at a time."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.metrics = MetricsFollower(RunDir(self.run_dir).metrics_path)

    def poll(self) -> FollowUpdate:
        # The state is read first: a run that finished between the two reads still has its
        # last line read below, so nothing is lost when the caller stops after this poll.
        state = RunDir(self.run_dir).state()
        rows, reset = self.metrics.read_new()
        return FollowUpdate(rows=rows, reset=reset, state=state)
