"""RunConfig: defaults, coercion from text, validation messages, JSON round trip, presets."""

from __future__ import annotations

import json
import math

import pytest

from hrm_studio import validation
from hrm_studio.config import RunConfig, all_fields, parse_pattern_mix
from hrm_studio.errors import ConfigError
from hrm_studio.presets import PRESETS, preset_config, task_config


def test_defaults_are_valid_and_every_field_has_help():
    RunConfig().validate()
    for _, f in all_fields():
        assert f.metadata["help"].strip(), f.name
        assert f.metadata["group"], f.name


def test_field_names_are_unique_across_sections():
    names = [f.name for _, f in all_fields()]
    assert len(names) == len(set(names))


def test_set_converts_text_to_the_field_type():
    c = RunConfig()
    c.apply_overrides(["hidden_size=128", "lr=5e-4", "shared_identifier=yes", "optimizer=adam"])
    assert c.model.hidden_size == 128 and isinstance(c.model.hidden_size, int)
    assert c.train.lr == pytest.approx(5e-4)
    assert c.data.shared_identifier is True
    assert c.train.optimizer == "adam"


@pytest.mark.parametrize("item, words", [
    ("hidden_size=abc", "hidden_size' must be a whole number"),
    ("hidden_size=1.5", "whole number"),
    ("shared_identifier=maybe", "true or false"),
    ("lr", "must look like name=value"),
    ("hiden_size=64", "Did you mean hidden_size"),
])
def test_bad_overrides_say_what_is_wrong(item, words):
    with pytest.raises(ConfigError, match=words):
        RunConfig().apply_overrides([item])


@pytest.mark.parametrize("name, value, words", [
    ("num_heads", 3, "must divide evenly by num_heads"),
    ("lr", 0.0, "lr must be greater than 0"),
    ("lr", -1.0, "lr must be greater than 0"),
    ("lr", math.nan, "finite number"),
    ("hidden_size", 0, "hidden_size must be at least 8"),
    ("batch_size", 10**9, "batch_size must be at most"),
    ("pos_encodings", "alibi", "must be one of rope, learned"),
    ("task", "chess", "Unknown task 'chess'"),
    ("pattern_mix", "copy=-1", "pattern_mix"),
])
def test_validation_names_the_field_and_the_reason(name, value, words):
    c = RunConfig()
    c.set(name, value)
    problems = validation.problems(c)
    assert any(words in reason for reason in problems.values()), problems
    with pytest.raises(ConfigError, match=words):
        validation.validate(c)


def test_odd_head_width_is_refused_for_rope():
    c = RunConfig()
    c.apply_overrides(["hidden_size=36", "num_heads=12"])  # head width 3
    assert "even head width" in c.problems()["num_heads"]


def test_json_round_trip_and_flat_or_nested_input(tmp_path):
    c = RunConfig()
    c.apply_overrides(["hidden_size=96", "num_heads=4", "task=sudoku-4x4", "epochs=7"])
    path = tmp_path / "c.json"
    path.write_text(c.to_json())
    assert RunConfig.from_json_file(path) == c
    assert RunConfig.from_dict({"hidden_size": 96}).model.hidden_size == 96


def test_config_file_errors_are_one_sentence(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        RunConfig.from_json_file(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        RunConfig.from_json_file(tmp_path / "missing.json")
    bad.write_text(json.dumps({"model": {"hidden": 3}}))
    with pytest.raises(ConfigError, match="Unknown setting 'model.hidden'"):
        RunConfig.from_json_file(bad)


def test_every_preset_is_valid():
    for name in PRESETS:
        preset_config(name).validate()


def test_seed_preset_matches_the_seed_run():
    c = preset_config("seed")
    m, d, t = c.model, c.data, c.train
    assert (m.hidden_size, m.num_heads, m.expansion, m.H_layers, m.L_layers, m.H_cycles, m.L_cycles) == \
        (64, 4, 2.0, 1, 1, 2, 2)
    assert (m.puzzle_emb_ndim, m.halt_max_steps, m.halt_exploration_prob) == (32, 6, 0.1)
    assert (t.batch_size, t.optimizer, t.lr, t.epochs, t.seed) == (2, "adam", 1e-3, 20, 42)
    assert (d.encoding, d.train_size, d.test_size, d.shared_identifier) == ("canvas", 8, 2, True)


def test_task_config_uses_the_task_preset_or_defaults():
    assert task_config("sudoku-4x4").model.hidden_size == 128
    assert task_config("flip").data.task == "flip"


def test_pattern_mix_parsing():
    assert parse_pattern_mix("copy=3, increment=1") == {"copy": 3.0, "increment": 1.0}
    with pytest.raises(ConfigError):
        parse_pattern_mix("copy=0,increment=0")
    with pytest.raises(ConfigError):
        parse_pattern_mix("copy")
