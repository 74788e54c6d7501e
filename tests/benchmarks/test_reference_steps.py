"""The official-code reference steps of the benchmark compute what our step computes: the same loss from
the same weights, before and after an optimiser update (so the gradients agree too). Without this the
'÷ official-code step' ratios could compare two different computations."""

from __future__ import annotations

import pytest
import torch

from benchmarks.official import _config, _our_step
from benchmarks.reference_hrm import hrm_reference, reference_step
from benchmarks.reference_trm import trm_reference

TINY = {"task": "copy-increment", "train_size": 16, "test_size": 4, "grid_size": 3, "hidden_size": 32,
        "num_heads": 2, "expansion": 2.0, "puzzle_emb_ndim": 32, "batch_size": 4, "num_threads": 1}


@pytest.mark.parametrize("settings", [
    {"arch": "hrm", "halt_max_steps": 3, "optimizer": "adamw", "weight_decay": 0.1},
    {"arch": "trm", "halt_max_steps": 3, "H_cycles": 2, "L_cycles": 2, "puzzle_emb_len": 2,
     "loss_type": "softmax_cross_entropy"},
    {"arch": "trm", "halt_max_steps": 3, "no_ACT_continue": False, "pos_encodings": "learned"},
], ids=["hrm", "trm", "trm-q-target-learned"])
def test_reference_step_equals_ours(settings):
    torch.set_num_threads(1)
    config = _config(None, {**TINY, **settings})
    ours, head, batch, cfg = _our_step(config)
    build = trm_reference if config.model.arch == "trm" else hrm_reference
    weights = {k: v.clone() for k, v in head.model.state_dict().items()}
    ref = reference_step(build(cfg, config.model.loss_type, weights), config.train, batch)
    for seed in (1, 2, 3):
        torch.manual_seed(seed)
        mine = ours()
        torch.manual_seed(seed)
        theirs = ref()
        assert mine == pytest.approx(theirs, rel=1e-5), seed
