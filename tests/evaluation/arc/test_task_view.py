"""The ARC task view: demonstrations, test inputs, ranked candidates and every augmentation's vote."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from hrm_studio.data import read_dataset
from hrm_studio.data.arc import build_arc_dataset, parse_puzzle_name
from hrm_studio.data.arc.detect import has_arc_shape, is_arc_build, is_arc_names
from hrm_studio.evaluation.arc.protocol import crop_prediction
from hrm_studio.evaluation.arc.split_scoring import arc_answers, score_arc_split
from hrm_studio.evaluation.arc.task_view import build_task_views
from tests.data.arc.arc_helpers import tiny_tasks

ONE_TEST, TWO_TESTS = "00576224", "12997ef3"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("arc") / "arc"
    tasks = [t for t in tiny_tasks() if t.subset == "evaluation"]
    build_arc_dataset(tasks, out, num_aug=2, seed=0)
    return out, read_dataset(out), {t.task_id: t for t in tasks}


def _predictions(test, names, wrong_rows=()) -> SimpleNamespace:
    """Right answers except `wrong_rows` (all black in the answer's shape); q_halt = row number / 4."""
    right = np.where(test.labels == -100, 0, test.labels)
    tokens = right.copy()
    for row in wrong_rows:
        tokens[row] = np.where(right[row] >= 2, 2, right[row])
    q = (np.arange(len(tokens)) / 4.0).astype(np.float32)
    return SimpleNamespace(predictions=tokens[:, None, :], q_halt=q[:, None])


def _rows_of(test, names, task_id):
    return [r for r, i in enumerate(test.puzzle_identifiers) if parse_puzzle_name(names[i])[0] == task_id]


def test_right_predictions_give_one_candidate_per_test_input_and_every_augmentation_maps_back(built):
    folder, data, tasks = built
    names = data.info.identifier_names
    views = build_task_views(data.test, _predictions(data.test, names), names, folder)
    assert [t.task_id for t in views.tasks] == [ONE_TEST, TWO_TESTS]
    assert (views.passed, views.failed) == (2, 0) and views.has_demonstrations
    for view in views.tasks:
        task = tasks[view.task_id]
        assert len(view.demonstrations) == len(task.train)
        assert all(np.array_equal(d.output, p.output) for d, p in zip(view.demonstrations, task.train))
        assert len(view.tests) == len(task.test)
        for test, pair in zip(view.tests, task.test):
            assert np.array_equal(test.input, pair.input) and np.array_equal(test.answer, pair.output)
            assert len(test.candidates) == 1 and test.candidates[0].correct and test.rank == 1
            assert test.candidates[0].votes == len(test.augmentations) == 3   # the original and 2 augmentations
            assert test.augmentations[0].augmentation.is_identity   # the original first
            for aug in test.augmentations:
                assert np.array_equal(aug.mapped_back, pair.output)
                assert np.array_equal(aug.prediction, aug.augmentation.apply(pair.output))
                assert np.array_equal(aug.input, aug.augmentation.apply(pair.input))
                assert aug.candidate_rank == 1 and aug.correct


def test_votes_rank_the_candidates_and_the_task_passes_only_with_the_right_one_in_the_top_two(built):
    folder, data, _ = built
    names = data.info.identifier_names
    one = _rows_of(data.test, names, ONE_TEST)          # 3 rows: original + 2 augmentations
    two = _rows_of(data.test, names, TWO_TESTS)
    pred = _predictions(data.test, names, wrong_rows=one[1:] + two)
    views = build_task_views(data.test, pred, names, folder)
    first = views.task(ONE_TEST).tests[0]
    wrong, right = first.candidates
    assert (wrong.votes, right.votes, wrong.correct, right.correct) == (2, 1, False, True)
    q = pred.q_halt[one, 0].astype(np.float64)
    assert wrong.mean_confidence == pytest.approx(np.mean(1 / (1 + np.exp(-q[1:]))))
    assert right.mean_confidence == pytest.approx(1 / (1 + np.exp(-q[0])))
    assert first.rank == 2 and [a.candidate_rank for a in first.augmentations] == [2, 1, 1]
    assert [a.correct for a in first.augmentations] == [True, False, False]
    assert views.task(ONE_TEST).passed and not views.task(TWO_TESTS).passed
    assert (views.passed, views.failed) == (1, 1)
    assert all(t.rank is None for t in views.task(TWO_TESTS).tests)
    # The same votes as `eval --protocol arc`.
    protocol = score_arc_split(data.test, pred, names, arc_answers(folder, data.test, names))
    assert views.score.to_json() == protocol.to_json()


def test_without_the_builds_task_file_answers_and_inputs_come_from_the_test_split(built):
    folder, data, tasks = built
    names = data.info.identifier_names
    pred = _predictions(data.test, names)
    views = build_task_views(data.test, pred, names, None)
    assert not views.has_demonstrations and all(t.demonstrations == () for t in views.tasks)
    for view in views.tasks:
        for test, pair in zip(view.tests, tasks[view.task_id].test):
            assert np.array_equal(test.input, pair.input) and test.rank == 1
    sample = data.test.subset(np.array(_rows_of(data.test, names, TWO_TESTS)))   # a live sample: one task
    part = SimpleNamespace(predictions=pred.predictions[_rows_of(data.test, names, TWO_TESTS)],
                           q_halt=pred.q_halt[_rows_of(data.test, names, TWO_TESTS)])
    assert [t.task_id for t in build_task_views(sample, part, names, folder).tasks] == [TWO_TESTS]


def test_an_arc_build_is_told_from_its_names_and_folder(built):
    folder, data, _ = built
    info = data.info.to_dict()
    assert has_arc_shape(info) and is_arc_names(info["identifier_names"])
    assert is_arc_build(info, folder) and is_arc_build(info, None)
    assert not is_arc_names(["<blank>", "a_b", "007bbfb7"]) and not is_arc_names(["<blank>", "007bbfb7"])
    assert not is_arc_build({**info, "seq_len": 81}, folder)
    assert crop_prediction(data.test.inputs[0]).size > 0
