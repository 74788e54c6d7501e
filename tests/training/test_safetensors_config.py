"""A .safetensors export carries its settings inside, so the file alone opens (eval, window, --init-weights)."""

from __future__ import annotations

import torch

from hrm_studio.training.checkpoint import export_weights, read_weights


def test_the_config_comes_from_the_header_when_no_json_is_beside(tiny_config, tmp_path):
    weights = {"inner.w": torch.zeros(2, 3)}
    out = tmp_path / "model.safetensors"
    export_weights(weights, tiny_config, "safetensors", out)
    assert read_weights(out).config == tiny_config.to_dict()  # from model.json beside it
    (tmp_path / "model.json").unlink()
    lone = read_weights(out)
    assert lone.config == tiny_config.to_dict()
    assert torch.equal(lone.state_dict["inner.w"], weights["inner.w"])
