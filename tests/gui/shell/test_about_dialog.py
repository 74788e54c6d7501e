"""Help → About: the facts it shows, the dialog itself, and the app icon it shares."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel

from hrm_studio import __version__
from hrm_studio.gui.shell.about_dialog import AboutDialog, collect_about_info, folder_html
from hrm_studio.gui.shell.app_icon import ICON_SIZES, app_icon, icon_pixmap


def test_about_info_names_versions_threads_and_folders(tmp_path):
    info = collect_about_info(runs_root=tmp_path / "runs", threads=3)
    versions = dict(info.versions())
    assert versions["HRM Studio"] == __version__
    assert versions["PyTorch"].startswith("2.")
    assert versions["Training threads"].startswith("3 (of ")
    assert versions["Qt"].count(".") == 2 and versions["PySide6"].count(".") >= 2
    assert versions["Python"] == ".".join(map(str, sys.version_info[:3]))
    folders = dict(info.folders())
    assert folders["Runs"] == tmp_path / "runs"
    assert folders["Data"].name == "hrm-studio" and folders["Settings"].name == "hrm-studio"
    assert (folders["Resources"] / "icon").is_dir()
    text = info.as_text()
    assert f"HRM Studio: {__version__}" in text and f"Runs folder: {tmp_path / 'runs'}" in text


def test_reading_the_torch_version_does_not_import_torch():
    code = ("import sys; from hrm_studio.gui.shell.about_dialog import torch_version; v = torch_version(); "
            "assert v.startswith('2.'), v; assert 'torch' not in sys.modules; print('OK')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "OK" in done.stdout, done.stderr


def test_folders_link_only_once_they_exist(tmp_path):
    assert "href" in folder_html(tmp_path) and str(tmp_path) in folder_html(tmp_path)
    missing = tmp_path / "not-yet"
    assert "href" not in folder_html(missing) and "not created yet" in folder_html(missing)


def test_the_dialog_shows_every_fact_and_copies_them(qtbot, tmp_path):
    info = collect_about_info(runs_root=tmp_path, threads=2)
    dialog = AboutDialog(info)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.windowTitle() == "About HRM Studio"
    shown = " ".join(label.text() for label in dialog.findChildren(QLabel))
    for name, value in info.versions():
        assert value.replace("&", "&amp;") in shown, name
    assert str(tmp_path) in shown and __version__ in shown
    icon = dialog.findChild(QLabel, "aboutIcon")
    assert icon is not None and icon.pixmap().width() == 96
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == info.as_text()


def test_help_menu_opens_the_about_box(make_window):
    window = make_window()
    assert window.commands.about.shortcut().toString() == "F1"
    menus = {menu.title(): menu for menu in window.menuBar().findChildren(type(window.recent_menu))}
    assert window.commands.about in menus["&Help"].actions()
    dialog = window.show_about()
    assert isinstance(dialog, AboutDialog) and dialog.isVisible()
    assert dict(dialog.info.versions())["Training threads"].split()[0].isdigit()
    dialog.close()


def test_the_icon_has_every_size_and_is_on_the_application_and_window(qapp, make_window):
    icon = app_icon()
    assert not icon.isNull()
    assert sorted(size.width() for size in icon.availableSizes()) == sorted(ICON_SIZES)
    assert icon_pixmap(48).width() == 48
    from hrm_studio.gui.shell.qt_app import create_application

    create_application()
    assert not qapp.windowIcon().isNull()
    window = make_window()
    assert window.windowIcon().availableSizes() == icon.availableSizes()


def test_the_png_renderings_match_the_svg(qapp):
    """The committed PNGs are what scripts/render_icons.py draws from the SVG now."""
    import importlib.util

    from PySide6.QtGui import QImage
    from PySide6.QtSvg import QSvgRenderer

    root = Path(__file__).resolve().parents[3]
    spec = importlib.util.spec_from_file_location("render_icons", root / "scripts" / "render_icons.py")
    assert spec is not None and spec.loader is not None
    render_icons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render_icons)
    renderer = QSvgRenderer(str(root / "resources" / "icon" / "hrm-studio.svg"))
    assert renderer.isValid()
    for size in ICON_SIZES:
        fresh = render_icons.render(renderer, size)
        committed = QImage(str(root / "resources" / "icon" / f"hrm-studio-{size}.png"))
        assert committed.size() == fresh.size(), size
        assert committed.convertToFormat(fresh.format()) == fresh, f"re-run scripts/render_icons.py ({size} px)"
