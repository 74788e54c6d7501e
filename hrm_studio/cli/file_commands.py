"""`export` and `report`: commands over checkpoints and run folders (`eval` is eval_command.py, `dataset`
dataset_commands.py)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from hrm_studio.cli.args import DIRECTORY, FILE, add_config_args, path_argument


def add_file_commands(sub: Any) -> None:
    ex = sub.add_parser("export", help="export a checkpoint's weights")
    path_argument(ex, "checkpoint", kind=FILE, help="a checkpoint (.pt, .safetensors, official step_N)")
    add_config_args(ex, with_task=False)
    ex.add_argument("--format", choices=("pt", "safetensors", "hrm"), required=True)
    path_argument(ex, "--out", kind=FILE, required=True, metavar="PATH",
                  help="file (pt, safetensors: replaced if it exists) or folder (hrm: its other files are kept)")
    ex.set_defaults(handler=cmd_export)

    rep = sub.add_parser("report", help="write the run's pictures and report.html (no display needed)")
    path_argument(rep, "run_dir", kind=DIRECTORY, metavar="RUN_DIR",
                  help="a run folder written by 'hrm-studio train' or the window")
    path_argument(rep, "--out", kind=DIRECTORY, metavar="DIR", help="where to write the report (default: RUN_DIR/report)")
    rep.set_defaults(handler=cmd_report)


# ----------------------------------------------------------------------------------------
# export, report
# ----------------------------------------------------------------------------------------

def cmd_export(args: argparse.Namespace) -> int:
    from hrm_studio.cli.settings import config_for_weights
    from hrm_studio.training import checkpoint as ckpt

    loaded = ckpt.read_weights(args.checkpoint)
    config = config_for_weights(args, loaded)
    ckpt.check_config_against_weights(config, loaded.state_dict, args.checkpoint)
    step = int((loaded.payload or {}).get("global_step", 0))
    payload = {k: v for k, v in (loaded.payload or {}).items() if k not in ("format", "version")}
    written = ckpt.export_weights(loaded.state_dict, config, args.format, args.out, step=step, payload=payload)
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from hrm_studio.report import write_report

    report = write_report(args.run_dir, args.out)
    for path in (report.metrics_png, report.contact_png, report.step_curve_png, report.html):
        if path is not None:
            print(f"wrote {path}")
    for note in report.notes:
        if not note.startswith("Predictions:"):
            print(f"note: {note}", file=sys.stderr)
    if report.step_curve_png is None and report.step_curve_note:
        print(f"note: {report.step_curve_note}", file=sys.stderr)
    return 0
