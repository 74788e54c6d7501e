"""`hrm-studio`: the desktop app with no arguments, headless subcommands otherwise.

    hrm-studio                      open the Studio window
    hrm-studio train …              train headless, one line per epoch
    hrm-studio eval CHECKPOINT …    score a checkpoint on a task or dataset folder
    hrm-studio export CHECKPOINT …  write weights as .pt, .safetensors or an official folder
    hrm-studio dataset build …      write a generated task in the official dataset layout
    hrm-studio sweep …              train a grid or random draws of settings, one run at a time
    hrm-studio report RUN_DIR       training_metrics.png, prediction_vs_groundtruth.png, report.html

A mistake in the command line or in a file is reported as one sentence and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, Callable, Sequence, TypeVar

from hrm_studio import __version__
from hrm_studio.errors import UserError
from hrm_studio.runstore.keys import HistoryKey
from hrm_studio.runstore.run_dir import RESUME_WORDS
from hrm_studio.validation import validate

T = TypeVar("T")

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130  # what a shell reports for Ctrl-C (128 + SIGINT), so `train && eval` stops


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and a one-line message (its default too, made explicit)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USER_ERROR, f"error: {message}\n")


def _add_config_args(p: argparse.ArgumentParser, *, with_task: bool = True) -> None:
    p.add_argument("--preset", help="start from a named preset (see 'hrm-studio presets')")
    p.add_argument("--config", metavar="FILE", help="a RunConfig JSON file (as a run folder keeps its settings)")
    if with_task:
        p.add_argument("--task", help="puzzle task to generate (see 'hrm-studio presets')")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="change one setting by its name, e.g. --set hidden_size=128 (repeatable)")


def _add_gui_args(p: argparse.ArgumentParser, default: object) -> None:
    """Window options; accepted before or after `gui` (the subparser's copies keep the top-level
    value unless given, hence SUPPRESS there)."""
    extra = {} if default is None else {"default": default}
    p.add_argument("--self-test", action="store_true", **extra,
                   help="open the window, train a tiny run through it and exit 0 if every epoch reached "
                        "the plots (needs a display, or QT_QPA_PLATFORM=offscreen)")
    p.add_argument("--screenshot", metavar="PATH", **extra,
                   help="save a PNG of the window (after the self-test run, or once it has opened) and exit")
    p.add_argument("--show", choices=("metrics", "predictions", "runs"), **extra,
                   help="the tab to show first")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hrm-studio", description="Train and inspect Hierarchical Reasoning Models on a CPU.")
    parser.add_argument("--version", action="version", version=f"hrm-studio {__version__}")
    _add_gui_args(parser, None)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    gui = sub.add_parser("gui", help="open the Studio window (the default)")
    gui.add_argument("paths", nargs="*", help="run folders or checkpoints to open")
    _add_gui_args(gui, argparse.SUPPRESS)
    _add_training_commands(sub)
    _add_file_commands(sub)
    sub.add_parser("presets", help="list presets, tasks and every setting")
    return parser


def _add_training_commands(sub: Any) -> None:
    """`train` and `sweep`."""
    train = sub.add_parser("train", help="train headless; one line per epoch")
    _add_config_args(train)
    train.add_argument("--out", metavar="RUN_DIR", help="run folder (default: the user data folder)")
    train.add_argument("--resume", metavar="CKPT_OR_RUN",
                       help=f"continue a Studio checkpoint, or a run folder ({RESUME_WORDS})")
    train.add_argument("--init-weights", metavar="CKPT", help="start a new run from these weights")
    train.add_argument("--quiet", action="store_true", help="print only the final summary")

    sw = sub.add_parser("sweep", help="train many runs that differ in a few settings; sweep.json / sweep.csv",
                        description="Train every combination of the values given with --grid (or N random "
                                    "draws with --random), one run at a time, into DIR/<NN>-<values>/.")
    _add_config_args(sw)
    sw.add_argument("--grid", "--vary", dest="axes", nargs="+", action="extend", default=[],
                    metavar="KEY=VALUES", help="a setting and its values, e.g. lr=1e-4,5e-4,1e-3; with "
                    "--random also a range lr=1e-4..1e-2 or optimizer=* (every choice)")
    sw.add_argument("--random", dest="draws", type=int, metavar="N", help="N random draws instead of the grid")
    sw.add_argument("--seed", dest="draw_seed", type=int, default=0, metavar="S",
                    help="seed of the random draws (each run keeps its own 'seed' setting)")
    sw.add_argument("--out", metavar="DIR", help="the sweep folder (default: a new folder in the user data folder)")


def _add_file_commands(sub: Any) -> None:
    """`eval`, `export`, `dataset` and `report`: commands over checkpoints, datasets and run folders."""
    ev = sub.add_parser("eval", help="score a checkpoint")
    ev.add_argument("checkpoint")
    _add_config_args(ev)
    ev.add_argument("--dataset", metavar="DIR", help="an official HRM dataset folder")
    ev.add_argument("--split", choices=("test", "train"), default="test")
    ev.add_argument("--limit", type=int, metavar="N", help="only the first N examples of the split")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--save-outputs", metavar="FILE.npz",
                    help="save inputs, labels, identifiers, logits and Q logits (as the official evaluate.py)")
    ev.add_argument("--batch-size", type=int, default=64)
    ev.add_argument("--save-predictions", metavar="FILE.npz",
                    help="save every segment's predictions for the prediction viewer (a PredictionSet .npz)")

    ex = sub.add_parser("export", help="export a checkpoint's weights")
    ex.add_argument("checkpoint")
    _add_config_args(ex, with_task=False)
    ex.add_argument("--format", choices=("pt", "safetensors", "hrm"), required=True)
    ex.add_argument("--out", required=True, metavar="PATH", help="file (pt, safetensors) or folder (hrm)")

    ds = sub.add_parser("dataset", help="dataset tools")
    ds_sub = ds.add_subparsers(dest="dataset_command", parser_class=_Parser, required=True)
    build = ds_sub.add_parser("build", help="write a generated task in the official folder layout")
    build.add_argument("--task", required=True)
    build.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    build.add_argument("--out", required=True, metavar="DIR")

    rep = sub.add_parser("report", help="write the run's pictures and report.html (no display needed)")
    rep.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by 'hrm-studio train' or the window")
    rep.add_argument("--out", metavar="DIR", help="where to write the report (default: RUN_DIR/report)")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "gui"
    handlers = {"gui": _cmd_gui, "train": _cmd_train, "eval": _cmd_eval, "export": _cmd_export,
                "dataset": _cmd_dataset, "presets": _cmd_presets, "sweep": _cmd_sweep, "report": _cmd_report}
    try:
        return handlers[command](args)
    except BrokenPipeError:
        return _reader_went_away()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except MemoryError:
        print("error: HRM Studio ran out of memory; lower batch_size, hidden_size or train_size and try "
              "again.", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:  # a file problem no command turned into a sentence of its own
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: could not read or write{where}: {exc.strerror or exc}.", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("error: interrupted; the run folder keeps every finished epoch (resume it with "
              "'hrm-studio train --resume RUN_FOLDER').", file=sys.stderr)
        return 130


# ----------------------------------------------------------------------------------------
# Config resolution shared by the subcommands
# ----------------------------------------------------------------------------------------

def resolve_config(args: argparse.Namespace, base: Any = None) -> Any:
    """preset / task defaults → --config file → --task → --set, validated."""
    from hrm_studio.config import RunConfig
    from hrm_studio.presets import preset_config, task_config

    task = getattr(args, "task", None)
    if base is not None:
        config = base
        if args.preset:
            config = RunConfig.from_dict(config.to_dict(), base=preset_config(args.preset))
    elif args.preset:
        config = preset_config(args.preset)
    elif task:
        config = task_config(task)
    else:
        config = RunConfig()
    if args.config:
        config = RunConfig.from_json_file(args.config, base=config)
    if task:
        config.set("task", task)
        config.set("dataset_dir", "")
    config.apply_overrides(args.overrides)
    return validate(config)


def _cmd_presets(args: argparse.Namespace) -> int:
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


def _cmd_gui(args: argparse.Namespace) -> int:
    from hrm_studio.gui.shell.app import main as gui_main

    return gui_main(list(getattr(args, "paths", []) or []), self_test=bool(getattr(args, "self_test", False)),
                    screenshot=getattr(args, "screenshot", None), show=getattr(args, "show", None))


# ----------------------------------------------------------------------------------------
# train
# ----------------------------------------------------------------------------------------

def _pct(value: Any) -> str:
    return "  –  " if value is None else f"{100 * value:5.1f}%"


def format_epoch(row: dict[str, Any], epochs: int) -> str:
    """One readable line per epoch."""
    k = HistoryKey
    parts = [f"epoch {row[k.EPOCH]:>3}/{epochs}",
             f"loss {row[k.LOSS]:.4f}" if row.get(k.LOSS) is not None else "loss –",
             f"tok {_pct(row.get(k.TOKEN_ACCURACY))}",
             f"exact {_pct(row.get(k.EXACT))}"]
    if row.get(k.VAL_EXACT) is not None:
        parts.append(f"| held-out tok {_pct(row.get(k.VAL_TOKEN_ACCURACY))} "
                     f"exact {_pct(row.get(k.VAL_EXACT))} "
                     f"(at halt {_pct(row.get(k.VAL_EXACT_AT_HALT))})")
    parts.append(f"| lr {row[k.LEARNING_RATE]:.2e} {row[k.EPOCH_SECONDS]:.1f}s "
                 f"{row[k.SAMPLES_PER_SECOND]:.0f} samples/s")
    return "  ".join(parts)


def _reader_went_away() -> int:
    """stdout's reader closed the pipe (`hrm-studio presets | head`): what it wanted it has, so
    end quietly; stdout goes to /dev/null so that the flush at exit cannot fail once more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 0


