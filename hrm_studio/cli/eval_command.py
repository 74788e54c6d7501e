"""`eval`: score a checkpoint on a split, example by example or with the ARC protocol.

`--protocol examples` (the default) scores every example on its own: token accuracy, exact match
after all segments and where the model halts. `--protocol arc` votes over the augmentations of
each ARC task and reports pass@k (eval_arc.py). `--segments N` runs N ACT segments, also beyond
the trained halt_max_steps, and reports accuracy after each.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from hrm_studio.cli.args import DIRECTORY, FILE, add_config_args, path_argument
from hrm_studio.cli.eval_difficulty import difficulty_json, print_difficulty
from hrm_studio.cli.eval_segments import print_segments, segment_json
from hrm_studio.cli.output import pct
from hrm_studio.cli.progress import ProgressLine
from hrm_studio.errors import UserError

WEIGHTS_HELP = "a checkpoint (.pt, .safetensors, official step_N) or a run folder"
PROTOCOLS = ("examples", "arc")


def add_eval_command(sub: Any) -> None:
    ev = sub.add_parser("eval", help="score a checkpoint, or a run folder's best checkpoint")
    path_argument(ev, "checkpoint", kind=FILE, help=f"{WEIGHTS_HELP} (its best.pt, else final.pt, else last.pt)")
    add_config_args(ev)
    path_argument(ev, "--dataset", kind=DIRECTORY, metavar="DIR", help="an official HRM dataset folder")
    ev.add_argument("--split", choices=("test", "train"), default="test")
    ev.add_argument("--limit", type=int, metavar="N", help="only the first N examples of the split")
    ev.add_argument("--protocol", choices=PROTOCOLS, default="examples",
                    help="examples: each example scored on its own (default); arc: every augmentation of each "
                         "ARC test input votes, pass@k as the ARC papers report it (needs --dataset from "
                         "'hrm-studio dataset arc' or the official build)")
    ev.add_argument("--segments", type=int, metavar="N",
                    help="run N ACT segments (also more than the model was trained with) and report accuracy "
                         "after each")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    path_argument(ev, "--save-outputs", kind=FILE, metavar="FILE.npz",
                  help="save inputs, labels, identifiers, logits and Q logits (as the official evaluate.py)")
    path_argument(ev, "--save-official-preds", kind=FILE, metavar="PREFIX",
                  help="with --protocol arc: write PREFIX_all_preds.0, the file the official arc_eval notebook "
                       "scores")
    ev.add_argument("--batch-size", type=int, default=64)
    path_argument(ev, "--save-predictions", kind=FILE, metavar="FILE.npz",
                  help="save every segment's predictions for the prediction viewer (a PredictionSet .npz)")
    ev.set_defaults(handler=cmd_eval)


def _check_eval_args(args: argparse.Namespace, loaded: Any, checkpoint: Path) -> None:
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1.")
    if args.batch_size < 1:
        raise UserError("--batch-size must be at least 1.")
    if not (args.task or args.dataset or args.preset or args.config or loaded.source == "studio" or
            (loaded.config and (loaded.config.get("data") or {}).get("task"))):
        raise UserError(f"{checkpoint} does not say which puzzles it was trained on; add --task NAME "
                        f"or --dataset DIR (or --preset NAME for the seed's weights).")
    if args.save_official_preds and args.protocol != "arc":
        raise UserError("--save-official-preds writes the official ARC predictions file; add --protocol arc.")


def _check_arc_args(args: argparse.Namespace, config: Any) -> None:
    if args.split != "test":
        raise UserError("--protocol arc scores the test split (the evaluation tasks' test inputs); "
                        "leave out --split train.")
    if not config.data.dataset_dir:
        raise UserError("--protocol arc needs an ARC data set; add --dataset DIR (build one with "
                        "'hrm-studio dataset arc').")


def cmd_eval(args: argparse.Namespace) -> int:
    from hrm_studio.cli.settings import config_for_weights
    from hrm_studio.runstore.keys import CheckpointKind
    from hrm_studio.runstore.run_dir import resolve_evaluation
    from hrm_studio.training import checkpoint as ckpt
    from hrm_studio.training.checkpoint_scoring import score_weights, with_segments

    checkpoint = resolve_evaluation(args.checkpoint)
    if checkpoint != Path(args.checkpoint):  # a run folder: say which of its checkpoints (stderr keeps --json clean)
        fallback = "" if checkpoint.stem == CheckpointKind.BEST else " (it has no best one)"
        print(f"{args.checkpoint} is a run folder: scoring its {checkpoint.stem} checkpoint{fallback}, {checkpoint}",
              file=sys.stderr if args.json else sys.stdout, flush=True)
    loaded = ckpt.read_weights(checkpoint)
    _check_eval_args(args, loaded, checkpoint)
    config = config_for_weights(args, loaded)
    if args.segments is not None:
        with_segments(config, args.segments)  # a bad --segments is refused before anything is built
    if args.protocol == "arc":
        _check_arc_args(args, config)
    trained = config.model.halt_max_steps
    with ProgressLine() as display:
        ps, metrics = score_weights(loaded, config, args.split, limit=args.limit, batch_size=args.batch_size,
                                    keep_logits=bool(args.save_outputs or args.save_official_preds),
                                    segments=args.segments,
                                    on_progress=lambda done, total: display.show("scoring", done, total))
    if args.save_outputs:
        _save_outputs(Path(args.save_outputs), ps.puzzles, ps.predictions)
    if args.save_predictions:
        try:
            ps.save(args.save_predictions)
        except OSError as exc:
            raise UserError(f"Could not write {args.save_predictions}: {exc.strerror or exc}.") from None
    if args.protocol == "arc":
        from hrm_studio.cli.eval_arc import report_arc

        report_arc(args, checkpoint, config, ps, trained)
    else:
        _print_scores(args, checkpoint, config, ps, metrics, trained)
    return 0


def _print_scores(args: argparse.Namespace, checkpoint: Path, config: Any, ps: Any, metrics: dict[str, Any],
                  trained: int) -> None:
    official = {k.split("/", 1)[1]: v for k, v in metrics.items() if k.startswith("official/")}
    ours = {k: v for k, v in metrics.items() if not k.startswith("official/")}
    difficulty = difficulty_json(config, args.split, ps)
    if args.json:
        print(json.dumps({"checkpoint": str(checkpoint), "split": args.split, "puzzles": len(ps),
                          "official": official, **ours, **segment_json(args, ps, trained), **difficulty},
                         indent=2))
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
    print_segments(args, ps, trained)
    print_difficulty(difficulty["difficulty"])
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
