"""Will Qt be able to open a window? Checked before the QApplication exists, without Qt.

Why: when Qt cannot load its X11 (xcb) platform plugin — system libraries missing, or no X
display — it prints a misleading hint ("xcb-cursor0 is needed") and aborts the process (rc 134,
a core dump); started from a launcher, nothing appears at all. Asking the dynamic loader
(`ldd`, else ctypes) and libxcb (one `xcb_connect`) first costs a few milliseconds and lets the
app say what is missing, the `apt-get install` line that fixes it, and exit 2.

Only Linux with the xcb platform is checked; offscreen, minimal, wayland and the other
platforms are left to Qt.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

XCB_PLUGIN = "libqxcb.so"
HEADLESS_HINT = ("To run without a window (a server, a container), set QT_QPA_PLATFORM=offscreen, or use the "
                 "command line: hrm-studio train …")

# Debian/Ubuntu packages whose names do not follow the lib<name><version> rule (see `package_for`).
PACKAGE_EXCEPTIONS = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libstdc++.so.6": "libstdc++6",
}
_SONAME = re.compile(r"^(lib[A-Za-z0-9_.+-]+?)\.so\.(\d+)")
_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.MULTILINE)
_LOADER_ERROR = re.compile(r"(\S+\.so[.\d]*): cannot open shared object file")


@dataclass(frozen=True)
class PlatformProblem:
    """Why the window cannot open, and what to do about it."""

    summary: str                           # one sentence: what is wrong
    missing: tuple[str, ...] = ()          # shared libraries (sonames) the loader cannot find
    advice: str = ""                       # what to do next

    def __post_init__(self) -> None:
        if not self.summary:
            raise ValueError("a platform problem needs a summary")

    @property
    def packages(self) -> tuple[str, ...]:
        """The Debian/Ubuntu packages that provide the missing libraries, without repeats."""
        return tuple(dict.fromkeys(package_for(name) for name in self.missing))

    def message(self) -> str:
        lines = [f"HRM Studio cannot open its window: {self.summary}"]
        if self.missing:
            lines += ["On Debian or Ubuntu, install them with:",
                      f"    sudo apt-get install -y {' '.join(self.packages)}",
                      "(On other systems, install the packages that provide these files.)"]
        if self.advice:
            lines.append(self.advice)
        lines.append(HEADLESS_HINT)
        return "\n".join(lines)


def package_for(soname: str) -> str:
    """The Debian/Ubuntu package of a shared library: lib<name>.so.<N> → lib<name><N> (lower case), with a
    dash when <name> ends in a digit (libdbus-1.so.3 → libdbus-1-3); anything else is named as it is."""
    if soname in PACKAGE_EXCEPTIONS:
        return PACKAGE_EXCEPTIONS[soname]
    match = _SONAME.match(soname)
    if match is None:
        return soname
    base, version = match.group(1).lower(), match.group(2)
    return f"{base}{'-' if base[-1].isdigit() else ''}{version}"


def xcb_will_be_used(env: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt will try the xcb plugin first that could work: QT_QPA_PLATFORM (a `;` list, each with
    optional `:options`), else Qt's default — wayland in a Wayland session, xcb otherwise."""
    if not platform.startswith("linux"):
        return False
    spec = env.get("QT_QPA_PLATFORM", "").strip()
    if spec:
        names = [part.split(":", 1)[0].strip().lower() for part in spec.split(";") if part.strip()]
    else:
        names = ["wayland", "xcb"] if env.get("XDG_SESSION_TYPE", "").lower() == "wayland" else ["xcb"]
    for name in names:
        if name.startswith("wayland"):
            if env.get("WAYLAND_DISPLAY"):
                return False   # Qt opens the Wayland display; nothing of xcb is needed
            continue           # no compositor named: Qt moves on to the next platform
        return name == "xcb"
    return False


def missing_from_ldd(output: str) -> list[str]:
    """The sonames `ldd` reports as `not found`, in its order, without repeats."""
    return list(dict.fromkeys(_NOT_FOUND.findall(output)))


def missing_from_loader_error(text: str) -> list[str]:
    """The soname in a dlopen error ("libxcb-icccm.so.4: cannot open shared object file: …")."""
    return list(dict.fromkeys(_LOADER_ERROR.findall(text)))


def find_missing_libraries(plugin: Path) -> list[str]:
    """Every library the plugin needs that the loader cannot find: `ldd` lists them all; without `ldd`,
    loading the plugin with ctypes names the first one."""
    ldd = shutil.which("ldd")
    if ldd is not None:
        try:
            done = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20, check=False)
        except (OSError, subprocess.SubprocessError):
            done = None
        if done is not None and (done.returncode == 0 or "not found" in done.stdout):
            return missing_from_ldd(done.stdout)
    try:
        ctypes.CDLL(str(plugin), mode=os.RTLD_LAZY | os.RTLD_LOCAL)
    except OSError as exc:
        return missing_from_loader_error(str(exc))
    return []


def display_failure(display: str | None) -> str | None:
    """Why an X connection to `display` fails, or None when it opens (tried with libxcb, then closed)."""
    if not display:
        return "no X display was found (DISPLAY is not set)."
    name = ctypes.util.find_library("xcb") or "libxcb.so.1"
    try:
        xcb = ctypes.CDLL(name)
    except OSError:
        return None   # libxcb itself is missing: the plugin check names it
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    screen = ctypes.c_int(0)
    connection = xcb.xcb_connect(display.encode(), ctypes.byref(screen))
    try:
        failed = not connection or xcb.xcb_connection_has_error(connection) != 0
    finally:
        if connection:
            xcb.xcb_disconnect(connection)
    return f"the X display {display} could not be opened (no X server answers there, or it refused " \
           f"the connection)." if failed else None


def check_platform(env: Mapping[str, str], plugins_dir: Path | None, *, platform: str = sys.platform,
                   find_missing: Callable[[Path], list[str]] = find_missing_libraries,
                   open_display: Callable[[str | None], str | None] = display_failure) -> PlatformProblem | None:
    """What would stop Qt's xcb platform from opening a window; None when nothing does (or xcb is not used).

    `plugins_dir`: Qt's plugins folder (QLibraryInfo's PluginsPath); `find_missing` and `open_display`
    are replaceable so tests can give fake loader answers."""
    if not xcb_will_be_used(env, platform):
        return None
    plugin = plugins_dir / "platforms" / XCB_PLUGIN if plugins_dir is not None else None
    if plugin is not None and plugin.is_file():
        missing = find_missing(plugin)
        if missing:
            return PlatformProblem(f"Qt's X11 (xcb) platform plugin needs system libraries that are missing: "
                                   f"{', '.join(missing)}.", tuple(missing))
    problem = open_display(env.get("DISPLAY"))
    if problem is not None:
        return PlatformProblem(problem, advice="Run it in a desktop session, over `ssh -X`, or under a virtual "
                                               "display: xvfb-run hrm-studio …")
    return None
