"""The architecture registry: a run's settings reach the model config by field name, unknown names
are refused with the known ones, and the model built through it is the one built before it."""

from __future__ import annotations

from dataclasses import fields

import pytest
import torch

from hrm_studio.config import ModelConfig, RunConfig
from hrm_studio.data import TaskInfo
from hrm_studio.errors import ConfigError
from hrm_studio.model import HRM, HRMConfig
from hrm_studio.model.registry import REGISTRY, architecture, build_model, build_model_config
from hrm_studio.training import checkpoint as ckpt
from hrm_studio.training.checkpoint_scoring import config_from_weights
from hrm_studio.training.data_source import load_data
from hrm_studio.training.model_factory import build_head, data_shape, model_config

# Every model setting away from both its own default and HRMConfig's, so a default cannot pass for a copy.
UNUSUAL_MODEL = {"hidden_size": 48, "num_heads": 3, "expansion": 3.0, "H_layers": 2, "L_layers": 3,
                 "H_cycles": 3, "L_cycles": 4, "puzzle_emb_ndim": 24, "pos_encodings": "learned",
                 "rope_theta": 500.0, "rms_norm_eps": 1e-6, "halt_max_steps": 5, "halt_exploration_prob": 0.25,
                 "forward_dtype": "bfloat16"}


def _info() -> TaskInfo:
    return TaskInfo(task="fake", vocab_size=7, seq_len=11, num_puzzle_identifiers=5, identifier_names=[],
                    pattern_names=[], grid_shape=(1, 11), vocab_labels=[], display="colour")


def _old_hrm_config(config: RunConfig, info) -> HRMConfig:
    """The hand-written copy the registry replaced (model_factory.hrm_config before it), kept as
    the reference the registry must agree with."""
    m = config.model
    return HRMConfig(
        batch_size=config.train.batch_size, seq_len=info.seq_len, vocab_size=info.vocab_size,
        num_puzzle_identifiers=info.num_puzzle_identifiers, puzzle_emb_ndim=m.puzzle_emb_ndim,
        H_cycles=m.H_cycles, L_cycles=m.L_cycles, H_layers=m.H_layers, L_layers=m.L_layers,
        hidden_size=m.hidden_size, expansion=m.expansion, num_heads=m.num_heads,
        pos_encodings=m.pos_encodings, rms_norm_eps=m.rms_norm_eps, rope_theta=m.rope_theta,
        halt_max_steps=m.halt_max_steps, halt_exploration_prob=m.halt_exploration_prob,
        forward_dtype=m.forward_dtype,
    )


def test_every_model_config_field_comes_from_a_same_named_setting_or_the_data():
    """Fails when a field is added to an architecture's config without a setting or data value of its name."""
    config = RunConfig.from_dict({"model": UNUSUAL_MODEL, "train": {"batch_size": 9}}).validate()
    info = _info()
    shape = data_shape(config, info)
    built = model_config(config, info)
    for f in fields(REGISTRY[config.model.arch].config_class):
        expected = shape[f.name] if f.name in shape else getattr(config.model, f.name, None)
        assert f.name in shape or hasattr(config.model, f.name), f"{f.name} has no setting of that name"
        assert getattr(built, f.name) == expected, f.name
    assert shape == {"batch_size": 9, "seq_len": 11, "vocab_size": 7, "num_puzzle_identifiers": 5}


def test_every_registered_architecture_can_be_filled_from_the_settings_and_data_by_name():
    names = {f.name for f in fields(ModelConfig)} | set(data_shape(RunConfig(), _info()))
    for spec in REGISTRY.values():
        missing = [f.name for f in fields(spec.config_class) if f.name not in names]
        assert not missing, f"{spec.name}: no setting for {missing}"


def test_vocabulary_and_identifiers_from_weights_win_over_the_data():
    built = model_config(RunConfig(), _info(), vocab_size=20, num_puzzle_identifiers=30)
    assert (built.vocab_size, built.num_puzzle_identifiers) == (20, 30)


def test_the_arch_choices_in_the_settings_are_the_registered_architectures():
    arch = next(f for f in fields(ModelConfig) if f.name == "arch")
    assert sorted(arch.metadata["choices"]) == sorted(REGISTRY)
    assert arch.default in REGISTRY


