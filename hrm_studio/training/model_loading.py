"""Load a checkpoint's model and its puzzles for inspection (the reasoning inspector, the puzzle editor).

Why not `score_checkpoint`: that scores a whole split and lets the model go; the inspector
keeps one model in memory and asks it about one puzzle at a time, again and again, on a
worker thread. The checks are the same ones scoring makes (the weights against the settings,
the puzzles against the weights), so a file that scores also inspects and one that does not
is refused with the same sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hrm_studio.config import RunConfig
from hrm_studio.data.task_data import TaskData
from hrm_studio.errors import UserError
from hrm_studio.training import checkpoint as ckpt
from hrm_studio.training.data_source import load_data
from hrm_studio.training.model_factory import build_head, model_config


@dataclass
class LoadedModel:
    """A model in eval mode and the data set it was trained on (both splits)."""

    head: Any            # the loss head; `head.model` is the ACT model
    config: RunConfig
    data: TaskData
    checkpoint: Path


def load_model(checkpoint: str | Path, config: RunConfig) -> LoadedModel:
    """Read `checkpoint`, build its model with `config`'s settings and load the weights (CPU, eval mode)."""
    loaded = ckpt.read_weights(checkpoint)
    where = str(loaded.path) if loaded.path is not None else str(checkpoint)
    ckpt.check_config_against_weights(config, loaded.state_dict, where)
    data = load_data(config)
    told = ckpt.shapes_from_weights(loaded.state_dict)
    vocab, ids = told.get("vocab_size"), told.get("num_puzzle_identifiers")
    if vocab is not None and data.info.vocab_size > vocab:
        raise UserError(f"The puzzles use {data.info.vocab_size} token ids but the weights know only {vocab}.")
    head = build_head(config, model_config(config, data.info, vocab_size=vocab, num_puzzle_identifiers=ids))
    ckpt.load_into(head.model, loaded.state_dict, where)
    head.eval()
    return LoadedModel(head=head, config=config, data=data, checkpoint=Path(checkpoint))
