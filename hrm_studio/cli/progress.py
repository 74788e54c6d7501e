"""A progress bar within an epoch, an evaluation or a sweep's run, shown only on a terminal.

Why tqdm: one small pure-Python package with no dependencies of its own, that redraws one
line in place and clears it on close. It is imported only when a bar is shown. When stdout
is not a terminal (a log file, a pipe, CI) nothing but the plain lines is printed, exactly
as before: no carriage returns in a log.

The bar and the lines share the terminal one at a time: `line()` takes the bar off the
screen before printing, and the next `show()` draws a new one below, so they never mix.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO


def is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or already closed
        return False


class ProgressLine:
    """One bar at a time on `stream` (stdout by default), with the command's own lines between bars.

    enabled: None = only when `stream` is a terminal; False for --quiet.
    unit:    what the bar counts ("puzzle", "task"), shown as its rate.
    """

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None, unit: str = "puzzle") -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.unit = unit
        self.enabled = is_terminal(self.stream) if enabled is None else enabled
        self._bar: Any = None
        self._label = ""

    def __enter__(self) -> "ProgressLine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()  # also on an error or Ctrl-C, so its message starts on a clean line

    def show(self, label: str, done: int, total: int, note: str = "") -> None:
        """Move the bar called `label` to `done` of `total`; another label starts a new bar."""
        if not self.enabled or total <= 0:
            return
        if self._bar is None or label != self._label or total != self._bar.total:
            self.close()
            self._bar = self._new_bar(label, total)
            self._label = label
        self._bar.update(max(0, min(done, total) - self._bar.n))
        if note:
            self._bar.set_postfix_str(note)  # redraws: events come a few times a second at most

    def line(self, text: str, *, error: bool = False) -> None:
        """Print a whole line (to stderr when `error`), with the bar off the screen first."""
        self.close()
        print(text, file=sys.stderr if error else self.stream, flush=True)

    def close(self) -> None:
        """Take the bar off the screen; it leaves nothing behind."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _new_bar(self, label: str, total: int) -> Any:
        from tqdm import tqdm  # only a terminal ever pays for the import

        return tqdm(total=total, desc=label, unit=self.unit, file=self.stream, leave=False, dynamic_ncols=True,
                    mininterval=0.2)
