"""The ARC protocol over a model's pass through a stored test split: the right segment, the right answers."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from hrm_studio.data import read_dataset
from hrm_studio.data.arc import build_arc_dataset
from hrm_studio.errors import DatasetError
from hrm_studio.evaluation.arc.split_scoring import arc_answers, check_arc_split, score_arc_split
from hrm_studio.evaluation.metrics import accuracy_by_segment
from tests.data.arc.arc_helpers import tiny_tasks


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("arc") / "arc"
    build_arc_dataset([t for t in tiny_tasks() if t.subset == "evaluation"], out, num_aug=2, seed=0)
    return out, read_dataset(out)


def _two_segments(test) -> SimpleNamespace:
    """Segment 1 predicts nothing (all PAD), segment 2 the labels: a model that got there at the end."""
    right = np.where(test.labels == -100, 0, test.labels)
    tokens = np.stack([np.zeros_like(right), right], axis=1)
    return SimpleNamespace(predictions=tokens, q_halt=np.zeros(tokens.shape[:2], np.float32))


def test_the_last_segment_votes_and_the_answers_match_the_test_split(built):
    folder, data = built
    names = data.info.identifier_names
    check_arc_split(data.test, folder)
    answers = arc_answers(folder, data.test, names)
    from_labels = arc_answers(folder / "missing", data.test, names)  # no arc_tasks.json: the notebook's way
    assert answers.keys() == from_labels.keys() == {"00576224", "12997ef3"}
    assert all(np.array_equal(a, b) for tid in answers for a, b in zip(answers[tid], from_labels[tid]))
    pred = _two_segments(data.test)
    assert score_arc_split(data.test, pred, names, answers).pass_at_all_tests(1) == 1.0
    assert score_arc_split(data.test, pred, names, answers, segment=0).pass_at(1000) == 0.0
    first_rows = data.test.subset(np.arange(1))  # a partial pass scores only the tasks it reached
    part = SimpleNamespace(predictions=pred.predictions[:1], q_halt=pred.q_halt[:1])
    assert list(score_arc_split(first_rows, part, names, answers, only_tasks_seen=True).tasks) == ["00576224"]


def test_accuracy_by_segment_counts_every_puzzle_at_every_segment():
    pred = SimpleNamespace(token_correct=np.array([[1, 4], [0, 2]]), token_count=np.array([4, 4]),
                           exact=np.array([[False, True], [False, False]]))
    assert accuracy_by_segment(pred) == [
        {"segment": 1, "token_accuracy": 0.125, "exact_match_accuracy": 0.0},
        {"segment": 2, "token_accuracy": 0.75, "exact_match_accuracy": 0.5},
    ]


def test_a_split_that_is_not_arc_is_refused(built):
    folder, data = built
    small = SimpleNamespace(inputs=np.zeros((2, 16), np.int32))
    with pytest.raises(DatasetError, match="30×30 canvas"):
        check_arc_split(small, folder)
