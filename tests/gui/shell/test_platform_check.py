"""Before Qt aborts on a missing xcb library or display, the app names the problem and the fix and exits 2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hrm_studio.gui.shell import platform_check as pc

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffd4a3f5000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f0c1c000000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f0c1bf00000)
\tlibxcb-icccm.so.4 => not found
\tlibdbus-1.so.3 => not found
"""


@pytest.fixture
def plugins(tmp_path: Path) -> Path:
    """A Qt plugins folder holding an xcb platform plugin file (never loaded: the loader is faked)."""
    (tmp_path / "platforms").mkdir()
    (tmp_path / "platforms" / pc.XCB_PLUGIN).write_bytes(b"")
    return tmp_path


def test_debian_packages_of_the_libraries_qt_needs():
    expected = {"libxcb-icccm.so.4": "libxcb-icccm4", "libxcb-keysyms.so.1": "libxcb-keysyms1",
                "libxcb-cursor.so.0": "libxcb-cursor0", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
                "libxcb-image.so.0": "libxcb-image0", "libxcb-render-util.so.0": "libxcb-render-util0",
                "libxcb-shape.so.0": "libxcb-shape0", "libxcb-randr.so.0": "libxcb-randr0",
                "libxcb-xinerama.so.0": "libxcb-xinerama0", "libxcb-xkb.so.1": "libxcb-xkb1",
                "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1", "libfontconfig.so.1": "libfontconfig1",
                "libdbus-1.so.3": "libdbus-1-3", "libglib-2.0.so.0": "libglib2.0-0", "weird-name": "weird-name"}
    assert {name: pc.package_for(name) for name in expected} == expected


def test_which_platform_qt_will_use():
    linux = "linux"
    assert pc.xcb_will_be_used({}, linux)
    assert pc.xcb_will_be_used({"QT_QPA_PLATFORM": "xcb"}, linux)
    assert pc.xcb_will_be_used({"QT_QPA_PLATFORM": "wayland;xcb"}, linux)          # no compositor: xcb next
    assert pc.xcb_will_be_used({"XDG_SESSION_TYPE": "wayland"}, linux)
    for env in ({"QT_QPA_PLATFORM": "offscreen"}, {"QT_QPA_PLATFORM": "minimal"},
                {"QT_QPA_PLATFORM": "wayland", "WAYLAND_DISPLAY": "wayland-0"},
                {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"},
                {"QT_QPA_PLATFORM": "vnc:size=800x600"}):
        assert not pc.xcb_will_be_used(env, linux), env
    assert not pc.xcb_will_be_used({}, "darwin") and not pc.xcb_will_be_used({}, "win32")


def test_missing_libraries_from_ldd_give_one_message_with_the_apt_line(plugins):
    seen: list[Path] = []

    def fake_ldd(plugin: Path) -> list[str]:
        seen.append(plugin)
        return pc.missing_from_ldd(LDD_OUTPUT)

    problem = pc.check_platform({"DISPLAY": ":0"}, plugins, platform="linux", find_missing=fake_ldd,
                                open_display=lambda display: pytest.fail("the display comes second"))
    assert seen == [plugins / "platforms" / pc.XCB_PLUGIN]
    assert problem is not None
    assert problem.missing == ("libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libdbus-1.so.3")
    message = problem.message()
    assert "sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1 libdbus-1-3\n" in message
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1, libdbus-1.so.3" in message
    assert "QT_QPA_PLATFORM=offscreen" in message and "xcb-cursor0" not in message


def test_a_loader_error_names_the_library_when_there_is_no_ldd():
    error = ("/venv/PySide6/Qt/plugins/platforms/libqxcb.so: libxcb-icccm.so.4: cannot open shared object "
             "file: No such file or directory")
    assert pc.missing_from_loader_error(error) == ["libxcb-icccm.so.4"]


def test_no_display_and_an_unopenable_display_are_named(plugins):
    no_libs_missing = {"find_missing": lambda plugin: [], "platform": "linux"}
    problem = pc.check_platform({}, plugins, **no_libs_missing)
    assert problem is not None and "DISPLAY is not set" in problem.message()
    assert "xvfb-run" in problem.message() and "ssh -X" in problem.message() and problem.missing == ()
    asked: list[str | None] = []
    problem = pc.check_platform({"DISPLAY": ":5"}, plugins, open_display=lambda d: asked.append(d) or "refused.",
                                **no_libs_missing)
    assert asked == [":5"] and problem is not None and "refused." in problem.message()
    assert pc.check_platform({"DISPLAY": ":5"}, plugins, open_display=lambda d: None, **no_libs_missing) is None
    assert pc.check_platform({"QT_QPA_PLATFORM": "offscreen"}, plugins, platform="linux",
                             find_missing=lambda p: pytest.fail("not checked"),
                             open_display=lambda d: pytest.fail("not checked")) is None


def test_the_real_loader_lists_a_library_that_is_not_there(tmp_path, monkeypatch):
    """A real ELF plugin linked against a library that is then removed: ldd and the ctypes fallback name it."""
    if not sys.platform.startswith("linux") or shutil.which("gcc") is None:
        pytest.skip("needs Linux and gcc")
    (tmp_path / "gone.c").write_text("int gone(void) { return 1; }\n")
    (tmp_path / "plugin.c").write_text("int gone(void);\nint use(void) { return gone(); }\n")
    subprocess.run(["gcc", "-shared", "-fPIC", "-Wl,-soname,libhrm-gone.so.7", "-o",
                    str(tmp_path / "libhrm-gone.so.7"), str(tmp_path / "gone.c")], check=True)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(tmp_path / pc.XCB_PLUGIN), str(tmp_path / "plugin.c"),
                    str(tmp_path / "libhrm-gone.so.7")], check=True)
    (tmp_path / "libhrm-gone.so.7").unlink()
    assert pc.find_missing_libraries(tmp_path / pc.XCB_PLUGIN) == ["libhrm-gone.so.7"]
    monkeypatch.setattr(pc.shutil, "which", lambda name: None)
    assert pc.find_missing_libraries(tmp_path / pc.XCB_PLUGIN) == ["libhrm-gone.so.7"]


def test_gui_with_an_unopenable_display_exits_2_with_the_message_and_no_core_dump():
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "DISPLAY": ":987"}
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run([sys.executable, "-m", "hrm_studio", "gui"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert done.stderr.startswith("HRM Studio cannot open its window: ")
    # Either this machine lacks xcb libraries (then they and the apt line are named) or the display is bogus.
    assert ":987 could not be opened" in done.stderr or "sudo apt-get install -y" in done.stderr
    assert "QT_QPA_PLATFORM=offscreen" in done.stderr and "Aborted" not in done.stderr
