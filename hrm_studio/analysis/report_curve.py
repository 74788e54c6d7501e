"""The report's per-step curve: a run's newest checkpoint, run step by step over held-out puzzles.

Kept cheap on purpose (a report must not take minutes): at most `REPORT_PUZZLES` puzzles,
spread evenly over the held-out split, and the trained number of segments.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hrm_studio.analysis.curve import step_curve
from hrm_studio.analysis.trace import StepCurve
from hrm_studio.errors import UserError
from hrm_studio.render.step_curves import save_step_curve_chart
from hrm_studio.runstore.run_dir import RunDir

__all__ = ["REPORT_PUZZLES", "held_out_step_curve", "write_step_curve"]

REPORT_PUZZLES = 64


def held_out_step_curve(checkpoint: str | Path, *, limit: int = REPORT_PUZZLES) -> StepCurve:
    """The step curve of `checkpoint` on up to `limit` held-out puzzles (UserError when it cannot load)."""
    from hrm_studio.training import checkpoint as ckpt
    from hrm_studio.training.checkpoint_scoring import config_from_weights
    from hrm_studio.training.model_loading import load_model

    config = config_from_weights(ckpt.read_weights(checkpoint))
    loaded = load_model(checkpoint, config)
    held_out = loaded.data.test
    if len(held_out) == 0:
        raise UserError("the run has no held-out puzzles")
    index = np.unique(np.linspace(0, len(held_out) - 1, min(limit, len(held_out))).round().astype(int))
    return step_curve(loaded.head.model, held_out.subset(index), segments=config.model.halt_max_steps)


def write_step_curve(run: RunDir, path: Path) -> tuple[Path | None, str]:
    """Draw the newest checkpoint's step curve to `path`: (the picture, or None when there is none to
    draw, and a sentence for the page). OSError when the picture cannot be written."""
    checkpoint = run.existing_checkpoint()
    if checkpoint is None:
        return None, "No per-step curve: the run folder has no checkpoint to run step by step."
    try:
        curve = held_out_step_curve(checkpoint)
    except UserError as exc:
        return None, f"No per-step curve: running {checkpoint.name} step by step failed ({exc})."
    save_step_curve_chart(curve.exact, curve.token_accuracy, curve.steps_per_segment, path, count=curve.count)
    critical = curve.critical_step()
    where = (f"exact match jumps most at update {critical + 1} (segment {critical // curve.steps_per_segment + 1})"
             if critical is not None else "exact match never rises from one update to the next")
    return path, (f"{curve.count} held-out puzzles run by {checkpoint.name}, {curve.steps_per_segment} high-level "
                  f"updates per segment: {where}; {100 * curve.exact[-1]:.1f} % exactly right after the last.")
