"""score_checkpoint: the same numbers as `hrm-studio eval`, a PredictionSet the viewer can load,
and clear answers for a limit, a cancel, a wrong split or weights that do not name their task."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from hrm_studio.cli import main
from hrm_studio.errors import UserError
from hrm_studio.training.checkpoint_scoring import EvaluationCancelled, score_checkpoint
from hrm_studio.runstore.prediction_set import PredictionSet
from hrm_studio.training.trainer import Trainer


@pytest.fixture(scope="module")
def final_pt(tmp_path_factory):
    from hrm_studio.config import RunConfig
    from tests.conftest import TINY_SETTINGS

    run = tmp_path_factory.mktemp("scoring") / "run"
    Trainer(RunConfig.from_dict(TINY_SETTINGS), run).fit()
    return run / "checkpoints" / "final.pt"


def test_scores_equal_hrm_studio_eval_json(final_pt, capsys):
    ps, metrics = score_checkpoint(final_pt, None, "test")
    assert main(["eval", str(final_pt), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["puzzles"] == len(ps) == 12
    ours = {k: v for k, v in metrics.items() if not k.startswith("official/")}
    official = {k.split("/", 1)[1]: v for k, v in metrics.items() if k.startswith("official/")}
    assert report["official"] == pytest.approx(official)
    for key, value in ours.items():
        assert report[key] == pytest.approx(value), key
    assert ps.split == "test" and ps.complete and ps.epoch == 2
    assert ps.indices.tolist() == list(range(12)) and ps.predictions.logits is None
    assert ps.task["vocab_labels"][:2] == ["PAD", "EOS"]


def test_limit_train_split_progress_and_logits(final_pt):
    seen = []
    ps, metrics = score_checkpoint(final_pt, None, "train", limit=5, batch_size=2, keep_logits=True,
                                   on_progress=lambda done, total: seen.append((done, total)))
    assert len(ps) == 5 and ps.split == "train" and not ps.complete
    assert metrics["puzzles"] == 5
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert ps.predictions.logits.shape == (5, 16, 12)
    whole, _ = score_checkpoint(final_pt, None, "train", limit=10_000)
    assert whole.complete and len(whole) == 48


def test_eval_save_predictions_writes_a_prediction_set(final_pt, tmp_path, capsys):
    out = tmp_path / "deep" / "test.npz"
    assert main(["eval", str(final_pt), "--limit", "4", "--save-predictions", str(out)]) == 0
    assert f"predictions saved to {out}" in capsys.readouterr().out
    saved = PredictionSet.load(out)
    ps, _ = score_checkpoint(final_pt, None, "test", limit=4)
    assert len(saved) == 4 and not saved.complete and saved.epoch == 2
    assert np.array_equal(saved.predictions.predictions, ps.predictions.predictions)


def test_cancel_raises_evaluation_cancelled(final_pt):
    with pytest.raises(EvaluationCancelled, match="Evaluation was cancelled."):
        score_checkpoint(final_pt, None, "test", should_stop=lambda: True)
    assert issubclass(EvaluationCancelled, UserError)


def test_mistakes_are_user_errors(final_pt, tmp_path):
    with pytest.raises(UserError, match="no split called 'valid'"):
        score_checkpoint(final_pt, None, "valid")
    with pytest.raises(UserError, match="at least 1"):
        score_checkpoint(final_pt, None, "test", limit=0)
    bare = tmp_path / "bare.pth"
    torch.save(torch.load(final_pt, weights_only=True)["model"], bare)
    with pytest.raises(UserError, match="does not say which puzzles"):
        score_checkpoint(bare, None, "test")


def test_an_explicit_config_is_used(final_pt):
    from hrm_studio.config import RunConfig
    from tests.conftest import TINY_SETTINGS

    config = RunConfig.from_dict(TINY_SETTINGS)
    config.data.test_size = 5
    ps, metrics = score_checkpoint(final_pt, config, "test")
    assert len(ps) == 5 and metrics["puzzles"] == 5
