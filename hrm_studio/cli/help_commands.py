"""`presets` (what can be chosen) and `completion` (the shell's tab completion)."""

from __future__ import annotations

import argparse
from typing import Any

from hrm_studio.cli.args import DIRECTORY, FILE

SHELLS = ("bash", "zsh")


def add_help_commands(sub: Any) -> None:
    sub.add_parser("presets", help="list presets, tasks and every setting").set_defaults(handler=cmd_presets)
    comp = sub.add_parser("completion", help="print the shell completion script (bash or zsh)",
                          description="Print a completion script for hrm-studio. bash: hrm-studio completion "
                                      "bash > ~/.local/share/bash-completion/completions/hrm-studio; zsh: "
                                      "hrm-studio completion zsh > ~/.zfunc/_hrm-studio (with ~/.zfunc in fpath).")
    comp.add_argument("shell", choices=SHELLS)
    comp.set_defaults(handler=cmd_completion)


def cmd_presets(args: argparse.Namespace) -> int:
    from hrm_studio.config import all_fields
    from hrm_studio.data import TASKS
    from hrm_studio.presets import PRESETS

    print("Presets:")
    for name, spec in PRESETS.items():
        print(f"  {name:16} {spec['description']}")
    print("\nTasks:")
    for name, spec in TASKS.items():
        print(f"  {name:16} {getattr(spec, 'description', '')}")
    print("\nSettings (use --set NAME=VALUE):")
    for section, f in all_fields():
        meta = f.metadata
        extra = f" [{'|'.join(meta['choices'])}]" if meta.get("choices") else ""
        print(f"  {f.name:26} {section:6} default {f.default!r:24} {meta['help']}{extra}")
    return 0


def cmd_completion(args: argparse.Namespace) -> int:
    """The script shtab makes from the whole parser (`args.parser`), file and folder arguments marked."""
    import shtab  # only this command needs it

    hints = {FILE: shtab.FILE, DIRECTORY: shtab.DIRECTORY}
    _mark_paths(args.parser, hints)
    print(shtab.complete(args.parser, shell=args.shell))
    return 0


def _mark_paths(parser: argparse.ArgumentParser, hints: dict[str, Any]) -> None:
    """Give every argument that names a file or folder (args.path_argument) shtab's hint, in every subcommand."""
    for action in parser._actions:  # argparse keeps no public list; shtab reads the same one
        kind = getattr(action, "path_kind", None)
        if kind in hints:
            setattr(action, "complete", hints[kind])
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                _mark_paths(child, hints)
