"""The parser class, exit codes and the argument groups several commands share."""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130  # what a shell reports for Ctrl-C (128 + SIGINT), so `train && eval` stops

# What shell completion offers for an argument that names a file or folder (see completion.py).
FILE, DIRECTORY = "file", "directory"


class UserParser(argparse.ArgumentParser):
    """argparse that exits with code 2 and a one-line message (its default too, made explicit)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USER_ERROR, f"error: {message}\n")


def path_argument(parser: argparse.ArgumentParser, *names: str, kind: str = FILE, **kwargs: Any) -> argparse.Action:
    """An argument that names a file (`FILE`) or a folder (`DIRECTORY`); the kind is kept on the
    action for shell completion, which is built only when asked for (shtab is imported there)."""
    action = parser.add_argument(*names, **kwargs)
    setattr(action, "path_kind", kind)
    return action


def add_config_args(p: argparse.ArgumentParser, *, with_task: bool = True) -> None:
    p.add_argument("--preset", help="start from a named preset (see 'hrm-studio presets')")
    path_argument(p, "--config", metavar="FILE",
                  help="a RunConfig JSON file (as a run folder keeps its settings)")
    if with_task:
        p.add_argument("--task", help="puzzle task to generate (see 'hrm-studio presets')")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="change one setting by its name, e.g. --set hidden_size=128 (repeatable)")
