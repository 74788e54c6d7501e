"""Build an ARC data set from the settings panel: a background build with progress and cancel, never
overwriting a folder, and the run's data set set to the new folder when it is done."""

from __future__ import annotations

import pytest

from hrm_studio.errors import UserError
from hrm_studio.gui.settings.arc_build_job import ArcBuildRequest, default_out_dir
from hrm_studio.gui.settings.settings_panel import SettingsPanel

BUILD_MS = 60_000
TASKS = "017c7c7b, 00576224"   # one training and one evaluation task of ARC-AGI-1


@pytest.fixture
def panel_and_dialog(qtbot):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    panel.arc_button.click()
    dialog = panel.arc_dialog
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    yield panel, dialog
    dialog.cancel_and_wait()


def _choose(dialog, out, tasks: str = TASKS) -> None:
    dialog.set_source("arc-agi-1")
    dialog.tasks.setText(tasks)
    dialog.num_aug.setValue(1)
    dialog.out.setText(str(out))
    dialog._out_typed(str(out))


def test_a_build_runs_in_the_background_and_becomes_the_run_data_set(panel_and_dialog, qtbot, tmp_path):
    panel, dialog = panel_and_dialog
    out = tmp_path / "arc"
    _choose(dialog, out)
    assert dialog.build()
    assert dialog.building and dialog.cancel_button.isEnabled() and not dialog.build_button.isEnabled()
    panel.set_value("epochs", 3)   # the window answers while it builds
    qtbot.waitUntil(lambda: not dialog.building, timeout=BUILD_MS)
    assert panel.config().data.dataset_dir == str(out) and "dataset_dir" not in panel.problems()
    assert (out / "identifiers.json").is_file() and dialog.progress.maximum() == 2
    assert "press Start to train on it" in dialog.message.text()
    assert dialog.out.text() != str(out)   # the next build suggests a fresh folder


def test_a_folder_with_files_a_bad_task_id_and_cancel_leave_the_settings_and_disk_alone(panel_and_dialog, qtbot,
                                                                                        tmp_path):
    panel, dialog = panel_and_dialog
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    _choose(dialog, taken)
    assert not dialog.build() and "already holds files" in dialog.message.text()
    assert dialog.message.objectName() == "fieldError" and (taken / "notes.txt").read_text() == "mine"

    _choose(dialog, tmp_path / "bad", tasks="007bbfb7, nope123")
    assert dialog.build()
    qtbot.waitUntil(lambda: not dialog.building, timeout=BUILD_MS)
    assert dialog.message.text().startswith("The data set was not built: ") and "nope123" in dialog.message.text()
    assert not (tmp_path / "bad").exists()

    _choose(dialog, tmp_path / "cancelled", tasks="")
    dialog.limit.setValue(4)
    assert dialog.build()
    dialog.cancel()
    qtbot.waitUntil(lambda: not dialog.building, timeout=BUILD_MS)
    assert "cancelled" in dialog.message.text() and not (tmp_path / "cancelled").exists()
    assert panel.config().data.dataset_dir == ""


def test_requests_are_checked_and_default_folders_are_new(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        ArcBuildRequest.checked(str(tmp_path / "missing"), "", 0, 1, 0, str(tmp_path / "o"))
    with pytest.raises(UserError, match="Choose the folder"):
        ArcBuildRequest.checked("arc-agi-2", "", 0, 1, 0, " ")
    request = ArcBuildRequest.checked("arc-agi-1", "a1, b2 c3", 5, 2, 7, str(tmp_path / "o"))
    assert request.task_ids == ("a1", "b2", "c3") and request.limit == 5
    first = default_out_dir("arc-agi-1", 10, 8, root=tmp_path)
    assert first.name == "arc-agi-1-10-tasks-aug8"
    first.mkdir()
    assert default_out_dir("arc-agi-1", 10, 8, root=tmp_path).name == "arc-agi-1-10-tasks-aug8-2"
    assert default_out_dir(str(tmp_path / "My ARC"), 0, 1, "x y", root=tmp_path).name == "My-ARC-2-tasks-aug1"
