"""Take docs/screenshots/inspector-timeline.png, inspector-dynamics.png and editor.png (issue 20).

Run it under a display (xvfb-run, or QT_QPA_PLATFORM=offscreen) with a finished run folder of a
trained sudoku-4x4 or copy-increment model, e.g. one made by
`hrm-studio train --preset sudoku-4x4 --set epochs=4 --out /tmp/sdk`. It opens the run in the
window, picks a held-out puzzle whose answer changes on the way (found by tracing the first
puzzles directly), adds extra segments, and saves the Reasoning tab with its step curve, with
its dynamics and attention, and the Puzzle editor after one edit.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer

from hrm_studio.config import RunConfig
from hrm_studio.gui.shell.main_window import MainWindow
from hrm_studio.gui.shell.qt_app import create_application, dispose
from hrm_studio.gui.shell.screenshot import save_window
from hrm_studio.gui.shell.user_state import UserState

WIDTH, HEIGHT = 1500, 900
TIMEOUT_MS = 300_000


def wait_for(signal: Any, timeout_ms: int = TIMEOUT_MS) -> None:
    loop = QEventLoop()
    signal.connect(lambda *_: loop.quit())
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def settle(ms: int = 400) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def interesting_puzzle(run: Path, segments: int, tries: int = 40) -> int:
    """The first held-out puzzle that is wrong at the first step and right later (else 0)."""
    from hrm_studio.analysis import trace_puzzle
    from hrm_studio.training.model_loading import load_model

    config = RunConfig.from_dict(json.loads((run / "config.json").read_text()))
    loaded = load_model(run / "checkpoints" / "final.pt", config)
    test = loaded.data.test
    for i in range(min(tries, len(test))):
        trace = trace_puzzle(loaded.head, test.inputs[i], int(test.puzzle_identifiers[i]), test.labels[i],
                             segments=segments)
        if trace.correct is not None and not trace.correct[0] and trace.correct.any() and trace.changed.any():
            return i
    return 0


def shoot(run: Path, out: Path, extra: int) -> int:
    window = MainWindow(UserState(None), runs_root=run.parent)
    window.confirm = lambda *_: True
    window.resize(WIDTH, HEIGHT)
    window.show()
    window.open_run_folder(run)
    wait_for(window.opened)
    window.settings_dock.hide()
    trained = window.settings.config().model.halt_max_steps
    index = interesting_puzzle(run, trained + extra)
    control, tab = window.inspector_control, window.inspector
    control.follow_prediction("test", index)
    tab.extra_box.setValue(extra)
    window.show_tab("inspector")
    wait_for(control.trace_shown)
    tab.pages.setCurrentIndex(2)
    control.compute_curve()
    wait_for(window.model_jobs.busy_changed)
    settle()
    tab.set_step(max(tab.trace.settled_step or 1, 1) - 1 if tab.trace is not None else 0)
    settle()
    save_window(window, out / "inspector-timeline.png")
    tab.pages.setCurrentIndex(0)
    tab.grids.views["answer"].cell_clicked.emit(int(len(tab.inputs) // 2) if tab.inputs is not None else 0)
    settle(1500)
    save_window(window, out / "inspector-dynamics.png")
    window.editor.extra_box.setValue(extra)
    window.show_tab("editor")
    wait_for(window.editor_control.answered)
    editor = window.editor_control
    cell = int(next(i for i, ok in enumerate(window.editor.paint_view.editable) if ok))
    token = editor.tokens[0] if editor.inputs[cell] != editor.tokens[0] else editor.tokens[-1]
    editor.edit(cell, token)
    wait_for(editor.answered)
    window.editor.paint_view.setFocus()
    settle()
    save_window(window, out / "editor.png")
    dispose(window)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a finished run folder")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--extra", type=int, default=3, help="extra segments beyond halt_max_steps")
    args = parser.parse_args()
    create_application(sys.argv)
    return shoot(args.run, args.out, args.extra)


if __name__ == "__main__":
    sys.exit(main())
