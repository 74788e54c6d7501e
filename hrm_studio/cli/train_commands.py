"""`train` and `sweep`: headless training, one line per epoch (and a bar within it on a terminal).

An `--out` folder that already holds a run (or a sweep's results) is never written over: the
command refuses in one line, or with --overwrite moves the old one aside to `<name>.old-N`
(runstore/aside.py) and says where it went.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from hrm_studio.cli.args import DIRECTORY, EXIT_INTERRUPTED, FILE, add_config_args, path_argument
from hrm_studio.cli.output import format_epoch, pct
from hrm_studio.cli.progress import ProgressLine
from hrm_studio.cli.stopping import stoppable
from hrm_studio.errors import UserError
from hrm_studio.runstore.run_dir import RESUME_WORDS

OVERWRITE_HELP = "if --out already holds {what}, move it aside to <name>.old-N first (nothing is deleted)"


def add_training_commands(sub: Any) -> None:
    """`train` and `sweep`."""
    train = sub.add_parser("train", help="train headless; one line per epoch")
    add_config_args(train)
    path_argument(train, "--out", kind=DIRECTORY, metavar="RUN_DIR",
                  help="run folder (default: a new one in the user data folder)")
    train.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP.format(what="a run"))
    path_argument(train, "--resume", kind=FILE, metavar="CKPT_OR_RUN",
                  help=f"continue a Studio checkpoint, or a run folder ({RESUME_WORDS})")
    path_argument(train, "--init-weights", kind=FILE, metavar="CKPT",
                  help="start a new run from these weights (.pt, .safetensors, official step_N)")
    train.add_argument("--quiet", action="store_true", help="print only the final summary")
    train.add_argument("--nproc", type=int, metavar="N",
                       help="train in N processes on this machine (torch.distributed; the same as --set "
                            "processes=N); for several machines use torchrun … -m hrm_studio train")
    train.set_defaults(handler=cmd_train)

    sw = sub.add_parser("sweep", help="train many runs that differ in a few settings; sweep.json / sweep.csv",
                        description="Train every combination of the values given with --grid (or N random "
                                    "draws with --random), one run at a time, into DIR/<NN>-<values>/.")
    add_config_args(sw)
    sw.add_argument("--grid", "--vary", dest="axes", nargs="+", action="extend", default=[],
                    metavar="KEY=VALUES", help="a setting and its values, e.g. lr=1e-4,5e-4,1e-3; with "
                    "--random also a range lr=1e-4..1e-2 or optimizer=* (every choice)")
    sw.add_argument("--random", dest="draws", type=int, metavar="N", help="N random draws instead of the grid")
    sw.add_argument("--seed", dest="draw_seed", type=int, default=0, metavar="S",
                    help="seed of the random draws (each run keeps its own 'seed' setting)")
    path_argument(sw, "--out", kind=DIRECTORY, metavar="DIR",
                  help="the sweep folder (default: a new folder in the user data folder)")
    sw.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP.format(what="a sweep"))
    sw.set_defaults(handler=cmd_sweep)


# ----------------------------------------------------------------------------------------
# train
# ----------------------------------------------------------------------------------------

def _train_printer(display: ProgressLine, quiet: bool) -> Any:
    """The Trainer's event callback: the run's header, a bar within each epoch, a line after it."""
    from hrm_studio.events import EpochEnd, Notice, Progress, Started

    def on_event(event: Any) -> None:
        if quiet and not isinstance(event, Notice):
            return
        if isinstance(event, Started):
            display.line(f"run folder: {event.run_dir}")
            data = event.config["data"]
            what = f"data set {data['dataset_dir']}" if data.get("dataset_dir") else f"task {data['task']}"
            display.line(f"{what}: {event.train_size} training / {event.test_size} "
                         f"held-out puzzles, {event.num_parameters:,} parameters" +
                         (f", on {event.device}" if event.device else ""))
        elif isinstance(event, Progress):
            display.show(f"epoch {event.epoch}/{event.epochs}", event.puzzles_done, event.puzzles_total,
                         f"{event.samples_per_second:.0f} samples/s")
        elif isinstance(event, EpochEnd):
            display.line(format_epoch(event.metrics, event.epochs))
        elif isinstance(event, Notice):
            display.line(f"note: {event.message}", error=True)
    return on_event


def _same_folder(resume: str, out: Path) -> bool:
    """Whether `--resume` goes on in `out` itself (its own run folder), which is not overwriting it."""
    from hrm_studio.runstore.run_dir import RunDir, resolve_resume

    run = RunDir.writing_checkpoint(resolve_resume(resume))
    return run is not None and run.path == out.resolve()


def make_room_for_run(out: str | None, *, resume: str | None, overwrite: bool) -> None:
    """Refuse `--out` onto a folder that holds a run (any state), unless it is the run being resumed;
    with --overwrite move the old run aside instead, and say where it went."""
    from hrm_studio.runstore.aside import move_aside
    from hrm_studio.runstore.run_dir import RunDir

    if out is None or not RunDir(Path(out)).holds_results():
        return
    target = Path(out)
    if resume is not None and _same_folder(resume, target):
        return
    if not overwrite:
        raise UserError(f"{target} already holds a run; continue it with '--resume {target}', choose another "
                        f"--out, or add --overwrite to move it aside (to {target.name}.old-N) and start afresh.")
    moved = move_aside(target)
    print(f"moved the old run in {target} aside to {moved}", flush=True)


def worker_args(args: argparse.Namespace, out: Path | None) -> list[str]:
    """The `train` command line each process of a `--nproc` run gets (into the folder `out`)."""
    words = ["train"]
    for flag, value in (("--preset", args.preset), ("--config", args.config), ("--task", args.task),
                        ("--resume", args.resume), ("--init-weights", args.init_weights)):
        words += [flag, str(value)] if value else []
    for item in args.overrides:
        words += ["--set", item]
    words += ["--out", str(out)] if out is not None else []
    return words + [flag for flag, on in (("--overwrite", args.overwrite), ("--quiet", args.quiet)) if on]


def launch_processes(args: argparse.Namespace, config: Any) -> int:
    """`train --nproc N` (processes = N): N local processes through torch.distributed.run, into one
    run folder chosen here (so a failure can say which folder to resume)."""
    from hrm_studio.runstore.run_dir import RunDir, claim_new_run_dir, default_runs_root, resolve_resume, run_name_stem
    from hrm_studio.training.distributed import launch

    out = Path(args.out) if args.out else None
    if out is None and args.resume:
        run = RunDir.writing_checkpoint(resolve_resume(args.resume))
        out = run.path if run is not None else None
    if out is None:
        out = claim_new_run_dir(default_runs_root(), run_name_stem(config.data.task, config.data.dataset_dir))
    return launch(config.train.processes, worker_args(args, out), out)


def _trainer_for(args: argparse.Namespace, on_event: Any) -> Any:
    """The Trainer `train`'s arguments ask for: a new run, one from given weights, or a resumed one."""
    from hrm_studio.cli.settings import resolve_config
    from hrm_studio.training.trainer import Trainer

    if args.resume:  # its stored settings, changed by --preset / --config / --set; into its own run folder
        trainer = Trainer.resuming(args.resume, on_event, settings=lambda stored: resolve_config(args, stored),
                                   run_dir=args.out)
    else:
        trainer = Trainer(resolve_config(args), args.out, on_event)
    if args.init_weights:
        trainer.load_weights(args.init_weights)
    return trainer


