"""Untrusted checkpoints: each bad file is one sentence and exit code 2, and nothing is lost.

Every case is tried where a person meets it — `train --resume`, `train --init-weights`,
`eval` — and the run folder it sits in must be byte-for-byte what it was before.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch

from hrm_studio.cli import main
from hrm_studio.errors import CheckpointError
from hrm_studio.training import checkpoint as ckpt
from tests.reliability.helpers import TINY_ARGS, one_line_error, snapshot, tiny


class _RunsCode:
    """Unpickling this calls os.system: the marker file appears iff the payload ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _malicious(path: Path, marker: Path, inside_studio_checkpoint: bool) -> None:
    if inside_studio_checkpoint:
        real = torch.load(path, weights_only=True)
        real["model"]["inner.q_head.bias"] = _RunsCode(marker)  # a studio file with one poisoned entry
        torch.save(real, path)
    else:
        torch.save({"model": _RunsCode(marker)}, path)


def _make_bad(kind: str, path: Path, tmp_path: Path) -> str:
    """Turn checkpoint `path` into a bad file of `kind`; returns words its message must hold."""
    good = path.read_bytes()
    if kind == "empty":
        path.write_bytes(b"")
        return "is empty (0 bytes)"
    if kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
        return "damaged"
    if kind == "random-bytes":
        path.write_bytes(os.urandom(4096))
        return "damaged"
    if kind == "plain-pickle":
        path.write_bytes(pickle.dumps({"model": [1, 2, 3]}))
        return "damaged or is not a PyTorch file"
    raise AssertionError(kind)


WAYS = {
    "resume": lambda ckpt_path, out: ["train", "--resume", str(ckpt_path)],
    "init-weights": lambda ckpt_path, out: ["train", *TINY_ARGS, "--init-weights", str(ckpt_path),
                                            "--out", str(out)],
    "eval": lambda ckpt_path, out: ["eval", str(ckpt_path)],
}


@pytest.mark.parametrize("way", sorted(WAYS))
@pytest.mark.parametrize("kind", ["empty", "truncated", "random-bytes", "plain-pickle"])
def test_a_damaged_checkpoint_is_one_sentence_and_the_run_folder_is_untouched(finished_run, tmp_path, capsys,
                                                                               kind, way):
    last = finished_run / "checkpoints" / "last.pt"
    words = _make_bad(kind, last, tmp_path)
    before = snapshot(finished_run)
    assert main(WAYS[way](last, tmp_path / "new")) == 2
    line = one_line_error(capsys.readouterr().err)
    assert str(last) in line and words in line
    assert snapshot(finished_run) == before
    assert not (tmp_path / "new").exists()  # nothing was started


@pytest.mark.parametrize("way", sorted(WAYS))
@pytest.mark.parametrize("inside", [False, True], ids=["bare", "inside-studio-checkpoint"])
def test_a_pickle_that_runs_code_is_refused_and_its_payload_never_runs(finished_run, tmp_path, capsys, way, inside):
    marker = tmp_path / "payload-ran"
    last = finished_run / "checkpoints" / "last.pt"
    _malicious(last, marker, inside)
    before = snapshot(finished_run)
    assert main(WAYS[way](last, tmp_path / "new")) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "could run code" in line and "refuses to open it" in line
    assert not marker.exists()
    assert snapshot(finished_run) == before
    # The Trainer API and the plain reader refuse it the same way.
    with pytest.raises(CheckpointError, match="could run code"):
        ckpt.read_weights(last)
    assert not marker.exists()


def test_a_malicious_official_yaml_never_runs(finished_run, tmp_path, capsys):
    marker = tmp_path / "yaml-ran"
    official = tmp_path / "official"
    assert main(["export", str(finished_run / "checkpoints" / "final.pt"), "--format", "hrm",
                 "--out", str(official)]) == 0
    (official / "all_config.yaml").write_text(f'arch: !!python/object/apply:os.system ["touch {marker}"]\n')
    capsys.readouterr()
    assert main(["eval", str(next(official.glob("step_*"))), "--task", "copy-increment"]) == 2
    assert "cannot be read as YAML" in one_line_error(capsys.readouterr().err)
    assert not marker.exists()


def test_a_malicious_resume_folder_is_refused_the_same_way(finished_run, tmp_path, capsys):
    """`--resume RUN_FOLDER` opens last.pt: a poisoned one is refused before anything runs."""
    marker = tmp_path / "payload-ran"
    _malicious(finished_run / "checkpoints" / "last.pt", marker, True)
    before = snapshot(finished_run)
    assert main(["train", "--resume", str(finished_run)]) == 2
    assert "could run code" in one_line_error(capsys.readouterr().err)
    assert not marker.exists() and snapshot(finished_run) == before


@pytest.fixture
def other_architecture(tmp_path):
    """A real checkpoint of a wider model trained on sudoku (another vocabulary and grid)."""
    from hrm_studio.training.trainer import Trainer

    config = tiny(1)
    config.set("task", "sudoku-4x4")
    config.set("grid_size", 0)
    config.set("hidden_size", 64)
    config.set("num_heads", 4)
    config.set("puzzle_emb_ndim", 64)
    Trainer(config, tmp_path / "other").fit()
    return tmp_path / "other" / "checkpoints" / "final.pt"


