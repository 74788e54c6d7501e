#!/usr/bin/env bash
# Screenshots of the Studio window under a virtual X display (xvfb-run), for the README.
# Installs xvfb with apt-get when it is missing (needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"

# Xvfb itself, and the X11 libraries Qt's xcb platform plugin loads (Qt ≥ 6.5 needs xcb-cursor).
PACKAGES="xvfb xauth libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
          libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libegl1 libgl1
          libfontconfig1 libdbus-1-3 fonts-dejavu-core"
XCB_PLUGIN="$("$PY" -c 'import os, PySide6; print(os.path.join(os.path.dirname(PySide6.__file__), "Qt", "plugins", "platforms", "libqxcb.so"))')"
if ! command -v xvfb-run >/dev/null 2>&1 || ldd "$XCB_PLUGIN" | grep -q "not found"; then
    echo "Installing Xvfb and the X11 libraries Qt needs…"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $PACKAGES
fi

mkdir -p docs/screenshots
xvfb-run -a -s "-screen 0 1600x1000x24" "$PY" scripts/take_screenshot.py --out docs/screenshots/main-window.png
xvfb-run -a -s "-screen 0 1600x1000x24" "$PY" scripts/take_predictions_screenshots.py --out-dir docs/screenshots
xvfb-run -a -s "-screen 0 1600x1000x24" "$PY" scripts/take_runs_screenshot.py --out docs/screenshots/runs-compare.png
xvfb-run -a -s "-screen 0 1600x1000x24" "$PY" scripts/take_arc_screenshot.py --out docs/screenshots/predictions-arc-task.png
# Every tab at laptop sizes; fails when the window cannot be made that small.
xvfb-run -a -s "-screen 0 1600x1000x24" "$PY" scripts/take_size_screenshots.py --out-dir docs/screenshots/sizes
