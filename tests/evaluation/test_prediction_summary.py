"""prediction_summary: the per-pattern table agrees with the history's numbers; histograms and
the confusion matrix count labelled cells only, after the chosen segment."""

from __future__ import annotations

import numpy as np
import pytest

from hrm_studio.data import PuzzleSet
from hrm_studio.evaluation.metrics import summarise_predictions
from hrm_studio.evaluation.predict import Predictions
from hrm_studio.runstore.prediction_set import build_prediction_set
from hrm_studio.evaluation.prediction_summary import (PatternRow, confusion_matrix, pattern_table,
                                                    token_histograms)

VOCAB_LABELS = ["PAD", "EOS", "0", "1", "2", "3"]


def synthetic_prediction_set(n: int = 30, steps: int = 3, seq: int = 8, seed: int = 0):
    """A PredictionSet with random but self-consistent predictions: token_correct and exact follow
    from the predicted tokens and the labels; halting and Q logits vary between puzzles."""
    rng = np.random.default_rng(seed)
    vocab = len(VOCAB_LABELS)
    labels = rng.integers(2, vocab, size=(n, seq)).astype(np.int32)
    labels[:, -2:] = -100  # unlabelled cells must never count
    inputs = rng.integers(2, vocab, size=(n, seq)).astype(np.int32)
    patterns = np.array(["rotate", "copy", "flip"])[rng.integers(0, 3, n)]
    patterns[:3] = ["rotate", "copy", "flip"]  # a known first-appearance order
    preds = np.repeat(labels[:, None, :], steps, axis=1).clip(0).astype(np.int16)
    wrong = rng.random((n, steps, seq)) < np.linspace(0.5, 0.05, steps)[:, None]  # fewer mistakes later
    preds[wrong] = rng.integers(0, vocab, size=int(wrong.sum()))
    labelled = labels != -100
    correct = (preds == labels[:, None, :]) & labelled[:, None, :]
    token_count = labelled.sum(-1).astype(np.int32)
    token_correct = correct.sum(-1).astype(np.int32)
    pred = Predictions(
        predictions=preds, confidence=rng.random((n, steps, seq)).astype(np.float16),
        token_correct=token_correct, token_count=token_count,
        exact=token_correct == token_count[:, None],
        q_halt=rng.normal(size=(n, steps)).astype(np.float32),
        q_continue=rng.normal(size=(n, steps)).astype(np.float32),
        halt_step=rng.integers(1, steps + 1, n).astype(np.int16),
        lm_loss=rng.random(n).astype(np.float32), q_halt_loss=rng.random(n).astype(np.float32),
        loss=rng.random(n).astype(np.float32))
    puzzles = PuzzleSet(inputs=inputs, labels=labels, puzzle_identifiers=np.ones(n, np.int32), patterns=patterns)
    task = {"vocab_size": vocab, "vocab_labels": VOCAB_LABELS, "pattern_names": ["copy", "flip", "rotate"],
            "grid_shape": [2, 4], "display": "colour", "task": "synthetic"}
    return build_prediction_set("test", 5, np.arange(n), puzzles, pred, task, complete=True)


def test_pattern_table_agrees_with_summarise_predictions():
    ps = synthetic_prediction_set()
    metrics = summarise_predictions(ps.predictions, ps.puzzles.patterns, prefix="")
    table = pattern_table(ps)
    assert [r.pattern for r in table] == ["rotate", "copy", "flip", "all"]
    for row in table[:-1]:
        assert row.token_accuracy == pytest.approx(metrics[f"{row.pattern}_token_accuracy"])
        assert row.exact == pytest.approx(metrics[f"{row.pattern}_accuracy"])
        assert row.puzzles == int((ps.puzzles.patterns == row.pattern).sum())
    total = table[-1]
    assert total == PatternRow("all", len(ps), pytest.approx(metrics["token_accuracy"]),
                               pytest.approx(metrics["exact_match_accuracy"]),
                               pytest.approx(metrics["mean_act_steps"]), pytest.approx(metrics["q_halt_accuracy"]))
    # Each pattern's steps and Q-halt figures are the whole-set figures of that pattern alone.
    for row in table[:-1]:
        only = ps.puzzles.patterns == row.pattern
        sub = summarise_predictions(_subset(ps.predictions, only), ps.puzzles.patterns[only], prefix="")
        assert row.mean_steps == pytest.approx(sub["mean_act_steps"])
        assert row.q_halt_accuracy == pytest.approx(sub["q_halt_accuracy"])


