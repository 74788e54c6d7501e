"""The reasoning timeline: recording changes no number, and each step's answer is the model's own."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hrm_studio.analysis import ReasoningTrace, trace_puzzle
from hrm_studio.analysis.recording import StateRecorder, initial_carry, make_batch, run_segments
from hrm_studio.analysis.timeline import score_steps, settled_step

from .helpers import COMMON, puzzles, tiny

ARCHS = ["hrm", "trm"]


def _act_loop(model, batch, segments):
    """The ACT wrapper's own eval loop: logits and Q values after each segment."""
    full = {**batch, "labels": torch.zeros_like(batch["inputs"])}
    carry = model.initial_carry(full)
    out = []
    with torch.inference_mode():
        for _ in range(segments):
            carry, outputs = model(carry, full)
            out.append(outputs)
    return out


@pytest.mark.parametrize("arch", ARCHS)
def test_recording_leaves_logits_and_q_values_bit_identical(arch):
    model = tiny(arch)
    ps = puzzles(4)
    batch = make_batch(model, ps.inputs, ps.puzzle_identifiers)
    plain = _act_loop(model, batch, COMMON["halt_max_steps"])
    recorder = StateRecorder()
    recorded = run_segments(model, batch, COMMON["halt_max_steps"], recorder)
    for want, got in zip(plain, recorded):
        assert torch.equal(want["logits"], got.logits)
        assert torch.equal(want["q_halt_logits"], got.q_halt)
        assert torch.equal(want["q_continue_logits"], got.q_continue)
    # and the recorder did see every update
    steps = COMMON["halt_max_steps"] * COMMON["H_cycles"]
    assert len(recorder.highs) == steps and len(recorder.lows) == steps * COMMON["L_cycles"]
    # one segment of the core, with and without a recorder
    with torch.inference_mode():
        carry = initial_carry(model.inner, 4)
        a = model.inner(carry, batch)
        b = model.inner(carry, batch, recorder=StateRecorder())
    assert torch.equal(a[1], b[1]) and torch.equal(a[2][0], b[2][0]) and torch.equal(a[0].z_L, b[0].z_L)


@pytest.mark.parametrize("arch", ARCHS)
def test_last_step_of_each_segment_decodes_to_that_segments_answer(arch):
    model = tiny(arch, seed=2)
    ps = puzzles(1)
    segments = COMMON["halt_max_steps"]
    trace = trace_puzzle(model, ps.inputs[0], int(ps.puzzle_identifiers[0]), ps.labels[0], segments=segments)
    plain = _act_loop(model, make_batch(model, ps.inputs[:1], ps.puzzle_identifiers[:1]), segments)
    for s, end in enumerate(trace.segment_end_steps()):
        assert np.array_equal(trace.answers[end], plain[s]["logits"][0].argmax(-1).numpy())
        assert trace.segment_of(end) == s
    q = torch.sigmoid(torch.cat([o["q_halt_logits"] for o in plain])).numpy()
    assert np.array_equal(trace.q_halt_prob, q.astype(np.float64))
    changed = np.vstack([np.zeros((1, 9), bool), trace.answers[1:] != trace.answers[:-1]])
    assert np.array_equal(trace.changed, changed)


@pytest.mark.parametrize("arch", ARCHS)
def test_residuals_and_pca_have_one_value_per_update_even_beyond_the_segment_limit(arch):
    model = tiny(arch)
    ps = puzzles(1)
    segments = COMMON["halt_max_steps"] + 2
    trace = trace_puzzle(model, ps.inputs[0], 1, None, segments=segments, pca_cell=4)
    steps = segments * COMMON["H_cycles"]
    assert isinstance(trace, ReasoningTrace) and trace.steps == steps
    assert trace.arch == arch and trace.inner_per_step == COMMON["L_cycles"]
    assert trace.answers.shape == (steps, COMMON["seq_len"]) and trace.confidence.shape == trace.answers.shape
    assert trace.z_h_residual.shape == (steps,) and trace.z_l_residual.shape == (steps * COMMON["L_cycles"],)
    assert trace.z_h_pca.shape == (steps, 2) and trace.q_halt_prob.shape == (segments,)
    assert (trace.z_h_residual > 0).all() and np.isfinite(trace.z_l_residual).all()
    assert trace.correct is None and trace.token_accuracy is None and trace.settled_step is None
    # PCA of a centred trajectory: each component sums to zero, and the mean-over-cells one differs
    assert np.allclose(trace.z_h_pca.sum(axis=0), 0.0, atol=1e-9)
    mean = trace_puzzle(model, ps.inputs[0], 1, None, segments=segments)
    assert mean.pca_cell is None and not np.allclose(mean.z_h_pca, trace.z_h_pca)
    assert np.array_equal(mean.z_h_residual, trace.z_h_residual)


def test_residual_of_the_first_update_is_measured_from_the_initial_state():
    model = tiny("hrm")
    ps = puzzles(1)
    recorder = StateRecorder()
    run_segments(model, make_batch(model, ps.inputs, ps.puzzle_identifiers), 1, recorder)
    trace = trace_puzzle(model, ps.inputs[0], int(ps.puzzle_identifiers[0]), None, segments=1)
    first = torch.linalg.vector_norm((recorder.highs[0][0] - model.inner.H_init).double())
    assert trace.z_h_residual[0] == pytest.approx(float(first), rel=1e-6)


def test_scoring_counts_labelled_cells_and_the_settled_step_is_where_it_stays_right():
    labels = np.array([1, 2, -100])
    answers = np.array([[1, 0, 0], [1, 2, 4], [0, 2, 4], [1, 2, 3], [1, 2, 0]])
    exact, token = score_steps(answers, labels)
    assert exact.tolist() == [False, True, False, True, True]
    assert token.tolist() == [0.5, 1.0, 0.5, 1.0, 1.0]
    assert settled_step(exact) == 3
    assert settled_step(np.array([True, True])) == 0
    assert settled_step(np.array([True, False])) is None
    assert not score_steps(answers, np.full(3, -100))[0].any()  # nothing labelled: never exactly right


def test_a_puzzle_of_another_size_is_refused_in_plain_words():
    from hrm_studio.errors import UserError

    with pytest.raises(UserError, match="cells"):
        trace_puzzle(tiny("hrm"), np.zeros(5, np.int32), 0, None, segments=1)


def test_should_stop_cancels_between_segments():
    from hrm_studio.analysis import AnalysisCancelled

    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 2  # let two segments run, stop before the third

    with pytest.raises(AnalysisCancelled, match="cancelled"):
        trace_puzzle(tiny("trm"), puzzles(1).inputs[0], 0, None, segments=5, should_stop=stop)
    assert len(asked) == 3
