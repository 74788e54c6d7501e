"""Score a saved checkpoint on one split: the weights in, a PredictionSet and its metrics out.

Why here and not in the CLI: `hrm-studio eval`, the window's "evaluate this checkpoint" and
the prediction viewer for a reopened run must all build the data and the model the same
way, or the same file would score differently depending on where it was opened. The
weights are read with checkpoint.read_weights (no pickle: a stranger's file cannot run
code), and are checked against the settings and the puzzles before anything is built.
"""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from hrm_studio.config import ModelConfig, RunConfig
from hrm_studio.validation import validate
from hrm_studio.errors import UserError
from hrm_studio.training import checkpoint as ckpt
from hrm_studio.training.data_source import load_data
from hrm_studio.evaluation.metrics import summarise_predictions
from hrm_studio.training.device import evaluation_device
from hrm_studio.training.model_factory import build_head, model_config
from hrm_studio.evaluation.predict import evaluate
from hrm_studio.runstore.prediction_set import SPLITS, PredictionSet, build_prediction_set


MAX_SEGMENTS = next(int(f.metadata["max"]) for f in fields(ModelConfig) if f.name == "halt_max_steps")


class EvaluationCancelled(UserError):
    """`should_stop()` turned true before every puzzle was scored; nothing was returned."""


def config_from_weights(loaded: ckpt.LoadedWeights) -> RunConfig:
    """The settings that came with the weights (a Studio checkpoint, an official folder's YAML),
    over the defaults; UserError when they do not say which puzzles the model was trained on."""
    told_task = bool(loaded.config and (loaded.config.get("data") or {}).get("task"))
    if loaded.source != "studio" and not told_task:
        where = loaded.path or "The weights"
        raise UserError(f"{where} does not say which puzzles it was trained on; give the task settings "
                        f"(on the command line: --task NAME or --dataset DIR).")
    return validate(ckpt.settings_for(loaded, RunConfig()))


def score_checkpoint(checkpoint: str | Path, config: RunConfig | None = None, split: str = "test", *,
                     limit: int | None = None, batch_size: int = 64,
                     on_progress: Callable[[int, int], None] | None = None,
                     should_stop: Callable[[], bool] | None = None,
                     keep_logits: bool = False) -> tuple[PredictionSet, dict[str, Any]]:
    """Evaluate `checkpoint` on `split` ("test" or "train") of the puzzles `config` describes.

    config:      the settings to use; None = the ones stored with the weights.
    limit:       only the first N puzzles of the split (the PredictionSet is then not complete).
    on_progress: called with (puzzles done, puzzles in all) after each batch.
    should_stop: polled between batches; once true, EvaluationCancelled is raised
                 (a UserError whose message reads "Evaluation was cancelled.").
    keep_logits: keep the last segment's logits on `.predictions.logits` (never saved to .npz).

    Returns the PredictionSet (epoch = the checkpoint's epoch, 0 if it does not say) and the
    metrics of metrics.summarise_predictions with no prefix — the numbers `hrm-studio eval` prints.
    """
    loaded = ckpt.read_weights(checkpoint)
    if config is None:
        config = config_from_weights(loaded)
    return score_weights(loaded, config, split, limit=limit, batch_size=batch_size, on_progress=on_progress,
                         should_stop=should_stop, keep_logits=keep_logits)


def score_weights(loaded: ckpt.LoadedWeights, config: RunConfig, split: str = "test", *,
                  limit: int | None = None, batch_size: int = 64,
                  on_progress: Callable[[int, int], None] | None = None,
                  should_stop: Callable[[], bool] | None = None,
                  keep_logits: bool = False, segments: int | None = None) -> tuple[PredictionSet, dict[str, Any]]:
    """score_checkpoint for weights already read (a caller that needed them to resolve the settings).

    segments: run this many ACT segments instead of the trained halt_max_steps (more, or fewer,
              thinking at test time); "at halt" still means where the model as trained halts,
              at its Q-head's word or at halt_max_steps, whichever comes first.
    """
    trained_steps = config.model.halt_max_steps
    if segments is not None:
        config = with_segments(config, segments)
    if split not in SPLITS:
        raise UserError(f"There is no split called {split!r}; choose one of {', '.join(SPLITS)}.")
    if limit is not None and limit < 1:
        raise UserError("The number of puzzles to score must be at least 1.")
    if batch_size < 1:
        raise UserError("The batch size must be at least 1.")
    where = str(loaded.path) if loaded.path is not None else "the checkpoint"
    ckpt.check_config_against_weights(config, loaded.state_dict, where)
    data = load_data(config)
    whole = data.test if split == "test" else data.train
    puzzles = whole if limit is None or limit >= len(whole) else whole.subset(np.arange(limit))
    told = ckpt.shapes_from_weights(loaded.state_dict)
    vocab, ids = told.get("vocab_size"), told.get("num_puzzle_identifiers")
    if vocab is not None and data.info.vocab_size > vocab:
        raise UserError(f"The puzzles use {data.info.vocab_size} token ids but the weights know only {vocab}.")
    if ids is not None and int(puzzles.puzzle_identifiers.max(initial=0)) >= ids:
        from hrm_studio.training.preset_match import identifier_words, preset_advice

        raise UserError(f"These settings do not fit the weights: "
                        f"{identifier_words(int(puzzles.puzzle_identifiers.max()) + 1, ids)}. "
                        f"{preset_advice(told, config.model.arch)}")
    head = build_head(config, model_config(config, data.info, vocab_size=vocab, num_puzzle_identifiers=ids),
                      evaluation_device(config.train.device))
    ckpt.load_into(head.model, loaded.state_dict, where)
    pred = evaluate(head, puzzles, batch_size=batch_size, keep_logits=keep_logits, should_stop=should_stop,
                    on_progress=on_progress)
    if pred is None:
        raise EvaluationCancelled("Evaluation was cancelled.")
    np.minimum(pred.halt_step, trained_steps, out=pred.halt_step)  # no-op unless segments > trained
    epoch = (loaded.payload or {}).get("epoch", 0)
    epoch = epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else 0
    indices = np.arange(len(puzzles))
    complete = len(puzzles) == len(whole)
    task = data.info.to_dict()
    if keep_logits:  # build_prediction_set drops logits; this caller asked for them
        ps = PredictionSet(split=split, epoch=epoch, indices=indices, puzzles=puzzles, predictions=pred,
                           task=task, complete=complete)
    else:
        ps = build_prediction_set(split, epoch, indices, puzzles, pred, task, complete)
    return ps, summarise_predictions(pred, puzzles.patterns, prefix="")


def with_segments(config: RunConfig, segments: int) -> RunConfig:
    """A copy of `config` whose model runs `segments` ACT segments (weights do not depend on it)."""
    if isinstance(segments, bool) or not isinstance(segments, int) or not 1 <= segments <= MAX_SEGMENTS:
        raise UserError(f"The number of segments must be a whole number from 1 to {MAX_SEGMENTS}, not {segments!r}.")
    return replace(config, model=replace(config.model, halt_max_steps=segments))
