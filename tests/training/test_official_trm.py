"""Official TRM checkpoint folders (step_N + all_config.yaml) open as TRM and export back unchanged, and
weights of one architecture opened as the other are refused naming the one they hold."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
import torch
import yaml

from hrm_studio.config import RunConfig
from hrm_studio.errors import CheckpointError
from hrm_studio.model.registry import build_model, build_model_config
from hrm_studio.training import checkpoint as ckpt
from hrm_studio.training.trainer import Trainer
from hrm_studio.validation import validate
from tests.reliability.helpers import tiny

D, V, IDS, F = 16, 6, 3, 256  # hidden, vocabulary, puzzle identifiers, SwiGLU width (rounded up to 256)
SHAPE = dict(batch_size=4, seq_len=9, vocab_size=V, num_puzzle_identifiers=IDS)

# As upstream's pretrain.py dumps it (config/arch/trm.yaml filled in), for a tiny model.
UPSTREAM_YAML = f"""
arch:
  name: recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1
  loss: {{name: losses@ACTLossHead, loss_type: stablemax_cross_entropy}}
  halt_exploration_prob: 0.1
  halt_max_steps: 4
  H_cycles: 3
  L_cycles: 4
  H_layers: 0
  L_layers: 2
  hidden_size: {D}
  num_heads: 2
  expansion: 4
  puzzle_emb_ndim: {D}
  pos_encodings: rope
  forward_dtype: bfloat16
  mlp_t: false
  puzzle_emb_len: 2
  no_ACT_continue: true
data_paths: [data/sudoku-extreme-1k-aug-1000]
global_batch_size: 768
epochs: 50000
eval_interval: 5000
lr: 1.0e-4
lr_min_ratio: 1.0
lr_warmup_steps: 2000
beta1: 0.9
beta2: 0.95
weight_decay: 1.0
puzzle_emb_weight_decay: 1.0
puzzle_emb_lr: 1.0e-4
seed: 0
ema: true
ema_rate: 0.999
"""


def _upstream_trm(folder: Path) -> dict[str, torch.Tensor]:
    """An upstream TRM step file written from trm-spec.md's key list alone (not from our model)."""
    shapes = {"inner.H_init": (D,), "inner.L_init": (D,), "inner.embed_tokens.embedding_weight": (V, D),
              "inner.lm_head.weight": (V, D), "inner.q_head.weight": (2, D), "inner.q_head.bias": (2,),
              "inner.puzzle_emb.weights": (IDS, D)}
    for i in range(2):
        layer = f"inner.L_level.layers.{i}."
        shapes.update({layer + "self_attn.qkv_proj.weight": (3 * D, D), layer + "self_attn.o_proj.weight": (D, D),
                       layer + "mlp.gate_up_proj.weight": (2 * F, D), layer + "mlp.down_proj.weight": (D, F)})
    g = torch.Generator().manual_seed(5)
    state = {f"_orig_mod.model.{k}": torch.randn(s, generator=g) for k, s in shapes.items()}
    folder.mkdir(parents=True)
    torch.save(state, folder / "step_120")
    (folder / "all_config.yaml").write_text(UPSTREAM_YAML)
    return state


def _model(config: RunConfig) -> torch.nn.Module:
    arch = config.model.arch
    return build_model(arch, build_model_config(arch, asdict(config.model), **SHAPE))


def test_an_upstream_trm_folder_opens_as_trm_and_exports_back_identically(tmp_path):
    upstream = _upstream_trm(tmp_path / "upstream")
    loaded = ckpt.read_weights(tmp_path / "upstream" / "step_120")
    assert loaded.source == "official" and loaded.config["arch"] == "trm"
    config = validate(RunConfig.from_dict(loaded.config, base=tiny(1, lr_warmup_epochs=0.5)))
    m, t = config.model, config.train
    assert (m.arch, m.H_cycles, m.L_cycles, m.L_layers, m.puzzle_emb_len, m.halt_max_steps) == ("trm", 3, 4, 2, 2, 4)
    assert (m.mlp_t, m.no_ACT_continue, m.loss_type) == (False, True, "stablemax_cross_entropy")
    assert (t.optimizer, t.ema_decay, t.lr_warmup_steps, t.lr_warmup_epochs) == ("adam_atan2", 0.999, 2000, 0.0)

    model = _model(config)
    ckpt.check_config_against_weights(config, loaded.state_dict, "the upstream file")
    ckpt.load_into(model, loaded.state_dict, "the upstream file")  # every official key and shape fits our TRM
    step, written_yaml = ckpt.export_weights(model.state_dict(), config, "hrm", tmp_path / "ours", step=120)
    written = torch.load(step, weights_only=True)
    assert sorted(written) == sorted(upstream)
    assert all(torch.equal(written[k], v) for k, v in upstream.items())
    doc = yaml.safe_load(written_yaml.read_text())
    assert doc["arch"]["name"] == "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1"
    assert (doc["ema"], doc["ema_rate"], doc["lr_warmup_steps"]) == (True, 0.999, 2000)

    again = ckpt.read_weights(step)
    assert {k: again.config[k] for k in loaded.config} == loaded.config
    assert all(torch.equal(again.state_dict[k], v) for k, v in loaded.state_dict.items())


def test_weights_of_one_architecture_opened_as_the_other_are_refused_naming_what_they_hold(tmp_path):
    _upstream_trm(tmp_path / "upstream")
    official_trm = ckpt.read_weights(tmp_path / "upstream" / "step_120")
    hrm, trm = tiny(1), tiny(1, arch="trm", puzzle_emb_len=2)
    with pytest.raises(CheckpointError, match=r"holds TRM weights \(Tiny Recursive Model\), but the settings "
                                              r"say arch = hrm .*--set arch=trm"):
        ckpt.check_config_against_weights(hrm, official_trm.state_dict, "step_120")

    hrm_weights = _model(hrm).state_dict()
    ckpt.export_weights(hrm_weights, hrm, "hrm", tmp_path / "official-hrm", step=1)
    official_hrm = ckpt.read_weights(tmp_path / "official-hrm" / "step_1")
    with pytest.raises(CheckpointError, match=r"holds HRM weights \(Hierarchical Reasoning Model\), but the "
                                              r"settings say arch = trm"):
        ckpt.check_config_against_weights(trm, official_hrm.state_dict, "step_1")
    with pytest.raises(CheckpointError, match="holds HRM weights"):
        ckpt.load_into(_model(trm), official_hrm.state_dict, "step_1")

    (tmp_path / "official-hrm" / "all_config.yaml").write_text(UPSTREAM_YAML)  # a TRM config beside HRM weights
    with pytest.raises(CheckpointError, match=r"holds HRM weights .* all_config.yaml beside it names arch = trm"):
        ckpt.read_weights(tmp_path / "official-hrm" / "step_1")

    for weights, settings, opened_as, held in ((official_trm.state_dict, trm, hrm, "TRM"),
                                               (hrm_weights, hrm, trm, "HRM")):
        studio = tmp_path / f"{held}.pt"
        ckpt.export_weights(weights, settings, "pt", studio)
        trainer = Trainer(opened_as, tmp_path / f"run-{held}")
        trainer.load_weights(studio)
        with pytest.raises(CheckpointError, match=f"holds {held} weights"):
            trainer.fit()
    point = ckpt.ResumePoint(tmp_path / "TRM.pt", {}, trm)
    with pytest.raises(CheckpointError, match=r"is a TRM run \(Tiny Recursive Model\), so it cannot be resumed as HRM"):
        ckpt.check_resume_settings(point, hrm)
