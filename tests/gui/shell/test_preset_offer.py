"""The seed's bare weights opened over other settings: the window names the preset they match, the
failed evaluation names both identifier counts and the fix, and evaluating again after the settings
change uses the settings on screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.gui.conftest import RUN_TIMEOUT_MS


@pytest.fixture
def seed_weights(tmp_path: Path) -> Path:
    """A bare state dict of the seed's model and data, as the seed's hrm_final_model.pth is."""
    import torch

    from hrm_studio.presets import preset_config
    from hrm_studio.training.data_source import load_data
    from hrm_studio.training.model_factory import build_head, model_config

    config = preset_config("seed")
    head = build_head(config, model_config(config, load_data(config).info))
    path = tmp_path / "hrm_final_model.pth"
    torch.save(head.model.state_dict(), path)
    return path


def test_the_seed_checkpoint_offers_its_preset_and_evaluates_with_the_settings_on_screen(
        qtbot: Any, make_window: Any, seed_weights: Path) -> None:
    window = make_window()
    errors: list[str] = []
    window.error_shown.connect(errors.append)
    with qtbot.waitSignal(window.opened, timeout=RUN_TIMEOUT_MS):
        window.open_checkpoint(seed_weights)
    choice = window.start_choice
    assert choice.preset_row.isVisible() and "Seed reproduction" in choice.preset_text.text()
    # The settings on screen (the defaults with the weights' widths) do not fit: the evaluation says so plainly.
    qtbot.waitUntil(lambda: bool(errors) and not window.prediction_jobs.busy, timeout=RUN_TIMEOUT_MS)
    assert "3 puzzle identifiers (0 to 2)" in errors[-1] and "hold only 2 (0 to 1)" in errors[-1]
    assert "'seed' preset" in errors[-1]
    assert window.predictions.current_set() is None
    choice.preset_button.click()
    assert window.settings.config().to_dict()["data"]["encoding"] == "canvas"
    assert not choice.preset_row.isVisible()
    qtbot.waitUntil(lambda: window.predictions.current_set() is not None and not window.prediction_jobs.busy,
                    timeout=RUN_TIMEOUT_MS)
    shown = window.predictions.current_set()
    assert len(shown) == 2 and shown.task["grid_shape"] == [30, 30]   # the seed's 2 held-out puzzles, 30×30 canvas
    # A later change on screen is what the next evaluation uses, not the settings of the moment of opening.
    window.settings.set_value("test_size", 3)
    window.show_tab("predictions")
    window.predictions.clear()
    window.predictions.evaluate_button.click()
    qtbot.waitUntil(lambda: window.predictions.current_set() is not None and not window.prediction_jobs.busy,
                    timeout=RUN_TIMEOUT_MS)
    assert len(window.predictions.current_set()) == 3
