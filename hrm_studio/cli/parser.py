"""The command line's shape: every subcommand, added in one table.

A new command is a module with an `add_…(sub)` function that adds its subparser to `sub` and
names its handler with `set_defaults(handler=…)` (a function of the parsed arguments that
returns the exit code), plus one line in COMMAND_GROUPS. Handlers import the heavy parts
(torch, Qt) themselves, so `--help`, `--version` and completion stay fast.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

from hrm_studio import __version__
from hrm_studio.cli.args import UserParser
from hrm_studio.cli.dataset_commands import add_dataset_commands
from hrm_studio.cli.eval_command import add_eval_command
from hrm_studio.cli.file_commands import add_file_commands
from hrm_studio.cli.gui_command import add_gui_args, add_gui_command, cmd_gui
from hrm_studio.cli.help_commands import add_help_commands
from hrm_studio.cli.tensorboard_command import add_tensorboard_command
from hrm_studio.cli.train_commands import add_training_commands

# In the order `--help` lists them.
COMMAND_GROUPS: tuple[Callable[[Any], None], ...] = (
    add_gui_command,          # gui (and the window's options)
    add_training_commands,    # train, sweep
    add_eval_command,         # eval
    add_file_commands,        # export, report
    add_dataset_commands,     # dataset build (and the other dataset writers)
    add_tensorboard_command,  # export-tensorboard
    add_help_commands,        # presets, completion
)


class CommandParser(UserParser):
    """The top-level parser; `commands` are its subcommands by name (for `hrm-studio PATH…`)."""

    commands: dict[str, argparse.ArgumentParser]


def build_parser() -> CommandParser:
    parser = CommandParser(prog="hrm-studio", description="Train and inspect Hierarchical Reasoning Models on a "
                           "CPU. 'hrm-studio PATH…' opens run folders or checkpoints in the window.")
    parser.add_argument("--version", action="version", version=f"hrm-studio {__version__}")
    add_gui_args(parser, None)
    sub = parser.add_subparsers(dest="command", parser_class=UserParser, metavar="COMMAND")
    for add in COMMAND_GROUPS:
        add(sub)
    parser.commands = dict(sub.choices)
    # No command: the window. Every handler can reach the whole parser (completion prints it).
    parser.set_defaults(handler=cmd_gui, parser=parser)
    return parser