def _stoppable(run: Callable[[], T], stop: Callable[[], None], doing: str) -> tuple[T, bool]:
    """(`run()`, whether Ctrl-C stopped it): the first Ctrl-C calls `stop()` (the work ends
    cleanly and keeps what it has), a second one aborts as usual."""
    interrupted = False

    def on_sigint(signum: int, frame: Any) -> None:
        nonlocal interrupted
        interrupted = True
        print(f"\n{doing} (Ctrl-C again to abort)…", file=sys.stderr, flush=True)
        stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        return run(), interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


def _cmd_train(args: argparse.Namespace) -> int:
    from hrm_studio.events import EpochEnd, Notice, Started
    from hrm_studio.runstore.keys import HistoryKey
    from hrm_studio.training.trainer import Trainer

    def on_event(event: Any) -> None:
        if args.quiet and not isinstance(event, Notice):
            return
        if isinstance(event, Started):
            print(f"run folder: {event.run_dir}", flush=True)
            print(f"task {event.config['data']['task']}: {event.train_size} training / {event.test_size} "
                  f"held-out puzzles, {event.num_parameters:,} parameters", flush=True)
        elif isinstance(event, EpochEnd):
            print(format_epoch(event.metrics, event.epochs), flush=True)
        elif isinstance(event, Notice):
            print(f"note: {event.message}", file=sys.stderr, flush=True)

    if args.resume:  # its stored settings, changed by --preset / --config / --set; into its own run folder
        trainer = Trainer.resuming(args.resume, on_event, settings=lambda stored: resolve_config(args, stored),
                                   run_dir=args.out)
    else:
        trainer = Trainer(resolve_config(args), args.out, on_event)
    if args.init_weights:
        trainer.load_weights(args.init_weights)

    result, interrupted = _stoppable(trainer.fit, trainer.stop, "stopping after this step")
    last = result.history[-1] if result.history else {}
    print(f"finished ({result.reason}) after {len(result.history)} epochs; held-out exact match "
          f"{_pct(last.get(HistoryKey.VAL_EXACT))}; run folder {result.run_dir}", flush=True)
    return EXIT_INTERRUPTED if interrupted else 0


