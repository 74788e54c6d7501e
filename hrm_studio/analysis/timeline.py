"""One puzzle's reasoning timeline: the answer, the states and their motion after every update.

`trace_puzzle` runs the model with a :class:`~hrm_studio.analysis.recording.StateRecorder`
attached and turns what it saw into a :class:`ReasoningTrace` of plain numpy arrays.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from hrm_studio.analysis.dynamics import pca_2d, residuals, summary_vectors
from hrm_studio.analysis.recording import (
    StateRecorder, act_model, arch_of, make_batch, run_segments, steps_per_segment,
)
from hrm_studio.analysis.trace import ReasoningTrace
from hrm_studio.data.grid import IGNORE
from hrm_studio.errors import UserError
from hrm_studio.model.act import ACTModel

__all__ = ["decode_steps", "score_steps", "settled_step", "trace_puzzle"]


def trace_puzzle(model: Any, inputs: np.ndarray, puzzle_identifier: int, labels: np.ndarray | None, *,
                 segments: int, pca_cell: int | None = None,
                 should_stop: Callable[[], bool] | None = None) -> ReasoningTrace:
    """Run `segments` segments (no halting, eval mode, no gradient) on one puzzle and record the
    answer after every high-level update, the states' residuals and their PCA trajectory.
    `should_stop` is polled between segments (AnalysisCancelled once it is true)."""
    act = act_model(model)
    seq_len = int(act.config.seq_len)
    if pca_cell is not None and not 0 <= pca_cell < seq_len:
        raise UserError(f"Cell {pca_cell} is outside the puzzle (0 to {seq_len - 1}).")
    batch = make_batch(act, np.asarray(inputs), np.asarray([puzzle_identifier]))
    recorder = StateRecorder()
    outputs = run_segments(act, batch, segments, recorder, should_stop)
    answers, confidence = decode_steps(act, recorder.highs)
    changed = np.zeros_like(answers, dtype=bool)
    changed[1:] = answers[1:] != answers[:-1]
    correct = token_accuracy = None
    if labels is not None:
        correct, token_accuracy = score_steps(answers, np.asarray(labels).reshape(-1))
    first_z = recorder.starts[0]
    prefix = act.inner.puzzle_emb_len
    with torch.inference_mode():
        q_halt = torch.cat([out.q_halt for out in outputs]).float().sigmoid().cpu().numpy()
        vectors = summary_vectors(recorder.highs, prefix, pca_cell)
        z_h_residual = residuals(first_z.z_H, recorder.highs)
        z_l_residual = residuals(first_z.z_L, recorder.lows)
    return ReasoningTrace(
        arch=arch_of(act), segments=segments, steps_per_segment=steps_per_segment(act),
        inner_per_step=int(act.config.L_cycles), answers=answers, changed=changed, correct=correct,
        token_accuracy=token_accuracy, settled_step=settled_step(correct), q_halt_prob=q_halt.astype(np.float64),
        z_h_residual=z_h_residual, z_l_residual=z_l_residual, z_h_pca=pca_2d(vectors), pca_cell=pca_cell,
        confidence=confidence,
    )


@torch.inference_mode()
def decode_steps(model: ACTModel, highs: list[torch.Tensor]) -> tuple[np.ndarray, np.ndarray]:
    """Argmax tokens ``[steps, seq_len]`` and their probabilities for batch row 0 after each
    high-level update. Each state goes through ``lm_head`` on its own, in the very shape the
    segment's read-out uses, so the last step of a segment gives exactly that segment's answer."""
    inner = model.inner
    answers, confidence = [], []
    for z_H in highs:
        logits = inner.lm_head(z_H)[:, inner.puzzle_emb_len:]
        conf, pred = torch.softmax(logits[0].float(), dim=-1).max(dim=-1)
        answers.append(pred.cpu().numpy())
        confidence.append(conf.cpu().numpy())
    return np.stack(answers).astype(np.int64), np.stack(confidence).astype(np.float32)


def score_steps(answers: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact match and token accuracy of each step's answer, scored as evaluation scores it:
    only labelled cells count, and a puzzle with no labelled cell is never exactly right."""
    if labels.shape[-1] != answers.shape[-1]:
        raise UserError(f"The labels have {labels.shape[-1]} cells but the answers {answers.shape[-1]}.")
    mask = labels != IGNORE
    count = int(mask.sum())
    right = (answers == labels[None, :]) & mask[None, :]
    token_correct = right.sum(axis=1)
    exact = (token_correct == count) & (count > 0)
    return exact, token_correct / max(count, 1)


def settled_step(correct: np.ndarray | None) -> int | None:
    """The first step from which every later answer is exactly right (None if the last is wrong)."""
    if correct is None or len(correct) == 0 or not correct[-1]:
        return None
    wrong = np.flatnonzero(~correct)
    return int(wrong[-1]) + 1 if len(wrong) else 0
