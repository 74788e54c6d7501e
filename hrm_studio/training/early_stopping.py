"""Why a run ends, and the best score so far: the decisions taken after each epoch."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from hrm_studio.config import TrainConfig
from hrm_studio.runstore.keys import HistoryKey
from hrm_studio.training.train_state import TrainState


class EndReason(StrEnum):
    """Why `Trainer.fit()` returned (`FitResult.reason`, `Finished.reason`)."""

    COMPLETED = "completed"          # every epoch asked for
    SOLVED = "solved"                # held-out exact match reached stop_at_exact
    EARLY_STOPPED = "early_stopped"  # the metric did not improve for early_stopping_patience epochs
    STOPPED = "stopped"              # someone asked the run to stop


def track_best(state: TrainState, row: dict[str, Any], t: TrainConfig) -> bool:
    """Fold the epoch's row into the best score; returns whether it is a new best."""
    metric = t.early_stopping_metric
    value = row.get(metric)
    if value is None:
        return False
    lower_is_better = metric.endswith("loss")
    better = (state.best_value is None
              or (value < state.best_value if lower_is_better else value > state.best_value))
    if better:
        state.best_value, state.best_epoch, state.bad_evals = float(value), row[HistoryKey.EPOCH], 0
    else:
        state.bad_evals += 1
    return better


def reason_to_end(state: TrainState, row: dict[str, Any], t: TrainConfig, *, stopping: bool) -> EndReason | None:
    """Whether the run should end after this epoch (solved, early-stopped, stopped), else None."""
    exact = row.get(HistoryKey.VAL_EXACT)
    if t.stop_at_exact > 0 and exact is not None and exact >= t.stop_at_exact:
        return EndReason.SOLVED
    if t.early_stopping_patience and state.bad_evals >= t.early_stopping_patience:
        return EndReason.EARLY_STOPPED
    if stopping:
        return EndReason.STOPPED
    return None
