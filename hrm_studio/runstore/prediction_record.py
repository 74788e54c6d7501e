"""Predictions: what a model answered for every puzzle of a split, after every ACT segment.

Why its own module: the window keeps and draws these arrays, and the window must not
import torch at start-up; `predict.py` (which needs torch) fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Predictions:
    """Per puzzle (N) and per ACT segment (T) of one split."""

    predictions: np.ndarray      # int16 [N, T, S]: argmax token after each segment
    confidence: np.ndarray       # float16 [N, T, S]: probability of the predicted token
    token_correct: np.ndarray    # int32 [N, T]: labelled cells predicted right
    token_count: np.ndarray      # int32 [N]: labelled cells
    exact: np.ndarray            # bool [N, T]: every labelled cell right
    q_halt: np.ndarray           # float32 [N, T]
    q_continue: np.ndarray       # float32 [N, T]
    halt_step: np.ndarray        # int16 [N]: 1-based segment where the Q-head halts (else T)
    lm_loss: np.ndarray          # float32 [N]: token loss after the last segment
    q_halt_loss: np.ndarray      # float32 [N]
    loss: np.ndarray             # float32 [N]: lm_loss + 0.5 * q_halt_loss
    logits: np.ndarray | None = None  # float32 [N, S, V] after the last segment, when asked for

    def __len__(self) -> int:
        return len(self.token_count)
