"""`eval --protocol arc`: pass@k over an ARC test split, in both upstream scorings.

The model's last-segment tokens and q_halt logits for every augmented test example go through
evaluation/arc (crop, undo the augmentation, vote, rank); this module prints the result and,
with --save-official-preds, writes the official predictions file so the upstream notebook can
score the same predictions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from hrm_studio.cli.eval_segments import print_segments, segment_json
from hrm_studio.cli.output import pct

TEXT_KS = (1, 2, 10)
MOST_TASK_LINES = 20
SCORINGS = (("per test input (ARC Prize, TRM)", ""), ("all test inputs of a task (HRM notebook)", "_all_tests"))


def report_arc(args: argparse.Namespace, checkpoint: Path, config: Any, ps: Any, trained: int) -> None:
    """Score the PredictionSet `ps` of the test split with the ARC protocol and print it."""
    from hrm_studio.evaluation.arc.split_scoring import arc_answers, check_arc_split, score_arc_split

    dataset = config.data.dataset_dir
    check_arc_split(ps.puzzles, dataset)
    names = ps.task["identifier_names"]
    answers = arc_answers(dataset, ps.puzzles, names)
    score = score_arc_split(ps.puzzles, ps.predictions, names, answers, only_tasks_seen=not ps.complete)
    saved = _save_official_preds(args.save_official_preds, ps) if args.save_official_preds else None
    result = score.to_json()
    if args.json:
        tasks = result.pop("tasks")
        print(json.dumps({**result, "checkpoint": str(checkpoint), "dataset": dataset, "protocol": "arc",
                          "examples": len(ps), "segments": ps.steps, **segment_json(args, ps, trained),
                          "official_preds": str(saved) if saved else None, "tasks": tasks}, indent=2))
        return
    partial = "" if ps.complete else " (--limit: only the tasks these examples belong to)"
    print(f"{checkpoint} on {dataset} with the ARC protocol: {result['num_tasks']} tasks{partial}, "
          f"{result['num_test_inputs']} test inputs, {len(ps)} augmented test examples")
    print(f"  each example's answer after segment {ps.steps} is a vote; ranked by (votes, mean sigmoid(q_halt))")
    width = max(len(title) for title, _ in SCORINGS)
    for title, suffix in SCORINGS:
        figures = "  ".join(f"pass@{k} {pct(result[f'pass@{k}{suffix}'])}" for k in TEXT_KS)
        print(f"  {title:<{width}}  {figures}")
    _print_tasks(result["tasks"])
    print_segments(args, ps, trained)
    if saved:
        print(f"  official predictions saved to {saved}")


def _print_tasks(tasks: dict[str, Any]) -> None:
    """One line per task (the right answer's rank per test input), or a pointer to --json when many."""
    if len(tasks) > MOST_TASK_LINES:
        print(f"  per task: add --json ({len(tasks)} tasks)")
        return
    for task_id, task in tasks.items():
        ranks = ", ".join("not voted for" if r is None else f"ranked {r}" for r in task["ranks"])
        candidates = ", ".join(str(c) for c in task["candidates"])
        print(f"  task {task_id}: right answer {ranks} (candidates {candidates}; pass@2 {pct(task['pass@2'])})")


def _save_official_preds(prefix: str, ps: Any) -> Path:
    """PREFIX_all_preds.0 from the last segment's logits and q_halt logits of every test example."""
    from hrm_studio.evaluation.arc.official_preds import OfficialPreds, write_official_preds

    pred = ps.predictions
    preds = OfficialPreds(inputs=ps.puzzles.inputs, labels=ps.puzzles.labels,
                          puzzle_identifiers=ps.puzzles.puzzle_identifiers, logits=pred.logits,
                          q_halt_logits=pred.q_halt[:, -1])
    return write_official_preds(prefix, preds)
