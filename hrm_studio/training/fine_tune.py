"""New puzzles for trained weights: a new run from weights onto a data set with other puzzle identifiers.

Why: a row of the puzzle embedding belongs to one puzzle. Weights trained on some puzzles and
started on a data set of others (the test-time-training route for unseen ARC tasks) keep every
other weight, and the data set's identifiers get a table of their own size: zero rows (the
official init of a puzzle embedding) for puzzles the weights never saw. Where both sides name
their identifiers (a Studio checkpoint stores the names of the data it was trained on), a puzzle
found in both keeps its row. Weights without names and with the data set's number of rows are
used as they are: nothing says their puzzles differ.

Only a new run from weights comes here (`StartingWeights`: every check of the weights against
the settings and the data, then the sizes the model takes from them); resuming a run refuses any
change of data (checkpoint.check_resume_settings).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch

from hrm_studio.config import RunConfig
from hrm_studio.data import TaskInfo
from hrm_studio.training import checkpoint as ckpt
from hrm_studio.training.checkpoint import LoadedWeights

PUZZLE_EMB_KEY = "inner.puzzle_emb.weights"
NOTICE_KIND = "puzzle_embeddings_fresh"


@dataclass(frozen=True)
class StartingWeights:
    """The weights a new run starts from, checked against its settings and data (none: a fresh start)."""

    weights: LoadedWeights | None = None
    note: str | None = None   # what changed, for a Notice once the run has started

    @classmethod
    def check(cls, config: RunConfig, init: LoadedWeights | None, info: TaskInfo) -> StartingWeights:
        """CheckpointError naming every contradiction (architecture, widths, a smaller vocabulary), before
        anything is built; other puzzles than the weights' get their own embedding table."""
        if init is None:
            return cls()
        source = init.path or "the checkpoint"
        ckpt.check_config_against_weights(config, init.state_dict, source)
        init, note = fit_puzzle_embeddings(init, info)
        ckpt.check_weights_cover_data(init.state_dict, info, source)
        return cls(init, note)

    def sizes(self) -> dict[str, int | None]:
        """Vocabulary and identifiers as the weights have them (the model is sized by them), else None."""
        told = ckpt.shapes_from_weights(self.weights.state_dict) if self.weights is not None else {}
        return {"vocab_size": told.get("vocab_size"), "num_puzzle_identifiers": told.get("num_puzzle_identifiers")}

    def load_into(self, model: torch.nn.Module) -> None:
        if self.weights is not None:
            ckpt.load_into(model, self.weights.state_dict, self.weights.path or "the checkpoint")


def weights_identifier_names(init: LoadedWeights) -> list[str] | None:
    """The identifier names of the data the weights were trained on, when their checkpoint says so."""
    task = (init.payload or {}).get("task")
    names = task.get("identifier_names") if isinstance(task, dict) else None
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        return names
    return None


def fit_puzzle_embeddings(init: LoadedWeights, info: TaskInfo) -> tuple[LoadedWeights, str | None]:
    """`init` with its puzzle embedding table fitted to the data set's identifiers, and the sentence
    that says so (None, and `init` unchanged, when the identifiers are the same or there is no table)."""
    table = init.state_dict.get(PUZZLE_EMB_KEY)
    if table is None or table.ndim != 2:
        return init, None
    held, wanted = weights_identifier_names(init), list(info.identifier_names)
    if held is not None and len(held) != table.shape[0]:
        held = None  # names that do not describe this table tell nothing
    if (held == wanted) if held is not None else table.shape[0] == info.num_puzzle_identifiers:
        return init, None
    rows = _rows_kept(held, wanted)
    fresh = torch.zeros(info.num_puzzle_identifiers, table.shape[1], dtype=table.dtype)
    for new, old in rows.items():
        fresh[new] = table[old]
    state_dict: dict[str, Any] = {**init.state_dict, PUZZLE_EMB_KEY: fresh}
    return replace(init, state_dict=state_dict), _notice_text(info.num_puzzle_identifiers, int(table.shape[0]),
                                                              puzzles_kept=sum(1 for new in rows if new != 0))


def _rows_kept(held: list[str] | None, wanted: list[str]) -> dict[int, int]:
    """New row → old row for every identifier named alike on both sides (none when the weights have no names)."""
    if held is None:
        return {}
    old = {name: i for i, name in enumerate(held)}
    return {new: old[name] for new, name in enumerate(wanted) if name in old}


def _notice_text(wanted: int, held: int, *, puzzles_kept: int) -> str:
    counts = (f"The data set has {wanted} puzzle identifiers, the weights {held}" if wanted != held else
              f"The data set's {wanted} puzzle identifiers name other puzzles than the weights'")
    kept = ("" if not puzzles_kept else " (the 1 puzzle found in both keeps its own)" if puzzles_kept == 1 else
            f" (the {puzzles_kept} puzzles found in both keep their own)")
    return (f"{counts}: every weight was kept, the puzzle embeddings start from zero for the new puzzles{kept} "
            f"— the usual test-time-training route.")
