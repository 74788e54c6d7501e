"""`eval --segments N`: accuracy after each ACT segment, for both protocols (eval_command, eval_arc)."""

from __future__ import annotations

import argparse
from typing import Any

from hrm_studio.cli.output import pct


def segment_json(args: argparse.Namespace, ps: Any, trained: int) -> dict[str, Any]:
    """With --segments: accuracy after each segment, and how many the model was trained with."""
    from hrm_studio.evaluation.metrics import accuracy_by_segment

    if args.segments is None:
        return {}
    return {"trained_segments": trained, "by_segment": accuracy_by_segment(ps.predictions)}


def print_segments(args: argparse.Namespace, ps: Any, trained: int) -> None:
    """With --segments: one line per segment, the ones past the trained limit marked."""
    rows = segment_json(args, ps, trained).get("by_segment", [])
    if not rows:
        return
    print(f"  by segment (the model was trained to think for at most {trained}):")
    for row in rows:
        extra = "  (beyond training)" if row["segment"] > trained else ""
        print(f"    segment {row['segment']:>2}  token {pct(row['token_accuracy'])}  "
              f"exact {pct(row['exact_match_accuracy'])}{extra}")
