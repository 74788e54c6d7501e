"""`export-tensorboard`: existing run folders as TensorBoard event files.

Runs written with the `tensorboard` setting on already carry their events; this command is for
runs made before that, with it off, or for gathering chosen runs into one folder to compare.
"""

from __future__ import annotations

import argparse
from typing import Any

from hrm_studio.cli.args import DIRECTORY, path_argument


def add_tensorboard_command(sub: Any) -> None:
    tb = sub.add_parser("export-tensorboard", help="write run folders' histories as TensorBoard event files",
                        description="Convert each run's history into TensorBoard event files under "
                                    "DIR/<run name>/, then view them with: tensorboard --logdir DIR")
    path_argument(tb, "runs", kind=DIRECTORY, nargs="+", metavar="RUN", help="run folders to convert")
    path_argument(tb, "--out", kind=DIRECTORY, required=True, metavar="DIR",
                  help="where the event files go (one folder per run)")
    tb.set_defaults(handler=cmd_export_tensorboard)


def cmd_export_tensorboard(args: argparse.Namespace) -> int:
    from hrm_studio.runstore.tensorboard_log import export_tensorboard

    for path in export_tensorboard(args.runs, args.out):
        print(f"wrote {path}")
    print(f"view them with: tensorboard --logdir {args.out}")
    return 0
