"""Checkpoint files: safe loading, recognising every kind, shape checks, exports."""

from __future__ import annotations

import pickle

import pytest
import torch

from hrm_studio.errors import CheckpointError
from hrm_studio.training import checkpoint as ckpt
from hrm_studio.training.trainer import Trainer


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from hrm_studio.config import RunConfig
    from tests.conftest import TINY_SETTINGS

    config = RunConfig.from_dict(TINY_SETTINGS)
    config.train.epochs = 1
    run = tmp_path_factory.mktemp("ckpt") / "run"
    trainer = Trainer(config, run)
    trainer.fit()
    return config, run / "checkpoints" / "final.pt", trainer


class _Payload:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/hrm-studio-pwned-marker",))


@pytest.mark.parametrize("content, words", [
    (b"", "is empty"),
    (b"\x00\x01garbage" * 50, "damaged"),
])
def test_unreadable_files_give_one_sentence(tmp_path, content, words):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=words):
        ckpt.read_weights(path)


def test_truncated_checkpoint_is_refused(trained, tmp_path):
    _, final, _ = trained
    path = tmp_path / "half.pt"
    path.write_bytes(final.read_bytes()[: final.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="damaged or truncated|damaged"):
        ckpt.read_weights(path)


def test_a_pickle_that_runs_code_is_refused_and_never_runs(tmp_path):
    import os

    marker = "/tmp/hrm-studio-pwned-marker"
    if os.path.exists(marker):
        os.unlink(marker)
    path = tmp_path / "evil.pt"
    torch.save({"model": _Payload()}, path)
    with pytest.raises(CheckpointError, match="could run code"):
        ckpt.read_weights(path)
    assert not os.path.exists(marker)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        ckpt.read_weights(tmp_path / "nope.pt")
    with pytest.raises(CheckpointError, match="is a folder"):
        ckpt.read_weights(tmp_path)


def test_studio_checkpoint_is_recognised_with_its_config(trained):
    config, final, _ = trained
    loaded = ckpt.read_weights(final)
    assert loaded.source == "studio"
    assert loaded.payload["epoch"] == 1
    assert loaded.config["model"]["hidden_size"] == config.model.hidden_size
    assert all(k.startswith("inner.") for k in loaded.state_dict)


def test_official_step_file_prefix_is_stripped_and_yaml_read(trained, tmp_path):
    config, final, _ = trained
    written = ckpt.export_weights(ckpt.read_weights(final).state_dict, config, "hrm", tmp_path / "official",
                                  step=7)
    assert [p.name for p in written] == ["step_7", "all_config.yaml"]
    raw = torch.load(written[0], weights_only=True)
    assert all(k.startswith("_orig_mod.model.inner.") for k in raw)
    loaded = ckpt.read_weights(written[0])
    assert loaded.source == "official"
    assert loaded.config["hidden_size"] == config.model.hidden_size
    assert loaded.config["halt_max_steps"] == config.model.halt_max_steps
    assert set(loaded.state_dict) == set(ckpt.read_weights(final).state_dict)


def test_bare_state_dict_is_recognised(trained, tmp_path):
    _, final, trainer = trained
    path = tmp_path / "final_model.pth"
    torch.save(trainer.head.model.state_dict(), path)
    loaded = ckpt.read_weights(path)
    assert loaded.source == "state_dict" and loaded.config is None


def test_safetensors_round_trip_keeps_weights_and_config(trained, tmp_path):
    config, final, _ = trained
    sd = ckpt.read_weights(final).state_dict
    out = tmp_path / "model.safetensors"
    ckpt.export_weights(sd, config, "safetensors", out)
    loaded = ckpt.read_weights(out)
    assert loaded.source == "safetensors"
    assert loaded.config["model"]["hidden_size"] == config.model.hidden_size
    for key, value in sd.items():
        assert torch.equal(loaded.state_dict[key], value), key


def test_weights_for_another_architecture_list_every_mismatch(trained):
    config, final, trainer = trained
    sd = dict(ckpt.read_weights(final).state_dict)
    sd["inner.lm_head.weight"] = torch.zeros(5, 7)
    sd.pop("inner.q_head.bias")
    sd["inner.extra"] = torch.zeros(1)
    with pytest.raises(CheckpointError) as info:
        ckpt.load_into(trainer.head.model, sd, "x.pt")
    text = str(info.value)
    assert "inner.lm_head.weight: file has [5, 7]" in text
    assert "missing inner.q_head.bias" in text
    assert "unexpected inner.extra" in text


def test_settings_contradicting_the_weights_are_named(trained):
    config, final, _ = trained
    other = config.copy()
    other.model.hidden_size = 64
    with pytest.raises(CheckpointError, match="hidden_size is 64 in the settings but 32 in the weights"):
        ckpt.check_config_against_weights(other, ckpt.read_weights(final).state_dict, final)


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    ckpt.save_checkpoint(path, {"epoch": 1, "model": {"inner.x": torch.zeros(1)}})

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(Exception, match="No space left"):
        ckpt.save_checkpoint(path, {"epoch": 2})
    assert torch.load(path, weights_only=True)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temp file left behind


def test_pickle_protocol_error_is_not_mistaken_for_malice(tmp_path):
    path = tmp_path / "p.pt"
    path.write_bytes(pickle.dumps([1, 2, 3], protocol=2)[:3])
    with pytest.raises(CheckpointError) as info:
        ckpt.read_weights(path)
    assert "could run code" not in str(info.value)


def _bare_trm_weights(tmp_path):
    """Untrained tiny TRM weights saved as a bare safetensors file (no settings inside or beside it)."""
    from safetensors.torch import save_file

    from hrm_studio.config import RunConfig
    from hrm_studio.training.data_source import load_data
    from hrm_studio.training.model_factory import build_head, model_config
    from tests.conftest import TINY_SETTINGS

    config = RunConfig.from_dict(TINY_SETTINGS)
    config.set("arch", "trm")
    config.set("puzzle_emb_len", 0)
    info = load_data(config).info
    torch.manual_seed(0)
    model = build_head(config, model_config(config, info)).model
    path = tmp_path / "bare_trm.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


def test_bare_weights_open_as_the_architecture_their_networks_show(tmp_path, capsys):
    from hrm_studio.cli import main
    from hrm_studio.config import RunConfig

    path = _bare_trm_weights(tmp_path)
    loaded = ckpt.read_weights(path)
    assert loaded.config is None and loaded.arch == "trm"
    assert ckpt.settings_for(loaded, RunConfig()).model.arch == "trm"  # the default says hrm: the weights win
    loaded.config = {"model": {"arch": "hrm"}}  # settings that name an architecture are kept (and then refused)
    assert ckpt.settings_for(loaded, RunConfig()).model.arch == "hrm"
    # The CLI reads the architecture from the weights: no --set arch=trm needed.
    assert main(["eval", str(path), "--task", "copy-increment", "--set", "train_size=48", "--set", "test_size=12",
                 "--set", "grid_size=3", "--set", "hidden_size=32", "--set", "num_heads=2", "--set", "puzzle_emb_ndim=32",
                 "--set", "puzzle_emb_len=0",
                 "--set", "halt_max_steps=2", "--limit", "4", "--json"]) == 0
    assert '"puzzles": 4' in capsys.readouterr().out
