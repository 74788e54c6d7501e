"""The timeline exports: a PNG strip with one tile per step, and a GIF with one frame per step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from hrm_studio.analysis import ReasoningTrace
from hrm_studio.render.trace_exports import save_timeline_gif, save_timeline_png, timeline_strip

TASK = {"task": "copy", "grid_shape": [2, 2], "vocab_labels": ["PAD", "EOS"] + [str(c) for c in range(10)],
        "display": "colour"}
INPUTS = np.array([2, 3, 4, 5])


def trace_of(segments: int) -> ReasoningTrace:
    steps = 2 * segments
    answers = np.tile(INPUTS, (steps, 1))
    answers[0, 1] = 9
    changed = np.zeros_like(answers, bool)
    changed[1:] = answers[1:] != answers[:-1]
    correct = (answers == INPUTS).all(axis=1)
    return ReasoningTrace(arch="hrm", segments=segments, steps_per_segment=2, inner_per_step=1, answers=answers,
                          changed=changed, correct=correct, token_accuracy=correct.astype(float), settled_step=1,
                          q_halt_prob=np.full(segments, 0.5), z_h_residual=np.ones(steps),
                          z_l_residual=np.ones(steps), z_h_pca=np.zeros((steps, 2)), pca_cell=None)


def test_the_strip_and_the_gif_hold_every_step(tmp_path: Path) -> None:
    assert timeline_strip(trace_of(3), INPUTS, INPUTS, TASK).width > timeline_strip(trace_of(1), INPUTS, INPUTS,
                                                                                     TASK).width
    png = save_timeline_png(trace_of(2), INPUTS, None, TASK, tmp_path / "t.png")
    assert np.asarray(Image.open(png)).std() > 0
    gif = save_timeline_gif(trace_of(2), INPUTS, INPUTS, TASK, tmp_path / "t.gif")
    with Image.open(gif) as image:
        assert image.n_frames == 4