def _say_finished(display: ProgressLine, result: Any) -> None:
    from hrm_studio.runstore.keys import HistoryKey

    last = result.history[-1] if result.history else {}
    display.line(f"finished ({result.reason}) after {len(result.history)} epochs; held-out exact match "
                 f"{pct(last.get(HistoryKey.VAL_EXACT))}; run folder {result.run_dir}")


def cmd_train(args: argparse.Namespace) -> int:
    from hrm_studio.training.distributed import world_from_env

    rank, world, _ = world_from_env()
    if args.nproc is not None:
        args.overrides.append(f"processes={args.nproc}")
    if world > 1:  # one process of a distributed run (started by --nproc or by torchrun)
        return _train_as_rank(args, rank)
    with ProgressLine(enabled=False if args.quiet else None) as display:
        trainer = _trainer_for(args, _train_printer(display, args.quiet))
        if trainer.config.train.processes > 1:
            return launch_processes(args, trainer.config)
        make_room_for_run(args.out, resume=args.resume, overwrite=args.overwrite)  # after every check passed
        result, interrupted = stoppable(trainer.fit, trainer.stop, "stopping after this step")
        _say_finished(display, result)
    return EXIT_INTERRUPTED if interrupted else 0


def _train_as_rank(args: argparse.Namespace, rank: int) -> int:
    """One process of a distributed run (started by --nproc or torchrun). Rank 0 speaks and writes;
    the others stay silent, and a refusal is said once, by rank 0. Ctrl-C or a signal ends every
    process at once (the launcher ends the rest); the run folder keeps its last complete epoch."""
    import signal

    from hrm_studio.cli.args import EXIT_USER_ERROR
    from hrm_studio.training.distributed import PEER_LOST_EXIT, PeerLost

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    quiet = args.quiet or rank != 0
    try:
        with ProgressLine(enabled=False if quiet else None) as display:
            trainer = _trainer_for(args, _train_printer(display, quiet) if rank == 0 else None)
            if rank == 0:
                make_room_for_run(args.out, resume=args.resume, overwrite=args.overwrite)
            result = trainer.fit()
            if rank == 0:
                _say_finished(display, result)
    except PeerLost:
        return PEER_LOST_EXIT  # the launcher names the process that failed first
    except UserError:
        if rank != 0:
            return EXIT_USER_ERROR
        raise
    return 0


