"""Bare TRM weights (a state dict with no settings) open as TRM: the window takes the architecture from the
weights' networks, not from the settings on screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hrm_studio.gui.shell.model_export import format_for_filter, model_formats
from tests.gui.conftest import RUN_TIMEOUT_MS


def bare_trm_weights(tmp_path: Path) -> Path:
    import torch

    from hrm_studio.presets import preset_config
    from hrm_studio.training.data_source import load_data
    from hrm_studio.training.model_factory import build_head, model_config

    config = preset_config("trm-copy-increment")
    for name, value in {"hidden_size": 32, "num_heads": 2, "train_size": 16, "test_size": 4}.items():
        config.set(name, value)
    head = build_head(config, model_config(config, load_data(config).info))
    path = tmp_path / "trm_weights.pth"
    torch.save(head.model.state_dict(), path)
    return path


def test_bare_trm_weights_open_as_trm_in_the_window(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    path = bare_trm_weights(tmp_path)
    window = make_window()
    assert window.settings.config().model.arch == "hrm"
    with qtbot.waitSignal(window.opened, timeout=RUN_TIMEOUT_MS):
        window.open_checkpoint(path)
    opened = window.session.opened
    assert opened.source == "state_dict" and opened.config.model.arch == "trm"
    assert window.settings.config().model.arch == "trm" and window.settings.field_shown("mlp_t")
    assert not window.settings.field_shown("H_layers")
    # Export model… offers the official format under the opened model's name.
    offered: list[str] = []
    window.prompts.export_model = lambda suggested, arch: offered.append(model_formats(arch)["hrm"])
    window.files.prompt_export_model()
    assert offered == ["Official TRM folder (step_N + all_config.yaml)"]
    assert format_for_filter(offered[0], "trm") == "hrm" and format_for_filter(offered[0], "hrm") == "pt"
