"""TrainingError, and the sentence that says why a run stopped before a bad update and how to go on.

Apart from trainer.py so the trainer stays a readable list of its steps; the trainer re-exports
TrainingError, which callers catch.
"""

from __future__ import annotations

from hrm_studio.config import TrainConfig
from hrm_studio.errors import UserError
from hrm_studio.runstore.keys import CheckpointKind
from hrm_studio.runstore.run_dir import RunDir
from hrm_studio.training.train_state import TrainState


class TrainingError(UserError):
    """Training cannot go on (e.g. the loss became NaN); the run keeps what it had."""


def update_refused(train: TrainConfig, run: RunDir, state: TrainState, epoch: int, what: str) -> TrainingError:
    """The error for a step whose `what` (e.g. "loss became nan") stopped the run before its update:
    what is kept, and the command that continues with a lower learning rate or clipping."""
    lower = f"--set lr={train.lr / 4:g}"
    last = run.existing_checkpoint(CheckpointKind.LAST)
    if state.epoch > 0 and last is not None:
        advice = (f"the last complete epoch ({state.epoch}) is kept in {last}: continue with "
                  f"'hrm-studio train --resume {run.path} {lower}' (a lower learning rate) or add "
                  f"'--set grad_clip=1'.")
    else:
        advice = (f"no epoch had finished, so start again with a lower learning rate ({lower}) or with "
                  f"--set grad_clip=1.")
    return TrainingError(f"The {what} in epoch {epoch} (step {state.global_step + 1}), so training "
                         f"stopped before that update was applied; {advice}")
