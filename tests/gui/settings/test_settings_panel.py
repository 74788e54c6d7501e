"""The settings form is generated from RunConfig metadata and judged by RunConfig.problems()."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from hrm_studio.config import RunConfig, all_fields
from hrm_studio.gui.settings.field_editors import REGISTRY_CHOICES
from hrm_studio.gui.settings.settings_panel import SettingsPanel
from hrm_studio.presets import PRESETS, preset_config


def test_every_field_has_an_editor_chosen_from_its_metadata(qtbot):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    for section, f in all_fields():
        editor = panel.editor(f.name)
        meta = f.metadata
        assert meta["help"] in editor.input.toolTip(), f.name
        if f.type in (bool, "bool"):
            assert isinstance(editor.input, QCheckBox), f.name
        elif meta.get("choices"):
            assert isinstance(editor.input, QComboBox), f.name
            items = [editor.input.itemData(i) for i in range(editor.input.count())]
            assert items == list(meta["choices"]), f.name
        elif f.type in (int, "int"):
            assert isinstance(editor.input, QSpinBox), f.name
            if meta.get("min") is not None:
                assert editor.input.minimum() == meta["min"], f.name
            if meta.get("max") is not None:
                assert editor.input.maximum() == meta["max"], f.name
        elif f.type in (float, "float"):
            assert isinstance(editor.input, QDoubleSpinBox), f.name
        elif f.name in REGISTRY_CHOICES:   # task, device: a combo box of the usual values
            assert isinstance(editor.input, QComboBox), f.name
        else:
            assert isinstance(editor.input, QLineEdit), f.name
        if meta.get("unit") and isinstance(editor.input, (QSpinBox, QDoubleSpinBox)):
            assert editor.input.suffix().strip() == meta["unit"], f.name
    assert panel.editor("num_threads").input.specialValueText() == "all cores"
    task = panel.editor("task").input
    assert "sudoku-4x4" in [task.itemText(i) for i in range(task.count())]


def test_config_round_trips_through_the_form_for_every_preset(qtbot):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    for name in PRESETS:
        panel.set_config(preset_config(name))
        assert panel.config().to_dict() == preset_config(name).to_dict(), name
        assert panel.valid, panel.problems()


def test_presets_are_offered_by_friendly_name_and_reset_restores_defaults(qtbot):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    labels = [panel.preset_box.itemText(i) for i in range(panel.preset_box.count())]
    for friendly in ("Quick demo", "Seed reproduction", "Sudoku 4×4"):
        assert friendly in labels
    panel.preset_box.setCurrentIndex(labels.index("Sudoku 4×4"))
    panel.preset_box.activated.emit(labels.index("Sudoku 4×4"))
    assert panel.config().data.task == "sudoku-4x4"
    assert panel.preset_note.text() == PRESETS["sudoku-4x4"]["description"]
    panel.reset_to_defaults()
    assert panel.config().to_dict() == RunConfig().to_dict()


def test_an_invalid_setting_is_flagged_inline_and_disables_start(make_window):
    window = make_window()
    assert window.commands.start.isEnabled()
    window.settings.set_value("hidden_size", 32)
    window.settings.set_value("num_heads", 3)
    editor = window.settings.editor("num_heads")
    assert "must divide evenly by num_heads" in editor.problem
    assert not editor.error.isHidden()
    assert not window.commands.start.isEnabled()
    assert "divide evenly" in window.start_blocker()
    assert window.start() is False
    assert "1 setting needs fixing" in window.settings.summary.text()

    window.settings.set_value("lr", 0.0)
    assert "greater than 0" in window.settings.editor("lr").problem
    assert "2 settings need fixing" in window.settings.summary.text()
    window.settings.set_value("num_heads", 4)
    window.settings.set_value("lr", 0.001)
    assert window.settings.valid and window.settings.summary.isHidden()
    assert window.commands.start.isEnabled()


def test_float_fields_accept_scientific_notation(qtbot):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    spin = panel.editor("rms_norm_eps").input
    assert spin.textFromValue(1e-05) == "1e-05"
    assert spin.valueFromText("3e-6") == 3e-6
    panel.set_value("lr", 5e-4)
    assert panel.config().train.lr == 5e-4
    spin = panel.editor("lr").input
    spin.stepBy(1)
    assert panel.config().train.lr == 6e-4


def test_the_task_box_says_dataset_folder_while_one_is_set(qtbot, tmp_path):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    panel.show()
    task = panel.editor("task")
    assert task.overridden is None and task.input.isVisible()
    panel.set_value("dataset_dir", str(tmp_path))
    assert task.overridden == "dataset folder" and not task.input.isVisible() and task.override.isVisible()
    assert panel.config().data.task == RunConfig().data.task   # the choice underneath is kept
    panel.set_value("dataset_dir", "")
    assert task.overridden is None and task.input.isVisible()


def test_only_the_chosen_architectures_fields_are_shown(qtbot):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    trm_only = ("mlp_t", "puzzle_emb_len", "no_ACT_continue")
    assert panel.field_shown("H_layers") and not any(panel.field_shown(n) for n in trm_only)
    panel.set_value("arch", "trm")
    assert not panel.field_shown("H_layers") and all(panel.field_shown(n) for n in trm_only)
    assert panel.field_shown("L_layers") and panel.config().model.arch == "trm"
    panel.set_value("arch", "hrm")
    assert panel.field_shown("H_layers") and not any(panel.field_shown(n) for n in trm_only)
