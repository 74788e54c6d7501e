"""`eval`, `export`, `dataset` and `report`: commands over checkpoints, datasets and run folders."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hrm_studio.cli.args import DIRECTORY, FILE, UserParser, add_config_args, path_argument
from hrm_studio.cli.output import pct
from hrm_studio.cli.progress import ProgressLine
from hrm_studio.errors import UserError
from hrm_studio.validation import validate

WEIGHTS_HELP = "a checkpoint (.pt, .safetensors, official step_N) or a run folder"


def add_file_commands(sub: Any) -> None:
    ev = sub.add_parser("eval", help="score a checkpoint, or a run folder's best checkpoint")
    path_argument(ev, "checkpoint", kind=FILE, help=f"{WEIGHTS_HELP} (its best.pt, else final.pt, else last.pt)")
    add_config_args(ev)
    path_argument(ev, "--dataset", kind=DIRECTORY, metavar="DIR", help="an official HRM dataset folder")
    ev.add_argument("--split", choices=("test", "train"), default="test")
    ev.add_argument("--limit", type=int, metavar="N", help="only the first N examples of the split")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    path_argument(ev, "--save-outputs", kind=FILE, metavar="FILE.npz",
                  help="save inputs, labels, identifiers, logits and Q logits (as the official evaluate.py)")
    ev.add_argument("--batch-size", type=int, default=64)
    path_argument(ev, "--save-predictions", kind=FILE, metavar="FILE.npz",
                  help="save every segment's predictions for the prediction viewer (a PredictionSet .npz)")
    ev.set_defaults(handler=cmd_eval)

    ex = sub.add_parser("export", help="export a checkpoint's weights")
    path_argument(ex, "checkpoint", kind=FILE, help="a checkpoint (.pt, .safetensors, official step_N)")
    add_config_args(ex, with_task=False)
    ex.add_argument("--format", choices=("pt", "safetensors", "hrm"), required=True)
    path_argument(ex, "--out", kind=FILE, required=True, metavar="PATH",
                  help="file (pt, safetensors: replaced if it exists) or folder (hrm: its other files are kept)")
    ex.set_defaults(handler=cmd_export)

    ds = sub.add_parser("dataset", help="dataset tools")
    ds_sub = ds.add_subparsers(dest="dataset_command", parser_class=UserParser, required=True)
    build = ds_sub.add_parser("build", help="write a generated task in the official folder layout")
    build.add_argument("--task", required=True)
    build.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    path_argument(build, "--out", kind=DIRECTORY, required=True, metavar="DIR")
    build.set_defaults(handler=cmd_dataset)

    rep = sub.add_parser("report", help="write the run's pictures and report.html (no display needed)")
    path_argument(rep, "run_dir", kind=DIRECTORY, metavar="RUN_DIR",
                  help="a run folder written by 'hrm-studio train' or the window")
    path_argument(rep, "--out", kind=DIRECTORY, metavar="DIR", help="where to write the report (default: RUN_DIR/report)")
    rep.set_defaults(handler=cmd_report)


# ----------------------------------------------------------------------------------------
# eval
# ----------------------------------------------------------------------------------------

def _check_eval_args(args: argparse.Namespace, loaded: Any, checkpoint: Path) -> None:
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1.")
    if args.batch_size < 1:
        raise UserError("--batch-size must be at least 1.")
    if not (args.task or args.dataset or args.preset or args.config or loaded.source == "studio" or
            (loaded.config and (loaded.config.get("data") or {}).get("task"))):
        raise UserError(f"{checkpoint} does not say which puzzles it was trained on; add --task NAME "
                        f"or --dataset DIR (or --preset NAME for the seed's weights).")


def cmd_eval(args: argparse.Namespace) -> int:
    from hrm_studio.cli.settings import config_for_weights
    from hrm_studio.runstore.keys import CheckpointKind
    from hrm_studio.runstore.run_dir import resolve_evaluation
    from hrm_studio.training import checkpoint as ckpt
    from hrm_studio.training.checkpoint_scoring import score_weights

    checkpoint = resolve_evaluation(args.checkpoint)
    if checkpoint != Path(args.checkpoint):  # a run folder: say which of its checkpoints (stderr keeps --json clean)
        fallback = "" if checkpoint.stem == CheckpointKind.BEST else " (it has no best one)"
        print(f"{args.checkpoint} is a run folder: scoring its {checkpoint.stem} checkpoint{fallback}, {checkpoint}",
              file=sys.stderr if args.json else sys.stdout, flush=True)
    loaded = ckpt.read_weights(checkpoint)
    _check_eval_args(args, loaded, checkpoint)
    config = config_for_weights(args, loaded)
    with ProgressLine() as display:
        ps, metrics = score_weights(loaded, config, args.split, limit=args.limit, batch_size=args.batch_size,
                                    keep_logits=bool(args.save_outputs),
                                    on_progress=lambda done, total: display.show("scoring", done, total))
    if args.save_outputs:
        _save_outputs(Path(args.save_outputs), ps.puzzles, ps.predictions)
    if args.save_predictions:
        try:
            ps.save(args.save_predictions)
        except OSError as exc:
            raise UserError(f"Could not write {args.save_predictions}: {exc.strerror or exc}.") from None
    _print_scores(args, checkpoint, config, ps, metrics)
    return 0


def _print_scores(args: argparse.Namespace, checkpoint: Path, config: Any, ps: Any, metrics: dict[str, Any]) -> None:
    official = {k.split("/", 1)[1]: v for k, v in metrics.items() if k.startswith("official/")}
    ours = {k: v for k, v in metrics.items() if not k.startswith("official/")}
    if args.json:
        print(json.dumps({"checkpoint": str(checkpoint), "split": args.split, "puzzles": len(ps),
                          "official": official, **ours}, indent=2))
        return
    print(f"{checkpoint} on {len(ps)} {args.split} puzzles "
          f"({config.data.dataset_dir or config.data.task}):")
    print(f"  token accuracy  {pct(ours['token_accuracy'])}")
    print(f"  exact match     {pct(ours['exact_match_accuracy'])} after all {ps.steps} segments, "
          f"{pct(ours['exact_match_at_halt'])} where the model halts (mean {ours['mean_act_steps']:.2f} segments)")
    print(f"  q-halt accuracy {pct(ours['q_halt_accuracy'])}   loss {ours['loss']:.4f}")
    for pattern in dict.fromkeys(str(p) for p in ps.puzzles.patterns):
        print(f"  {pattern:14}  token {pct(ours[f'{pattern}_token_accuracy'])}  "
              f"exact {pct(ours[f'{pattern}_accuracy'])}")
    if args.save_predictions:
        print(f"  predictions saved to {args.save_predictions}")


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


# ----------------------------------------------------------------------------------------
# export, dataset build, report
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


def cmd_dataset(args: argparse.Namespace) -> int:
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


def cmd_report(args: argparse.Namespace) -> int:
    from hrm_studio.report import write_report

    report = write_report(args.run_dir, args.out)
    for path in (report.metrics_png, report.contact_png, report.html):
        if path is not None:
            print(f"wrote {path}")
    for note in report.notes:
        if not note.startswith("Predictions:"):
            print(f"note: {note}", file=sys.stderr)
    return 0
