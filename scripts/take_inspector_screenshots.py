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

from hrm_studio.config import RunConfig
from hrm_studio.gui.shell.qt_app import create_application
from hrm_studio.gui.shell.screenshot import save_window
from hrm_studio.gui.shell.scripting import (
    pause,
    save_and_close,
    scripted_window,
    wait_for_signal,
)

WIDTH, HEIGHT = 1500, 900
TIMEOUT_MS = 300_000


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
    window = scripted_window(run.parent, size=(WIDTH, HEIGHT))
    window.open_run_folder(run)
    wait_for_signal(window.opened, TIMEOUT_MS)
    window.settings_dock.hide()
    trained = window.settings.config().model.halt_max_steps
    index = interesting_puzzle(run, trained + extra)
    control, tab = window.inspector_control, window.inspector
    control.follow_prediction("test", index)
    tab.extra_box.setValue(extra)
    window.show_tab("inspector")
    wait_for_signal(control.trace_shown, TIMEOUT_MS)
    tab.pages.setCurrentIndex(2)
    control.compute_curve()
    wait_for_signal(window.model_jobs.busy_changed, TIMEOUT_MS)
    pause(400)
    tab.set_step(max(tab.trace.settled_step or 1, 1) - 1 if tab.trace is not None else 0)
    pause(400)
    save_window(window, out / "inspector-timeline.png")
    tab.pages.setCurrentIndex(0)
    tab.grids.views["answer"].cell_clicked.emit(int(len(tab.inputs) // 2) if tab.inputs is not None else 0)
    pause(1500)
    save_window(window, out / "inspector-dynamics.png")
    window.editor.extra_box.setValue(extra)
    window.show_tab("editor")
    wait_for_signal(window.editor_control.answered, TIMEOUT_MS)
    editor = window.editor_control
    cell = int(next(i for i, ok in enumerate(window.editor.paint_view.editable) if ok))
    token = editor.tokens[0] if editor.inputs[cell] != editor.tokens[0] else editor.tokens[-1]
    editor.edit(cell, token)
    wait_for_signal(editor.answered, TIMEOUT_MS)
    window.editor.paint_view.setFocus()
    pause(400)
    save_and_close(window, out / "editor.png")
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
