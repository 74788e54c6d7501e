"""`hrm-studio gui [PATH…]`, and `hrm-studio PATH…` meaning the same.

Why a bare path is a command line of its own: a file manager opening a checkpoint with HRM
Studio (the desktop entry's `Exec=hrm-studio %F`) runs `hrm-studio FILE`, and a person types
`hrm-studio runs/my-run` expecting the window. argparse would call the path an invalid
choice of command, so `gui` is put in front of it before parsing.
"""

from __future__ import annotations

import argparse
import difflib
import os
from pathlib import Path
from typing import Any, Collection

from hrm_studio.cli.args import FILE, path_argument
from hrm_studio.errors import UserError

# The window's options, accepted before or after `gui`: name → add_argument keywords.
_GUI_OPTIONS: dict[str, dict[str, Any]] = {
    "--self-test": {"action": "store_true",
                    "help": "open the window, train a tiny run through it and exit 0 if every epoch reached "
                            "the plots (needs a display, or QT_QPA_PLATFORM=offscreen)"},
    "--screenshot": {"metavar": "PATH",
                     "help": "save a PNG of the window (after the self-test run, or once it has opened) and exit"},
    "--show": {"choices": ("metrics", "predictions", "runs", "inspector", "editor"), "help": "the tab to show first"},
}
# Options before a bare path that take a value: the value is not the path.
_VALUE_OPTIONS = {name for name, kw in _GUI_OPTIONS.items() if kw.get("action") != "store_true"}
_WEIGHT_SUFFIXES = (".pt", ".pth", ".safetensors", ".bin")


def add_gui_args(p: argparse.ArgumentParser, default: object) -> None:
    """Window options; accepted before or after `gui` (the subparser's copies keep the top-level
    value unless given, hence SUPPRESS there)."""
    extra = {} if default is None else {"default": default}
    for name, keywords in _GUI_OPTIONS.items():
        if name == "--screenshot":
            path_argument(p, name, kind=FILE, **keywords, **extra)
        else:
            p.add_argument(name, **keywords, **extra)


def add_gui_command(sub: Any) -> None:
    gui = sub.add_parser("gui", help="open the Studio window (the default; 'hrm-studio PATH…' opens files in it)")
    path_argument(gui, "paths", nargs="*", kind=FILE,
                  help="run folders or checkpoints to open (.pt, .safetensors, an official step_N)")
    add_gui_args(gui, argparse.SUPPRESS)
    gui.set_defaults(handler=cmd_gui)


def cmd_gui(args: argparse.Namespace) -> int:
    from hrm_studio.gui.shell.app import main as gui_main

    return gui_main(list(getattr(args, "paths", []) or []), self_test=bool(getattr(args, "self_test", False)),
                    screenshot=getattr(args, "screenshot", None), show=getattr(args, "show", None))


def bare_paths_mean_gui(argv: list[str], commands: Collection[str]) -> list[str]:
    """`argv` with `gui` put before its first argument when that is a path and not a command.

    A word that is neither a command nor an existing path is refused here in one sentence that
    names the commands (and the closest one, for a typo), instead of argparse's usage dump.
    """
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            return [*argv[:i], "gui", *argv[i:]]
        if token.startswith("-"):
            i += 2 if token in _VALUE_OPTIONS else 1
            continue
        if token in commands:
            return argv
        if os.path.lexists(token):
            return [*argv[:i], "gui", *argv[i:]]
        raise UserError(_not_a_command(token, commands))
    return argv


def _not_a_command(word: str, commands: Collection[str]) -> str:
    if _looks_like_a_path(word):
        return f"{word} does not exist; give a run folder or checkpoint that does (or 'hrm-studio --help')."
    close = difflib.get_close_matches(word, list(commands), n=1)
    guess = f" Did you mean '{close[0]}'?" if close else ""
    return (f"'{word}' is neither a command nor a file or folder.{guess} The commands are "
            f"{', '.join(commands)} ('hrm-studio COMMAND --help' for one).")


def _looks_like_a_path(word: str) -> bool:
    path = Path(word)
    return (os.sep in word or "/" in word or path.suffix.lower() in _WEIGHT_SUFFIXES
            or path.name.startswith("step_") or word.startswith(("~", ".")))