@pytest.mark.parametrize("call", [lambda: architecture("gpt"), lambda: build_model_config("gpt", {})],
                         ids=["architecture", "build_model_config"])
def test_an_unknown_architecture_is_a_config_error_naming_the_known_ones(call):
    with pytest.raises(ConfigError) as caught:
        call()
    message = str(caught.value)
    assert "'gpt'" in message
    for name in REGISTRY:
        assert name in message


def test_an_unknown_arch_setting_is_refused_by_validation():
    config = RunConfig()
    config.set("arch", "gpt")
    assert "arch" in config.problems()


def test_a_missing_field_is_named_and_unused_values_are_ignored():
    values = {**UNUSUAL_MODEL, "batch_size": 2, "seq_len": 4, "vocab_size": 5, "num_puzzle_identifiers": 1,
              "loss_type": "softmax_cross_entropy", "arch": "hrm", "something_else": object()}
    assert build_model_config("hrm", values).hidden_size == 48
    del values["hidden_size"], values["seq_len"]
    with pytest.raises(ConfigError, match="hidden_size") as caught:
        build_model_config("hrm", values)
    assert "seq_len" in str(caught.value)


def test_a_field_with_a_default_may_be_left_out_and_overrides_win():
    values = {name: value for name, value in UNUSUAL_MODEL.items() if name not in ("rope_theta", "pos_encodings")}
    built = build_model_config("hrm", values, batch_size=2, seq_len=4, vocab_size=5, num_puzzle_identifiers=1,
                               hidden_size=12)
    assert (built.rope_theta, built.pos_encodings, built.hidden_size) == (10000.0, "rope", 12)


def test_build_model_refuses_another_architectures_config():
    with pytest.raises(TypeError, match="HRMConfig"):
        build_model("hrm", {"hidden_size": 8})


def test_the_model_built_through_the_registry_is_the_one_built_before(tiny_config):
    config = tiny_config.copy()
    config.train.attention_kernel = "torch"
    info = load_data(config).info
    new_cfg = model_config(config, info)
    assert new_cfg == _old_hrm_config(config, info)
    torch.manual_seed(5)
    old = HRM(_old_hrm_config(config, info))
    torch.manual_seed(5)
    head = build_head(config, new_cfg)
    new_state, old_state = head.model.state_dict(), old.state_dict()
    assert {k: v.shape for k, v in new_state.items()} == {k: v.shape for k, v in old_state.items()}
    for key, value in old_state.items():
        assert torch.equal(new_state[key], value), key
    batch = _batch(new_cfg)
    with torch.no_grad():
        _, old_out = old(old.initial_carry(batch), batch)
        _, new_out = head.model(head.model.initial_carry(batch), batch)
    assert sorted(old_out) == sorted(new_out)
    for key, value in old_out.items():
        assert torch.equal(new_out[key], value), key


def _batch(cfg: HRMConfig) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return {"inputs": torch.randint(0, cfg.vocab_size, (cfg.batch_size, cfg.seq_len), generator=g),
            "labels": torch.randint(0, cfg.vocab_size, (cfg.batch_size, cfg.seq_len), generator=g),
            "puzzle_identifiers": torch.zeros(cfg.batch_size, dtype=torch.long)}


def test_a_settings_file_without_arch_loads_as_hrm():
    raw = RunConfig().to_dict()
    del raw["model"]["arch"]
    assert RunConfig.from_dict(raw).validate().model.arch == "hrm"


def test_a_checkpoint_saved_without_arch_still_builds_and_loads(tiny_config, tmp_path):
    """Checkpoints written before the setting existed carry no 'arch': they are HRM checkpoints."""
    tiny_config.train.attention_kernel = "torch"
    info = load_data(tiny_config).info
    state = build_head(tiny_config, model_config(tiny_config, info)).model.state_dict()
    settings = tiny_config.to_dict()
    del settings["model"]["arch"]
    path = ckpt.save_checkpoint(tmp_path / "old.pt", {"model": state, "config": settings})
    loaded = ckpt.read_weights(path)
    config = config_from_weights(loaded)
    assert config.model.arch == "hrm"
    model = build_head(config, model_config(config, info)).model
    ckpt.load_into(model, loaded.state_dict, path)


