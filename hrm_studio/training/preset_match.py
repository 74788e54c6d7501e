"""Which preset a set of weights was trained with, read from the weights' shapes alone.

Why: a bare state dict (the seed's `hrm_final_model.pth`) says nothing about its settings,
and the settings on screen then disagree with it in ways only its tensor shapes reveal (the
puzzle-identifier table has 2 rows, the puzzles need 3). Naming the preset whose model and
generated data give exactly those shapes turns "these do not fit" into "apply *Seed
reproduction*". No torch: the caller passes what `checkpoint.shapes_from_weights` read.
"""

from __future__ import annotations

from typing import Mapping

from hrm_studio.config import RunConfig
from hrm_studio.errors import ConfigError
from hrm_studio.presets import PRESETS, preset_config, preset_label

# Shapes a preset is compared on: each is in `told` only when the weights hold the tensor that tells it.
MODEL_SHAPES = ("hidden_size", "puzzle_emb_ndim", "L_layers")


def fits_weights(config: RunConfig, told: Mapping[str, int], arch: str | None = None) -> bool:
    """Whether a model and generated data built from `config` would have exactly the shapes in `told`."""
    from hrm_studio.training.data_source import generated_shape

    if arch is not None and config.model.arch != arch:
        return False
    names = MODEL_SHAPES + (("H_layers",) if config.model.arch == "hrm" else ())
    if any(name in told and told[name] != config.get(name) for name in names):
        return False
    if ("positions" in told) != (config.model.pos_encodings == "learned"):
        return False
    if config.data.dataset_dir:
        return False   # a folder's shapes are only known once it is read
    try:
        shape = generated_shape(config)
    except ConfigError:
        return False
    return (told.get("vocab_size", shape.vocab_size) == shape.vocab_size
            and told.get("num_puzzle_identifiers", shape.num_puzzle_identifiers) == shape.num_puzzle_identifiers)


def matching_presets(told: Mapping[str, int], arch: str | None = None) -> list[str]:
    """The presets (in their listed order) whose model and data fit weights of these shapes."""
    return [name for name in PRESETS if fits_weights(preset_config(name), told, arch)]


def preset_advice(told: Mapping[str, int], arch: str | None = None) -> str:
    """The sentence that names the fix: the matching preset, or how to give the settings."""
    found = matching_presets(told, arch)
    if not found:
        return ("Use the settings the weights were trained with (a preset, --config or --set on the command "
                "line).")
    name = found[0]
    return (f"These weights match the '{name}' preset ({preset_label(name)}): choose it under Preset in the "
            f"window, or add --preset {name} on the command line.")


def identifier_words(needed: int, held: int) -> str:
    """'the puzzles use 3 puzzle identifiers (0 to 2) but the weights hold only 2 (0 to 1)'."""
    def span(n: int) -> str:
        return "identifier 0" if n == 1 else f"0 to {n - 1}"
    return (f"the puzzles use {needed} puzzle identifier{'s' if needed != 1 else ''} ({span(needed)}) but the "
            f"weights hold only {held} ({span(held)})")
