"""The freedesktop menu entry, AppStream metainfo and `make install-desktop`."""

from __future__ import annotations

import configparser
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from hrm_studio.gui.shell.qt_app import DESKTOP_FILE_NAME
from hrm_studio.gui.shell.app_icon import ICON_SIZES

from .conftest import APP_ID, DESKTOP_FILE, METAINFO_FILE, ROOT, problems, project_version


def desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_the_desktop_file_is_valid(desktop_file_validate):
    done = subprocess.run([desktop_file_validate, str(DESKTOP_FILE)], capture_output=True, text=True)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert problems(output.replace(f"{DESKTOP_FILE}: ", ""), ("error", "warning")) == [], output


def test_the_desktop_file_matches_the_running_app():
    entry = desktop_entry(DESKTOP_FILE)
    assert DESKTOP_FILE.stem == APP_ID == DESKTOP_FILE_NAME  # what setDesktopFileName announces
    assert entry["Exec"] == "hrm-studio %F"
    assert entry["Icon"] == APP_ID
    assert entry["StartupWMClass"] == "hrm-studio"
    assert entry["Categories"].startswith("Science;Education;")
    assert entry["Name"] == "HRM Studio" and entry["Terminal"] == "false"


def test_the_metainfo_is_valid(appstreamcli):
    done = subprocess.run([appstreamcli, "validate", "--no-net", str(METAINFO_FILE)], capture_output=True,
                          text=True)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert problems(output, ("E:", "W:")) == [], output


def test_the_metainfo_agrees_with_the_project():
    root = ET.parse(METAINFO_FILE).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == f"{APP_ID}.desktop"
    assert root.findtext("project_license") == "MIT" and root.findtext("metadata_license") == "CC0-1.0"
    assert root.find("content_rating").get("type") == "oars-1.1"  # type: ignore[union-attr]
    latest = root.find("releases/release")
    assert latest is not None and latest.get("version") == project_version()
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{latest.get('version')}] - {latest.get('date')}" in changelog
    # Each screenshot is a README picture, as GitHub serves it from the main branch.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    images = [image.text or "" for image in root.iter("image")]
    assert images
    for url in images:
        assert url.startswith("https://raw.githubusercontent.com/hrmstudio/hrm-studio/main/"), url
        relative = url.split("/main/", 1)[1]
        assert (ROOT / relative).is_file(), relative
        assert relative in readme, relative


def test_install_and_uninstall_desktop_into_a_staging_folder(run_make, tmp_path, desktop_file_validate):
    stage, exe = tmp_path / "stage", "/opt/hrm studio/hrm-studio"
    run_make("install-desktop", f"DESTDIR={stage}", "DATA_HOME=/home/me/.local/share", f"EXEC={exe}")
    share = stage / "home/me/.local/share"
    expected = {f"applications/{APP_ID}.desktop", f"metainfo/{APP_ID}.metainfo.xml",
                f"icons/hicolor/scalable/apps/{APP_ID}.svg"}
    expected |= {f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png" for size in ICON_SIZES}
    installed = {str(path.relative_to(share)) for path in share.rglob("*") if path.is_file()}
    assert installed == expected
    entry = desktop_entry(share / f"applications/{APP_ID}.desktop")
    assert entry["Exec"] == f'"{exe}" %F' and entry["TryExec"] == exe
    done = subprocess.run([desktop_file_validate, str(share / f"applications/{APP_ID}.desktop")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    png = (share / f"icons/hicolor/48x48/apps/{APP_ID}.png").read_bytes()
    assert png == (ROOT / "resources/icon/hrm-studio-48.png").read_bytes()

    run_make("uninstall-desktop", f"DESTDIR={stage}", "DATA_HOME=/home/me/.local/share")
    assert [path for path in share.rglob("*") if path.is_file()] == []


def test_install_desktop_defaults_to_xdg_data_home(tmp_path):
    done = subprocess.run(["make", "-n", "--no-print-directory", "install-desktop", f"XDG_DATA_HOME={tmp_path}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"{tmp_path}/applications" in done.stdout
