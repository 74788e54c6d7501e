"""Plain-numpy records of what an ACT model did inside its segments.

These dataclasses are the contract between the Qt-free analysis code (which runs
the model with a recorder attached) and the window (which only draws them), so
they hold numpy arrays only and no torch tensors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AttentionMap", "ReasoningTrace", "StepCurve"]


@dataclass(frozen=True)
class ReasoningTrace:
    """One puzzle's reasoning: the answer after every high-level update of every segment."""

    arch: str  # "hrm" | "trm"
    segments: int  # segments run (may exceed halt_max_steps)
    steps_per_segment: int  # high-level updates per segment (HRM H_cycles; TRM H_cycles recursions)
    inner_per_step: int  # low-level updates per high-level update (L_cycles)
    answers: np.ndarray  # int [steps, seq_len]: argmax tokens after each high-level update
    changed: np.ndarray  # bool [steps, seq_len]: cell differs from the previous step (step 0: False)
    correct: np.ndarray | None  # bool [steps]: exact match with labels (None when no labels)
    token_accuracy: np.ndarray | None  # float [steps]
    settled_step: int | None  # first step from which the answer stays exactly right, else None
    q_halt_prob: np.ndarray  # float [segments]: sigmoid(q_halt) after each segment
    z_h_residual: np.ndarray  # float [steps]: ||z_H_t - z_H_{t-1}||
    z_l_residual: np.ndarray  # float [steps * inner_per_step]: ||z_L_t - z_L_{t-1}||
    z_h_pca: np.ndarray  # float [steps, 2]: PCA of z_H (mean over grid positions, or the chosen cell)
    pca_cell: int | None
    confidence: np.ndarray | None = None  # float [steps, seq_len]: probability of each step's answer token

    def __post_init__(self) -> None:
        if self.arch not in ("hrm", "trm"):
            raise ValueError(f"arch must be 'hrm' or 'trm', not {self.arch!r}")
        if self.segments < 1 or self.steps_per_segment < 1 or self.inner_per_step < 1:
            raise ValueError("segments, steps_per_segment and inner_per_step must be at least 1")
        steps = self.segments * self.steps_per_segment
        if self.answers.ndim != 2 or self.answers.shape[0] != steps:
            raise ValueError(f"answers must be [{steps}, seq_len], got {self.answers.shape}")
        if self.changed.shape != self.answers.shape:
            raise ValueError("changed must have the same shape as answers")
        if self.q_halt_prob.shape != (self.segments,):
            raise ValueError(f"q_halt_prob must be [{self.segments}], got {self.q_halt_prob.shape}")
        if self.z_h_residual.shape != (steps,):
            raise ValueError(f"z_h_residual must be [{steps}], got {self.z_h_residual.shape}")
        if self.z_l_residual.shape != (steps * self.inner_per_step,):
            raise ValueError("z_l_residual must hold one value per low-level update")
        if self.z_h_pca.shape != (steps, 2):
            raise ValueError(f"z_h_pca must be [{steps}, 2], got {self.z_h_pca.shape}")

    @property
    def steps(self) -> int:
        """Total high-level updates over all segments."""
        return self.segments * self.steps_per_segment

    @property
    def seq_len(self) -> int:
        """Grid positions per answer."""
        return int(self.answers.shape[1])

    def segment_of(self, step: int) -> int:
        """The segment (0-based) that global step `step` belongs to."""
        if not 0 <= step < self.steps:
            raise IndexError(f"step {step} is outside 0..{self.steps - 1}")
        return step // self.steps_per_segment

    def segment_end_steps(self) -> list[int]:
        """Global index of the last step of each segment (the answer the segment returns)."""
        return [(s + 1) * self.steps_per_segment - 1 for s in range(self.segments)]


@dataclass(frozen=True)
class AttentionMap:
    """Attention weights of one query cell over the sequence, at one step/layer/head."""

    level: str  # "H" or "L" (TRM: "L" only — one network)
    step: int
    layer: int
    head: int
    cell: int
    grid_weights: np.ndarray  # float [seq_len]: weights over grid positions
    prefix_weights: np.ndarray  # float [prefix_len]: weights on puzzle-embedding prefix tokens

    def __post_init__(self) -> None:
        if self.level not in ("H", "L"):
            raise ValueError(f"level must be 'H' or 'L', not {self.level!r}")


@dataclass(frozen=True)
class StepCurve:
    """Over a split: exact match and token accuracy after every high-level update (the critical-step view)."""

    steps_per_segment: int
    exact: np.ndarray  # float [steps]
    token_accuracy: np.ndarray  # float [steps]
    count: int

    @property
    def steps(self) -> int:
        """Total high-level updates recorded."""
        return int(self.exact.shape[0])

    def critical_step(self) -> int | None:
        """The step with the largest one-step rise in exact match (None when it never rises)."""
        if self.steps < 2:
            return None
        rises = np.diff(self.exact)
        best = int(np.argmax(rises))
        return best + 1 if rises[best] > 0 else None