def test_weights_of_another_architecture_name_each_contradiction(finished_run, other_architecture, tmp_path,
                                                                  capsys):
    before = snapshot(finished_run)
    assert main(["train", *TINY_ARGS, "--init-weights", str(other_architecture), "--out", str(tmp_path / "n")]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "hidden_size is 32 in the settings but 64 in the weights" in line
    assert "puzzle_emb_ndim is 32 in the settings but 64 in the weights" in line
    assert not (tmp_path / "n").exists()
    # eval with the run's own settings: same refusal, naming the checkpoint.
    assert main(["eval", str(other_architecture), "--task", "copy-increment", "--set", "hidden_size=32"]) == 2
    assert "hidden_size is 32 in the settings but 64 in the weights" in one_line_error(capsys.readouterr().err)
    assert snapshot(finished_run) == before


def test_a_checkpoint_for_another_vocabulary_lists_the_keys_and_shapes(finished_run, tmp_path, capsys):
    """Same width and depth, fewer tokens: refused before training, with the keys. (Fewer puzzle identifiers
    alone are other puzzles: they get fresh embeddings, tests/training/test_fine_tune.py.)"""
    path = tmp_path / "small-vocab.pt"
    sd = torch.load(finished_run / "checkpoints" / "final.pt", weights_only=True)["model"]
    sd["inner.embed_tokens.embedding_weight"] = sd["inner.embed_tokens.embedding_weight"][:6].clone()
    sd["inner.lm_head.weight"] = sd["inner.lm_head.weight"][:6].clone()
    sd["inner.puzzle_emb.weights"] = sd["inner.puzzle_emb.weights"][:1].clone()
    torch.save(sd, path)
    assert main(["train", *TINY_ARGS, "--init-weights", str(path), "--out", str(tmp_path / "n")]) == 2
    line = one_line_error(capsys.readouterr().err)
    assert "inner.embed_tokens.embedding_weight has [6, 32] (6 tokens) but the puzzles use 12 tokens" in line
    assert "inner.lm_head.weight has [6, 32]" in line
    assert "puzzle identifiers" not in line and "puzzle_emb" not in line
    assert not (tmp_path / "n").exists()


def test_mismatched_keys_and_shapes_are_listed_before_anything_is_copied(finished_run, tmp_path):
    """load_into checks every key first: on refusal the model's weights are exactly as before."""
    from hrm_studio.training.trainer import Trainer

    trainer = Trainer(tiny(1), tmp_path / "t")
    trainer.fit()
    model = trainer.head.model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    sd = {k: torch.full_like(v, 7.0) if v.is_floating_point() else v for k, v in before.items()}
    sd["inner.lm_head.weight"] = torch.zeros(5, 32)
    del sd["inner.q_head.bias"]
    sd["inner.extra.weight"] = torch.zeros(2, 2)
    with pytest.raises(CheckpointError) as info:
        ckpt.load_into(model, sd, "x.pt")
    text = str(info.value)
    assert "(3 mismatches)" in text
    assert "inner.lm_head.weight: file has [5, 32], the settings need [12, 32]" in text
    assert "missing inner.q_head.bias [2]" in text and "unexpected inner.extra.weight [2, 2]" in text
    assert all(torch.equal(model.state_dict()[k], v) for k, v in before.items())


def test_weights_holding_nan_are_refused(finished_run, tmp_path, capsys):
    path = tmp_path / "nan.pt"
    payload = torch.load(finished_run / "checkpoints" / "final.pt", weights_only=True)
    payload["model"]["inner.lm_head.weight"][0, 0] = float("nan")
    torch.save(payload, path)
    assert main(["eval", str(path)]) == 2
    assert "hold NaN or infinite values (inner.lm_head.weight)" in one_line_error(capsys.readouterr().err)


@pytest.mark.parametrize("damage, words", [
    (lambda p: p.update(epoch="three"), "'epoch' is not a whole number"),
    (lambda p: p.update(history={"not": "a list"}), "history is not a list"),
    (lambda p: p.pop("optimizer"), "optimiser state is missing"),
    (lambda p: p["optimizer"]["state"][0].update(exp_avg=torch.zeros(3)), "does not fit: 'exp_avg' of parameter 0"),
    (lambda p: p["config"]["model"].update(hidden_size=-4), "settings stored in"),
])
def test_a_resume_payload_with_wrong_fields_is_refused_cleanly(finished_run, tmp_path, capsys, damage, words):
    path = tmp_path / "odd.pt"
    payload = torch.load(finished_run / "checkpoints" / "last.pt", weights_only=True)
    damage(payload)
    torch.save(payload, path)
    assert main(["train", "--resume", str(path), "--out", str(tmp_path / "r")]) == 2
    assert words in one_line_error(capsys.readouterr().err)
