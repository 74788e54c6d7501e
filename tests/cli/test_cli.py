"""The headless CLI: train, eval, export, dataset build, and clean errors (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from hrm_studio.cli import main

TINY = ["--task", "copy-increment", "--set", "train_size=48", "--set", "test_size=12", "--set", "grid_size=3",
        "--set", "hidden_size=32", "--set", "num_heads=2", "--set", "puzzle_emb_ndim=32",
        "--set", "batch_size=16", "--set", "num_threads=1", "--set", "stop_at_exact=0", "--set", "seed=5"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", *TINY, "--set", "epochs=2", "--out", str(out)]) == 0
    return out


def test_train_prints_one_line_per_epoch(tmp_path, capsys):
    assert main(["train", *TINY, "--set", "epochs=2", "--out", str(tmp_path / "r")]) == 0
    lines = capsys.readouterr().out.splitlines()
    epoch_lines = [line for line in lines if line.startswith("epoch")]
    assert len(epoch_lines) == 2 and "held-out" in epoch_lines[-1]
    assert lines[-1].startswith("finished (completed) after 2 epochs")


def test_eval_json_matches_the_training_history(run, capsys):
    capsys.readouterr()
    assert main(["eval", str(run / "checkpoints" / "final.pt"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    last = json.loads((run / "history.json").read_text())[-1]
    assert report["puzzles"] == 12
    assert report["exact_match_accuracy"] == pytest.approx(last["val_exact_match_accuracy"])
    assert report["token_accuracy"] == pytest.approx(last["val_token_accuracy"])
    assert report["official"]["exact_accuracy"] == pytest.approx(last["val/exact_accuracy"])
    assert set(report["official"]) >= {"accuracy", "exact_accuracy", "q_halt_accuracy", "steps", "lm_loss"}
    assert "copy_accuracy" in report and "increment_accuracy" in report


def test_eval_limit_and_save_outputs(run, tmp_path, capsys):
    out = tmp_path / "outputs.npz"
    assert main(["eval", str(run / "checkpoints" / "final.pt"), "--limit", "5", "--save-outputs", str(out)]) == 0
    data = np.load(out)
    assert set(data.files) == {"inputs", "labels", "puzzle_identifiers", "logits", "q_halt_logits",
                               "q_continue_logits"}
    assert data["logits"].shape[:2] == data["inputs"].shape == (5, 16)
    assert "on 5 test puzzles" in capsys.readouterr().out


@pytest.mark.parametrize("fmt, name", [("pt", "m.pt"), ("safetensors", "m.safetensors"), ("hrm", "official")])
def test_every_export_evaluates_to_the_same_numbers(run, tmp_path, capsys, fmt, name):
    target = tmp_path / name
    assert main(["export", str(run / "checkpoints" / "final.pt"), "--format", fmt, "--out", str(target)]) == 0
    capsys.readouterr()
    source = next(target.glob("step_*")) if fmt == "hrm" else target
    extra = TINY[:8] if fmt == "hrm" else []  # the official folder does not know our task settings
    assert main(["eval", str(source), "--json", *extra]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert main(["eval", str(run / "checkpoints" / "final.pt"), "--json"]) == 0
    original = json.loads(capsys.readouterr().out)
    assert exported["exact_match_accuracy"] == pytest.approx(original["exact_match_accuracy"])
    assert exported["loss"] == pytest.approx(original["loss"], rel=1e-5)


def test_dataset_build_then_train_and_eval_on_the_folder(tmp_path, capsys):
    folder = tmp_path / "ds"
    assert main(["dataset", "build", "--task", "copy-increment", "--set", "train_size=40", "--set",
                 "test_size=10", "--set", "grid_size=3", "--out", str(folder)]) == 0
    assert (folder / "identifiers.json").exists() and (folder / "train" / "dataset.json").exists()
    out = tmp_path / "run"
    args = [a for a in TINY if not a.startswith(("copy-increment", "--task"))]
    assert main(["train", *args, "--set", f"dataset_dir={folder}", "--set", "epochs=1", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["eval", str(out / "checkpoints" / "final.pt"), "--dataset", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["puzzles"] == 10


def test_resume_continues_a_run(run, tmp_path, capsys):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    assert main(["train", "--resume", str(copy / "checkpoints" / "final.pt"), "--set", "epochs=3"]) == 0
    out = capsys.readouterr().out
    assert "epoch   3/3" in out and "epoch   1/" not in out
    assert len(json.loads((copy / "history.json").read_text())) == 3


@pytest.mark.parametrize("argv, words", [
    (["train", "--set", "hidden_size=abc"], "hidden_size' must be a whole number"),
    (["train", "--set", "num_heads=3"], "must divide evenly by num_heads"),
    (["train", "--preset", "nope"], "Unknown preset 'nope'"),
    (["train", "--task", "chess"], "Unknown task 'chess'"),
    (["eval", "/nonexistent/x.pt", "--task", "copy"], "does not exist"),
    (["train", "--config", "/nonexistent/c.json"], "does not exist"),
    (["train", "--set", "dataset_dir=/nonexistent/ds", "--set", "epochs=1"], "/nonexistent/ds"),
])
def test_user_mistakes_are_one_line_and_exit_2(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err
    assert "Traceback" not in err


def test_bare_weights_without_a_task_ask_for_one(run, tmp_path, capsys):
    import torch

    sd = torch.load(run / "checkpoints" / "final.pt", weights_only=True)["model"]
    bare = tmp_path / "final_model.pth"
    torch.save(sd, bare)
    assert main(["eval", str(bare)]) == 2
    assert "add --task NAME or --dataset DIR" in capsys.readouterr().err


def test_module_and_version_entry_points():
    done = subprocess.run([sys.executable, "-m", "hrm_studio", "--version"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("hrm-studio ")
    bad = subprocess.run([sys.executable, "-m", "hrm_studio", "train", "--bogus"], capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "unrecognized arguments" in bad.stderr


def test_the_seeds_bare_weights_evaluate_with_the_seed_preset(tmp_path, capsys):
    """The seed saved plain `inner.*` state dicts; --preset seed supplies what weights cannot tell."""
    import torch

    from hrm_studio.presets import preset_config
    from hrm_studio.training.data_source import load_data
    from hrm_studio.training.model_factory import build_head, model_config

    config = preset_config("seed")
    torch.manual_seed(0)
    head = build_head(config, model_config(config, load_data(config).info))
    path = tmp_path / "final_model.pth"
    torch.save(head.model.state_dict(), path)
    assert main(["eval", str(path), "--preset", "seed", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["puzzles"] == 2 and report["official"]["steps"] == 6.0
    # Without the preset, the default settings contradict the weights and each mismatch is named.
    assert main(["eval", str(path), "--task", "copy-increment"]) == 2
    err = capsys.readouterr().err
    assert "puzzle_emb_ndim is 64 in the settings but 32 in the weights" in err
