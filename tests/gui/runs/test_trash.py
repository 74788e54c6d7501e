"""Delete… moves run folders to the system trash and says where; without a trash nothing is deleted."""

from __future__ import annotations

from urllib.parse import unquote

from tests.gui.runs.test_runs_library import fake_run


def test_delete_moves_the_run_to_the_trash_and_says_where(qtbot, make_window, tmp_path, trash):
    root = tmp_path / "runs"
    run = fake_run(root, "old-run")
    checkpoint = (run / "checkpoints" / "last.pt").read_bytes()
    window = make_window()
    tab = window.runs_tab
    tab.refresh()
    asked: list[str] = []
    window.confirm = lambda title, text: asked.append(text) or True
    with qtbot.waitSignal(tab.message) as said:
        assert tab.delete([run]) == [run]
    assert "to the trash" in asked[0] and "restore" in asked[0]
    in_trash = trash / "files" / "old-run"
    assert not run.exists() and (in_trash / "checkpoints" / "last.pt").read_bytes() == checkpoint
    info = (trash / "info" / "old-run.trashinfo").read_text()
    assert f"Path={run}" in unquote(info)                     # the file manager can put it back
    assert "Moved to the trash" in said.args[0] and str(in_trash) in said.args[0]
    assert tab.runs() == [] and window.banner.text == ""


def test_without_a_trash_the_run_stays_and_the_window_says_so(qtbot, make_window, tmp_path, trash,
                                                              monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be: no trash can be made under it")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker / "data"))
    run = fake_run(tmp_path / "runs", "kept-run")
    window = make_window()
    window.runs_tab.refresh()
    with qtbot.waitSignal(window.error_shown) as shown:
        assert window.runs_tab.delete([run]) == []
    assert "could not be moved to the trash" in shown.args[0] and "Nothing was deleted" in shown.args[0]
    assert (run / "checkpoints" / "last.pt").is_file() and (run / "config.json").is_file()
    assert [r.name for r in window.runs_tab.runs()] == ["kept-run"]
