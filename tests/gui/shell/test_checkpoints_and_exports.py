"""Open checkpoints and run folders into a fresh window; every export writes a valid file."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import pytest
from PySide6.QtGui import QImage

from hrm_studio.gui.shell.start_choice import RESUME, WEIGHTS
from hrm_studio.training.checkpoint import read_weights
from hrm_studio.events import Finished
from hrm_studio.runstore.keys import CheckpointKind
from hrm_studio.runstore.run_dir import RunDir
from tests.gui.conftest import RUN_TIMEOUT_MS, train


@pytest.fixture
def trained(qtbot, make_window, tiny):
    """A window that has trained a distinctive 2-epoch run."""
    window = make_window(tiny(epochs=2, lr=0.002, hidden_size=32, train_size=40))
    assert isinstance(train(qtbot, window), Finished)
    qtbot.waitUntil(lambda: len(window.dashboard.curve("loss").xData) == 2)
    return window


def _open(qtbot, window, path, folder=False):
    with qtbot.waitSignal(window.opened, timeout=RUN_TIMEOUT_MS) as opened:
        (window.open_run_folder if folder else window.open_checkpoint)(path)
    return opened.args[0]


def test_open_checkpoint_in_a_fresh_window_restores_settings_curves_and_model(qtbot, trained, make_window):
    final = RunDir(trained.current_run.run_dir).checkpoint(CheckpointKind.FINAL)
    fresh = make_window()
    opened = _open(qtbot, fresh, final)
    assert fresh.settings.config().to_dict() == trained.settings.config().to_dict()
    assert fresh.settings.config().train.lr == 0.002
    assert [r["epoch"] for r in fresh.dashboard.rows()] == [1, 2]
    for key in ("loss", "val_exact_match_accuracy", "copy_accuracy", "val_increment_accuracy"):
        assert len(fresh.dashboard.curve(key).xData) == 2, key
    assert opened.checkpoint == final and opened.resumable
    assert fresh.start_choice.mode() == RESUME
    assert fresh.run_name == trained.run_name and trained.run_name in fresh.windowTitle()
    assert fresh.commands.export_model.isEnabled() and fresh.commands.save_checkpoint.isEnabled()


def test_open_run_folder_and_start_a_new_run_from_its_weights(qtbot, trained, make_window):
    fresh = make_window()
    opened = _open(qtbot, fresh, trained.current_run.run_dir, folder=True)
    assert len(opened.history) == 2
    assert opened.checkpoint == RunDir(trained.current_run.run_dir).checkpoint(CheckpointKind.FINAL)
    assert len(fresh.dashboard.curve("val_loss").xData) == 2
    fresh.start_choice.set_mode(WEIGHTS)
    assert fresh.start_choice.mode() == WEIGHTS
    assert not fresh.settings.editor("hidden_size").locked
    last = train(qtbot, fresh)
    assert isinstance(last, Finished) and last.epochs_done == 2
    assert fresh.current_run.run_dir != trained.current_run.run_dir, "a new run gets its own folder"
    assert len(fresh.dashboard.rows()) == 2


def test_plot_exports_are_valid_png_and_svg(trained, tmp_path):
    png = trained.export_plots(tmp_path / "plots.png")
    image = QImage(str(png))
    assert not image.isNull()
    view = trained.dashboard.view
    ratio = view.devicePixelRatioF()
    assert (image.width(), image.height()) == (round(view.width() * ratio), round(view.height() * ratio))
    svg = trained.export_plots(tmp_path / "plots.svg")
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert len([e for e in root.iter() if e.tag.endswith("path") or e.tag.endswith("polyline")]) > 10


def test_history_exports_hold_every_epoch(trained, tmp_path):
    path = trained.export_history(tmp_path / "history.csv")
    rows = list(csv.DictReader(path.open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[-1]["loss"]) == pytest.approx(trained.dashboard.rows()[-1]["loss"])
    assert "val_exact_match_accuracy" in rows[0]
    data = json.loads(trained.export_history(tmp_path / "history.json").read_text())
    assert [r["epoch"] for r in data] == [1, 2]
    assert trained.export_history(tmp_path / "history.txt") is None
    assert "csv or .json" in trained.banner.text


@pytest.mark.parametrize("fmt", ["pt", "safetensors", "hrm"])
def test_model_exports_write_loadable_weights(qtbot, trained, tmp_path, fmt):
    target = tmp_path / ("official" if fmt == "hrm" else "model")
    with qtbot.waitSignal(trained.saved, timeout=RUN_TIMEOUT_MS) as saved:
        trained.export_model(target, fmt)
    written = saved.args[0]
    assert all(p.exists() for p in written)
    if fmt == "pt":
        loaded = read_weights(target.with_suffix(".pt"))
        assert loaded.source == "studio" and loaded.config["train"]["lr"] == 0.002
    elif fmt == "safetensors":
        assert target.with_suffix(".json").exists()
        assert read_weights(target.with_suffix(".safetensors")).source == "safetensors"
    else:
        step = next(target.glob("step_*"))
        assert (target / "all_config.yaml").exists()
        assert read_weights(step).source == "official"


def test_model_export_mid_run_saves_the_current_weights_first(qtbot, make_window, tiny, tmp_path):
    window = make_window(tiny(epochs=200))
    with qtbot.waitSignal(window.controller.event, timeout=RUN_TIMEOUT_MS,
                          check_params_cb=lambda e: type(e).__name__ == "EpochEnd"):
        window.start()
    with qtbot.waitSignal(window.saved, timeout=RUN_TIMEOUT_MS) as saved:
        window.export_model(tmp_path / "live.safetensors", "safetensors")
    assert saved.args[0][0] == tmp_path / "live.safetensors"
    assert read_weights(tmp_path / "live.safetensors").source == "safetensors"
    with qtbot.waitSignal(window.controller.ended, timeout=RUN_TIMEOUT_MS):
        window.stop()


def test_official_checkpoint_applies_its_settings_onto_the_current_ones(qtbot, trained, make_window, tiny,
                                                                         tmp_path):
    with qtbot.waitSignal(trained.saved, timeout=RUN_TIMEOUT_MS):
        trained.export_model(tmp_path / "official", "hrm")
    step = next((tmp_path / "official").glob("step_*"))
    mine = tiny(epochs=5, train_size=36, lr=0.0005, hidden_size=64, num_heads=4)
    fresh = make_window(mine)
    opened = _open(qtbot, fresh, step)
    config = fresh.settings.config()
    assert opened.source == "official" and not opened.resumable
    assert config.model.hidden_size == 32 and config.train.lr == 0.002      # from all_config.yaml
    assert config.data.train_size == 36 and config.train.epochs == 5        # kept from the window
    assert fresh.start_choice.mode() == WEIGHTS
    assert not fresh.start_choice.buttons[RESUME].isEnabled()
    assert "all_config.yaml" in fresh.start_choice.notes.text()


def test_saving_when_idle_copies_the_open_checkpoint(qtbot, trained, tmp_path):
    with qtbot.waitSignal(trained.saved, timeout=RUN_TIMEOUT_MS):
        trained.save_checkpoint(tmp_path / "copy.pt")
    assert read_weights(tmp_path / "copy.pt").payload["epoch"] == 2


def test_file_actions_without_a_model_explain_what_to_do(make_window, tmp_path):
    window = make_window()
    assert not window.commands.export_model.isEnabled()
    window.export_model(tmp_path / "x.pt", "pt")
    assert "train one or open a checkpoint first" in window.banner.text
