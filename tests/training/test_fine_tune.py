"""A new run from weights onto other puzzles: every weight kept, fresh (zero) puzzle embeddings, a Notice."""

from __future__ import annotations

import pytest
import torch

from hrm_studio.events import Notice, Started
from hrm_studio.training.checkpoint import LoadedWeights
from hrm_studio.training.fine_tune import NOTICE_KIND, PUZZLE_EMB_KEY, fit_puzzle_embeddings
from hrm_studio.training.trainer import Trainer
from tests.reliability.helpers import TINY_ARGS, tiny


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The weights of a tiny copy-increment run (3 puzzle identifiers), stopped before its first step, and
    its checkpoint's payload (which names the identifiers)."""
    run = tmp_path_factory.mktemp("fine-tune") / "run"
    trainer = Trainer(tiny(1), run, lambda event: trainer.stop() if isinstance(event, Started) else None)
    trainer.fit()
    path = run / "checkpoints" / "final.pt"
    return path, torch.load(path, weights_only=True)


def _other_puzzles(trained, tmp_path, rows: int):
    """Bare weights (no names) whose puzzle table has `rows` non-zero rows: trained on other puzzles."""
    sd = {k: v.clone() for k, v in trained[1]["model"].items()}
    sd[PUZZLE_EMB_KEY] = torch.full((rows, sd[PUZZLE_EMB_KEY].shape[1]), 0.5)
    path = tmp_path / "other-puzzles.pt"
    torch.save(sd, path)
    return path, sd


def test_a_new_run_onto_other_puzzles_keeps_every_weight_and_starts_their_embeddings_at_zero(trained, tmp_path):
    path, sd = _other_puzzles(trained, tmp_path, rows=5)
    events, started = [], {}

    def on_event(event):
        events.append(event)
        if isinstance(event, Started):  # the model as set up, before any step changes it
            started.update({k: v.clone() for k, v in trainer.head.model.state_dict().items()})
            trainer.stop()

    trainer = Trainer(tiny(1), tmp_path / "new", on_event)
    trainer.load_weights(path)
    trainer.fit()
    assert started[PUZZLE_EMB_KEY].shape == (3, 32) and not started[PUZZLE_EMB_KEY].any()
    assert all(torch.equal(started[k], v.to(started[k].dtype)) for k, v in sd.items() if k != PUZZLE_EMB_KEY)
    notices = [e for e in events if isinstance(e, Notice)]
    assert [n.kind for n in notices] == [NOTICE_KIND]
    assert notices[0].message.startswith("The data set has 3 puzzle identifiers, the weights 5: every weight was "
                                         "kept, the puzzle embeddings start from zero for the new puzzles")
    assert notices[0].run_dir == str(tmp_path / "new")


def test_the_command_line_trains_on_other_puzzles_and_says_so(trained, tmp_path, capsys):
    from hrm_studio.cli import main

    path, _ = _other_puzzles(trained, tmp_path, rows=1)  # once refused: fewer identifiers than the data uses
    assert main(["train", *TINY_ARGS, "--set", "epochs=1", "--init-weights", str(path),
                 "--out", str(tmp_path / "n")]) == 0
    err = capsys.readouterr().err
    assert "note: The data set has 3 puzzle identifiers, the weights 1: every weight was kept" in err
    final = torch.load(tmp_path / "n" / "checkpoints" / "final.pt", weights_only=True)["model"]
    assert final[PUZZLE_EMB_KEY].shape == (3, 32)


def _loaded(table: torch.Tensor, names: list[str] | None) -> LoadedWeights:
    payload = None if names is None else {"task": {"identifier_names": names}}
    return LoadedWeights({PUZZLE_EMB_KEY: table, "inner.q_head.bias": torch.ones(2)}, "studio", None, payload)


def test_puzzles_named_alike_keep_their_rows_the_others_start_at_zero(trained):
    info = trained[1]["task"]
    from hrm_studio.data import TaskInfo

    info = TaskInfo.from_dict(info)
    assert info.identifier_names[0] == "<blank>" and len(info.identifier_names) == 3
    table = torch.arange(8.0).reshape(4, 2) + 1
    held = ["<blank>", "elsewhere", info.identifier_names[2], "gone"]
    fitted, note = fit_puzzle_embeddings(_loaded(table, held), info)
    new = fitted.state_dict[PUZZLE_EMB_KEY]
    assert torch.equal(new[0], table[0]) and not new[1].any() and torch.equal(new[2], table[2])
    assert "the weights 4" in note and "(the 1 puzzle found in both keeps its own)" in note
    assert fitted.state_dict["inner.q_head.bias"] is not None and torch.equal(fitted.state_dict["inner.q_head.bias"],
                                                                             torch.ones(2))
    # Same count, other names: still other puzzles.
    same_count = ["<blank>", "a", "b"]
    fitted, note = fit_puzzle_embeddings(_loaded(table[:3], same_count), info)
    assert not fitted.state_dict[PUZZLE_EMB_KEY][1:].any() and "name other puzzles than the weights'" in note


def test_the_same_puzzles_or_an_unnamed_table_of_the_right_size_are_left_alone(trained):
    from hrm_studio.data import TaskInfo

    info = TaskInfo.from_dict(trained[1]["task"])
    table = torch.ones(3, 2)
    for names in (list(info.identifier_names), None):
        loaded = _loaded(table, names)
        assert fit_puzzle_embeddings(loaded, info) == (loaded, None)