# ----------------------------------------------------------------------------------------
# sweep
# ----------------------------------------------------------------------------------------

def _cmd_sweep(args: argparse.Namespace) -> int:
    from hrm_studio.costs import format_duration
    from hrm_studio.presets import preset_sweep
    from hrm_studio.events import Started
    from hrm_studio.runstore.run_dir import default_runs_root
    from hrm_studio.training.sweep import (FINISHED, PENDING, RUNNING, RowChanged, RunEvent, Sweep, SweepSpec,
                                           default_sweep_name, describe, format_table)

    config = resolve_config(args)
    axes = args.axes or (preset_sweep(args.preset) if args.preset else [])
    if not axes:
        raise UserError("Say what to vary, e.g. --grid lr=1e-4,1e-3 hidden_size=64,128 (or --preset seed-grid).")
    spec = SweepSpec.parse(config, axes, draws=args.draws, seed=args.draw_seed)
    out = Path(args.out) if args.out else default_runs_root() / default_sweep_name(config.data.task)

    def on_event(event: Any) -> None:
        if isinstance(event, RunEvent) and isinstance(event.event, Started):
            print(f"run {event.index}/{event.total}: {event.event.run_dir}", flush=True)
        elif isinstance(event, RowChanged) and event.row.status not in (PENDING, RUNNING):
            r = event.row
            exact = "–" if r.best_exact is None else f"{100 * r.best_exact:.1f}%"
            detail = f": {r.error}" if r.error else ""
            print(f"run {r.index}/{total} {r.status} ({describe(r.values)}): best held-out exact {exact}, "
                  f"epochs {r.epochs_done}, {format_duration(r.wall_seconds)}{detail}", flush=True)

    sweep = Sweep(spec, out, on_event)
    total = len(sweep.rows)
    print(f"sweep of {total} runs into {out}; about {format_duration(sweep.estimate_seconds)} "
          f"(a rough estimate from the settings; runs that solve early take less)", flush=True)

    rows, interrupted = _stoppable(sweep.run, sweep.stop, "stopping the current run and skipping the rest")
    print(format_table(rows, spec.names), flush=True)
    done = sum(r.status == FINISHED for r in rows)
    print(f"{done} of {total} runs finished; summary in {out / 'sweep.json'} and {out / 'sweep.csv'}", flush=True)
    return EXIT_INTERRUPTED if interrupted else 0