# ----------------------------------------------------------------------------------------
# sweep
# ----------------------------------------------------------------------------------------

def _sweep_printer(display: ProgressLine, total: list[int]) -> Any:
    """The sweep's event callback: a line when a run starts and ends, a bar within its epochs."""
    from hrm_studio.costs import format_duration
    from hrm_studio.events import Progress, Started
    from hrm_studio.training.sweep import PENDING, RUNNING, SKIPPED, RowChanged, RunEvent, describe

    def on_event(event: Any) -> None:
        if isinstance(event, RunEvent) and isinstance(event.event, Started):
            display.line(f"run {event.index}/{event.total}: {event.event.run_dir}")
        elif isinstance(event, RunEvent) and isinstance(event.event, Progress):
            p = event.event
            display.show(f"run {event.index}/{event.total} epoch {p.epoch}/{p.epochs}", p.puzzles_done,
                         p.puzzles_total, f"{p.samples_per_second:.0f} samples/s")
        elif isinstance(event, RowChanged) and event.row.status == SKIPPED:
            display.line(f"run {event.row.index}/{total[0]} skipped ({describe(event.row.values)})")
        elif isinstance(event, RowChanged) and event.row.status not in (PENDING, RUNNING):
            r = event.row
            exact = "–" if r.best_exact is None else f"{100 * r.best_exact:.1f}%"
            detail = f": {r.error}" if r.error else ""
            display.line(f"run {r.index}/{total[0]} {r.status} ({describe(r.values)}): best held-out exact "
                         f"{exact}, epochs {r.epochs_done}, {format_duration(r.wall_seconds)}{detail}")
    return on_event


def _open_sweep(spec: Any, out: Path, on_event: Any, overwrite: bool) -> Any:
    """The Sweep into `out`; a folder holding an earlier sweep's results (or a run) is refused in one
    line, or with --overwrite moved aside first."""
    from hrm_studio.runstore.aside import move_aside
    from hrm_studio.training.sweep import Sweep, SweepFolderTaken

    try:
        return Sweep(spec, out, on_event)
    except SweepFolderTaken:
        if not overwrite:
            raise UserError(f"{out} already holds a sweep's results; choose another --out, or add --overwrite "
                            f"to move it aside (to {out.name}.old-N) and start afresh.") from None
    moved = move_aside(out)
    print(f"moved the old sweep in {out} aside to {moved}", flush=True)
    return Sweep(spec, out, on_event)


def cmd_sweep(args: argparse.Namespace) -> int:
    from hrm_studio.cli.settings import resolve_config
    from hrm_studio.costs import format_duration
    from hrm_studio.presets import preset_sweep
    from hrm_studio.runstore.run_dir import default_runs_root
    from hrm_studio.training.sweep import (FINISHED, SWEEP_CSV, SWEEP_JSON, SweepSpec, best_row, default_sweep_name,
                                           format_table)

    config = resolve_config(args)
    axes = args.axes or (preset_sweep(args.preset) if args.preset else [])
    if not axes:
        raise UserError("Say what to vary, e.g. --grid lr=1e-4,1e-3 hidden_size=64,128 (or --preset seed-grid).")
    spec = SweepSpec.parse(config, axes, draws=args.draws, seed=args.draw_seed)
    out = Path(args.out) if args.out else default_runs_root() / default_sweep_name(config.data.task)
    total = [0]  # known once the sweep has made its rows
    with ProgressLine() as display:
        sweep = _open_sweep(spec, out, _sweep_printer(display, total), args.overwrite)
        total[0] = len(sweep.rows)
        display.line(f"sweep of {total[0]} runs into {out}; about {format_duration(sweep.estimate_seconds)} "
                     f"(a rough estimate from the settings; runs that solve early take less)")
        rows, interrupted = stoppable(sweep.run, sweep.stop, "stopping the current run and skipping the rest")
        display.line(format_table(rows, spec.names))
        if rows and best_row(rows) is None:
            display.line("no run scored above 0 % held-out exact — no best run to mark (*)")
        done = sum(r.status == FINISHED for r in rows)
        display.line(f"{done} of {total[0]} runs finished; summary in {out / SWEEP_JSON} and {out / SWEEP_CSV}")
    return EXIT_INTERRUPTED if interrupted else 0
