"""`eval --protocol arc` and `eval --segments N` on a tiny model trained on two real ARC tasks."""

from __future__ import annotations

import json

import pytest

from hrm_studio.cli import main

# 900 tokens per example: the smallest model, one optimiser step; PyTorch's attention is the faster one at
# head width 16 (measured 2.5x over the fused kernel), TensorBoard is not what these tests are about.
ARC_MODEL = [f"--set={kv}" for kv in (
    "hidden_size=16", "num_heads=1", "expansion=1.0", "puzzle_emb_ndim=16", "H_cycles=1", "L_cycles=1",
    "halt_max_steps=2", "batch_size=16", "num_threads=1", "stop_at_exact=0", "epochs=1", "seed=2",
    "attention_kernel=torch", "tensorboard=false")]


@pytest.fixture(scope="module")
def arc_run(tmp_path_factory):
    """(dataset folder, final checkpoint): one training and one evaluation task, 2 augmentations, 1 epoch."""
    root = tmp_path_factory.mktemp("arc-eval")
    data = root / "arc"
    assert main(["dataset", "arc", "--source", "arc-agi-1", "--tasks", "08ed6ac7,00576224", "--num-aug", "2",
                 "--out", str(data)]) == 0
    assert main(["train", *ARC_MODEL, "--set", f"dataset_dir={data}", "--quiet", "--out", str(root / "run")]) == 0
    return data, root / "run" / "checkpoints" / "final.pt"


def _eval_json(capsys, *argv: str) -> dict:
    capsys.readouterr()
    assert main(["eval", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_arc_protocol_json_and_official_preds_round_trip(arc_run, tmp_path, capsys):
    from hrm_studio.data import read_dataset
    from hrm_studio.evaluation.arc.official_preds import read_official_preds
    from hrm_studio.evaluation.arc.protocol import answers_from_tasks, score_arc
    from hrm_studio.data.arc import read_arc_tasks

    data, checkpoint = arc_run
    report = _eval_json(capsys, str(checkpoint), "--dataset", str(data), "--protocol", "arc",
                        "--save-official-preds", str(tmp_path / "step_1"))
    for key in ("pass@1", "pass@2", "pass@2_all_tests"):
        assert 0.0 <= report[key] <= 1.0
    assert list(report["tasks"]) == ["00576224"] and report["examples"] == 3 and report["num_predictions"] == 3
    back = read_official_preds(tmp_path / "step_1_all_preds.0")
    names = read_dataset(data).info.identifier_names
    again = score_arc(back.arc_predictions(names), answers_from_tasks(read_arc_tasks(data))).to_json()
    assert again["tasks"] == report["tasks"] and again["pass@2"] == report["pass@2"]


def test_segments_beyond_training_are_reported_one_by_one(arc_run, capsys):
    data, checkpoint = arc_run
    usual = _eval_json(capsys, str(checkpoint), "--dataset", str(data))
    more = _eval_json(capsys, str(checkpoint), "--dataset", str(data), "--segments", "4")
    assert more["trained_segments"] == 2 and [row["segment"] for row in more["by_segment"]] == [1, 2, 3, 4]
    # the first two segments are the trained model's own: running longer changes nothing before them
    assert [row["exact_match_accuracy"] for row in more["by_segment"][:2]] == usual["exact_by_segment"]
    assert more["by_segment"][1]["token_accuracy"] == pytest.approx(usual["token_accuracy"])
    assert more["exact_match_at_halt"] == usual["exact_match_at_halt"]  # halting as trained, at most 2
    assert main(["eval", str(checkpoint), "--dataset", str(data), "--protocol", "arc", "--segments", "3"]) == 0
    text = capsys.readouterr().out
    assert "per test input (ARC Prize, TRM)" in text and "all test inputs of a task (HRM notebook)" in text
    assert "segment  3" in text and "(beyond training)" in text


@pytest.mark.parametrize("extra, words", [
    (["--segments", "0"], "from 1 to 64"),
    (["--save-official-preds", "p"], "add --protocol arc"),
    (["--protocol", "arc", "--split", "train"], "scores the test split"),
])
def test_eval_mistakes_are_one_line(arc_run, capsys, extra, words):
    data, checkpoint = arc_run
    assert main(["eval", str(checkpoint), "--dataset", str(data), *extra]) == 2
    assert words in capsys.readouterr().err