# ----------------------------------------------------------------------------------------
# eval / export
# ----------------------------------------------------------------------------------------

def _config_for_weights(args: argparse.Namespace, loaded: Any) -> Any:
    """Settings for a checkpoint: what came with it, then --preset / --config / --set on top."""
    from hrm_studio.config import RunConfig
    from hrm_studio.presets import preset_config

    base = preset_config(args.preset) if args.preset else RunConfig()
    if loaded.config:
        base = RunConfig.from_dict(loaded.config, base=base)
    if args.config:
        base = RunConfig.from_json_file(args.config, base=base)
    if getattr(args, "task", None):
        base.set("task", args.task)
        base.set("dataset_dir", "")
    if getattr(args, "dataset", None):
        base.set("dataset_dir", args.dataset)
    base.apply_overrides(args.overrides)
    return validate(base)


def _cmd_eval(args: argparse.Namespace) -> int:
    from hrm_studio.training import checkpoint as ckpt
    from hrm_studio.training.checkpoint_scoring import score_weights

    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1.")
    if args.batch_size < 1:
        raise UserError("--batch-size must be at least 1.")
    loaded = ckpt.read_weights(args.checkpoint)
    if not (args.task or args.dataset or args.preset or args.config or loaded.source == "studio" or
            (loaded.config and (loaded.config.get("data") or {}).get("task"))):
        raise UserError(f"{args.checkpoint} does not say which puzzles it was trained on; add --task NAME "
                        f"or --dataset DIR (or --preset NAME for the seed's weights).")
    config = _config_for_weights(args, loaded)
    ps, metrics = score_weights(loaded, config, args.split, limit=args.limit, batch_size=args.batch_size,
                                keep_logits=bool(args.save_outputs))
    official = {k.split("/", 1)[1]: v for k, v in metrics.items() if k.startswith("official/")}
    ours = {k: v for k, v in metrics.items() if not k.startswith("official/")}
    if args.save_outputs:
        _save_outputs(Path(args.save_outputs), ps.puzzles, ps.predictions)
    if args.save_predictions:
        try:
            ps.save(args.save_predictions)
        except OSError as exc:
            raise UserError(f"Could not write {args.save_predictions}: {exc.strerror or exc}.") from None
    if args.json:
        print(json.dumps({"checkpoint": str(args.checkpoint), "split": args.split, "puzzles": len(ps),
                          "official": official, **ours}, indent=2))
        return 0
    print(f"{args.checkpoint} on {len(ps)} {args.split} puzzles "
          f"({config.data.dataset_dir or config.data.task}):")
    print(f"  token accuracy  {_pct(ours['token_accuracy'])}")
    print(f"  exact match     {_pct(ours['exact_match_accuracy'])} after all {ps.steps} segments, "
          f"{_pct(ours['exact_match_at_halt'])} where the model halts (mean {ours['mean_act_steps']:.2f} segments)")
    print(f"  q-halt accuracy {_pct(ours['q_halt_accuracy'])}   loss {ours['loss']:.4f}")
    for pattern in dict.fromkeys(str(p) for p in ps.puzzles.patterns):
        print(f"  {pattern:14}  token {_pct(ours[f'{pattern}_token_accuracy'])}  "
              f"exact {_pct(ours[f'{pattern}_accuracy'])}")
    if args.save_predictions:
        print(f"  predictions saved to {args.save_predictions}")
    return 0