# ----- TRM beside HRM ------------------------------------------------------------------------

UNUSUAL_TRM = {**{k: v for k, v in UNUSUAL_MODEL.items() if k != "H_layers"}, "arch": "trm",
               "pos_encodings": "none", "mlp_t": True, "puzzle_emb_len": 3, "no_ACT_continue": False}
ALWAYS = ("arch", "loss_type")  # read by every architecture, outside its model config


def test_trm_is_registered_under_its_official_name_and_built_from_the_settings_by_name():
    from hrm_studio.model import TRM, TRMConfig

    assert architecture("trm").official_name == "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1"
    assert architecture("hrm").official_name == "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1"
    config = RunConfig.from_dict({"model": UNUSUAL_TRM, "train": {"attention_kernel": "torch"}}).validate()
    built = model_config(config, _info())
    assert isinstance(built, TRMConfig)
    for name, value in UNUSUAL_TRM.items():
        if name != "arch":
            assert getattr(built, name) == value, name
    assert isinstance(build_head(config, built).model, TRM)


def test_the_archs_metadata_names_exactly_the_architectures_whose_config_reads_the_setting():
    """The settings panel hides what an architecture ignores; it must never hide what it reads."""
    from hrm_studio.config import applies_to

    for f in fields(ModelConfig):
        assert set(f.metadata["archs"]) <= set(REGISTRY), f.name
        for name, spec in REGISTRY.items():
            reads = f.name in ALWAYS or f.name in {g.name for g in fields(spec.config_class)}
            assert applies_to(f, name) == reads, f"{f.name} for {name}"
    by_name = {f.name: f for f in fields(ModelConfig)}
    assert by_name["H_layers"].metadata["archs"] == ("hrm",)
    for name in ("mlp_t", "puzzle_emb_len", "no_ACT_continue"):
        assert by_name[name].metadata["archs"] == ("trm",), name


def test_trm_only_settings_are_harmless_while_training_hrm():
    from hrm_studio.validation import problems

    plain = RunConfig()
    changed = RunConfig.from_dict({"model": {"mlp_t": True, "puzzle_emb_len": 1, "no_ACT_continue": False}})
    assert problems(changed) == {}
    assert model_config(changed, _info()) == model_config(plain, _info())


def test_combinations_an_architecture_cannot_build_are_named_with_what_to_do():
    from hrm_studio.validation import problems

    hrm_without_positions = RunConfig.from_dict({"model": {"pos_encodings": "none"}})
    assert "trm" in problems(hrm_without_positions)["pos_encodings"]
    assert problems(RunConfig.from_dict({"model": {"arch": "trm", "pos_encodings": "none"}})) == {}
    too_short = RunConfig.from_dict({"model": {"arch": "trm", "puzzle_emb_ndim": 100, "hidden_size": 32,
                                               "puzzle_emb_len": 2}})
    reason = problems(too_short)["puzzle_emb_len"]
    assert "4" in reason and "0" in reason
    assert problems(RunConfig.from_dict({"model": {"arch": "trm", "puzzle_emb_ndim": 100, "hidden_size": 32,
                                                   "puzzle_emb_len": 0}})) == {}


def test_weights_and_official_names_tell_which_architecture_they_are():
    from hrm_studio.model.registry import architecture_of_official_name, architecture_of_weights

    for arch in REGISTRY:
        config = RunConfig.from_dict({"model": {"arch": arch}, "train": {"attention_kernel": "torch"}}).validate()
        model = build_head(config, model_config(config, _info())).model
        assert architecture_of_weights(model.state_dict()) == arch
        assert architecture_of_official_name(architecture(arch).official_name) == arch
    assert architecture_of_official_name("recursive_reasoning.hrm@HierarchicalReasoningModel_ACTV1") == "hrm"
    assert architecture_of_official_name("recursive_reasoning.trm_hier6@Other") is None
    assert architecture_of_weights(["inner.lm_head.weight"]) is None