def _subset(pred: Predictions, keep: np.ndarray) -> Predictions:
    return Predictions(**{k: (None if v is None else v[keep]) for k, v in vars(pred).items()})


def test_pattern_table_with_a_mask_counts_only_those_puzzles():
    ps = synthetic_prediction_set()
    mask = ps.puzzles.patterns != "copy"
    mask[4] = False
    table = pattern_table(ps, mask=mask)
    assert [r.pattern for r in table] == ["rotate", "flip", "all"]
    assert table[-1].puzzles == int(mask.sum())
    assert table[-1].exact == pytest.approx(ps.exact()[mask].mean())
    assert pattern_table(ps, mask=np.zeros(len(ps), bool)) == []
    with pytest.raises(ValueError):
        pattern_table(ps, mask=np.ones(3, bool))


def test_token_histograms_count_labelled_cells_after_the_segment():
    ps = synthetic_prediction_set()
    labels = ps.puzzles.labels
    labelled = labels != -100
    for segment in (0, 1, None):
        t = 2 if segment is None else segment
        predicted, truth = token_histograms(ps, segment)
        assert predicted.dtype == truth.dtype == np.int64
        assert predicted.shape == truth.shape == (len(VOCAB_LABELS),)
        expected = np.zeros(len(VOCAB_LABELS), np.int64)
        for i, j in zip(*np.nonzero(labelled)):
            expected[ps.predictions.predictions[i, t, j]] += 1
        assert predicted.tolist() == expected.tolist()
        assert truth.sum() == predicted.sum() == labelled.sum()
        assert truth.tolist() == np.bincount(labels[labelled], minlength=len(VOCAB_LABELS)).tolist()
    # Segments differ (the synthetic model fixes mistakes as it goes).
    assert token_histograms(ps, 0)[0].tolist() != token_histograms(ps)[0].tolist()
    mask = np.zeros(len(ps), bool)
    mask[:2] = True
    assert token_histograms(ps, mask=mask)[1].sum() == labelled[:2].sum()


def test_confusion_matrix_rows_are_true_tokens_and_columns_predictions():
    ps = synthetic_prediction_set()
    matrix = confusion_matrix(ps)
    predicted, truth = token_histograms(ps)
    assert matrix.shape == (6, 6) and matrix.dtype == np.int64
    assert matrix.sum(axis=1).tolist() == truth.tolist()
    assert matrix.sum(axis=0).tolist() == predicted.tolist()
    right = ps.predictions.token_correct[:, -1].sum()
    assert np.trace(matrix) == right
    # one hand-checked cell
    labels, pred = ps.puzzles.labels, ps.predictions.predictions[:, 0]
    cells = (labels == 3) & (pred == 5)
    assert confusion_matrix(ps, 0)[3, 5] == cells.sum()


def test_predictions_outside_the_vocabulary_are_not_counted():
    ps = synthetic_prediction_set(n=4)
    ps.predictions.predictions[0, -1, 0] = 40  # weights that know more tokens than the task
    predicted, truth = token_histograms(ps)
    assert predicted.sum() == truth.sum() - 1
    assert confusion_matrix(ps).sum() == truth.sum() - 1


def test_segment_out_of_range_is_refused():
    ps = synthetic_prediction_set(steps=3)
    with pytest.raises(ValueError):
        token_histograms(ps, 3)
    assert token_histograms(ps, -1)[0].tolist() == token_histograms(ps)[0].tolist()


def test_importing_it_does_not_import_torch():
    """The window imports it before training starts; torch must not delay the window."""
    import subprocess
    import sys

    code = ("import sys; import hrm_studio.evaluation.prediction_summary; "
            "assert 'torch' not in sys.modules; print('OK')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "OK", done.stderr
