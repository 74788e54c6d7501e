"""What a run has reached: the numbers a checkpoint carries and a resumed run starts from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainState:
    epoch: int = 0                 # the last complete epoch
    global_step: int = 0           # optimiser steps so far
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per complete epoch
    best_value: float | None = None  # the early-stopping metric's best value so far
    best_epoch: int = 0
    bad_evals: int = 0             # epochs since the best one that did not beat it
    wall_offset: float = 0.0       # seconds trained before this fit() (a resumed run's earlier time)