def _save_outputs(path: Path, split: Any, pred: Any) -> None:
    import io

    import numpy as np

    from hrm_studio.runstore.atomic import atomic_write

    last = pred.exact.shape[1] - 1
    buffer = io.BytesIO()
    np.savez(buffer, inputs=split.inputs, labels=split.labels, puzzle_identifiers=split.puzzle_identifiers,
             logits=pred.logits, q_halt_logits=pred.q_halt[:, last], q_continue_logits=pred.q_continue[:, last])
    try:
        atomic_write(path, lambda handle: handle.write(buffer.getvalue()))
    except OSError as exc:
        raise UserError(f"Could not write {path}: {exc.strerror or exc}.") from None


def _cmd_export(args: argparse.Namespace) -> int:
    from hrm_studio.training import checkpoint as ckpt

    loaded = ckpt.read_weights(args.checkpoint)
    config = _config_for_weights(args, loaded)
    ckpt.check_config_against_weights(config, loaded.state_dict, args.checkpoint)
    step = int((loaded.payload or {}).get("global_step", 0))
    payload = {k: v for k, v in (loaded.payload or {}).items() if k not in ("format", "version")}
    written = ckpt.export_weights(loaded.state_dict, config, args.format, args.out, step=step, payload=payload)
    for path in written:
        print(f"wrote {path}")
    return 0


# ----------------------------------------------------------------------------------------
# dataset build
# ----------------------------------------------------------------------------------------

def _cmd_dataset(args: argparse.Namespace) -> int:
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
# report
# ----------------------------------------------------------------------------------------

def _cmd_report(args: argparse.Namespace) -> int:
    from hrm_studio.report import write_report

    report = write_report(args.run_dir, args.out)
    for path in (report.metrics_png, report.contact_png, report.html):
        if path is not None:
            print(f"wrote {path}")
    for note in report.notes:
        if not note.startswith("Predictions:"):
            print(f"note: {note}", file=sys.stderr)
    return 0
