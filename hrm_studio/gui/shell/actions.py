"""The window's commands: one QAction each, with its shortcut, icon and a tooltip naming both.

Menus and the toolbar share these actions, so enabling one (e.g. Start only when the
settings are valid) updates every place it appears.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle, QWidget

SP = QStyle.StandardPixmap


@dataclass
class StudioActions:
    new_run: QAction
    start: QAction
    pause: QAction
    stop: QAction
    new_sweep: QAction
    open_checkpoint: QAction
    open_run_folder: QAction
    save_checkpoint: QAction
    export_plots: QAction
    export_history: QAction
    export_model: QAction
    quit: QAction
    about: QAction

    def all(self) -> list[QAction]:
        return [getattr(self, f.name) for f in fields(self)]


def _action(parent: QWidget, text: str, shortcut: QKeySequence | str, tip: str, icon: SP | None = None) -> QAction:
    action = QAction(text, parent)
    sequence = QKeySequence(shortcut)
    action.setShortcut(sequence)
    action.setStatusTip(tip)
    action.setToolTip(f"{text.rstrip('…')} ({sequence.toString(QKeySequence.SequenceFormat.NativeText)})"
                      f"\n{tip}")
    if icon is not None:
        action.setIcon(parent.style().standardIcon(icon))
    return action


def create_actions(parent: QWidget) -> StudioActions:
    return StudioActions(
        new_run=_action(parent, "&New run", "Ctrl+N",
                        "Forget the open run and its curves; keep the settings for a fresh start.", SP.SP_FileIcon),
        start=_action(parent, "&Start", "F5", "Start training with these settings.", SP.SP_MediaPlay),
        pause=_action(parent, "&Pause", "F6", "Pause after the current step; press again to resume.",
                      SP.SP_MediaPause),
        stop=_action(parent, "S&top", "Shift+F5",
                     "Stop after the current step; the run keeps its final checkpoint and history.",
                     SP.SP_MediaStop),
        new_sweep=_action(parent, "New s&weep…", "Ctrl+Shift+W",
                          "Train many runs that differ in a few settings, one after another, and compare them."),
        open_checkpoint=_action(parent, "&Open checkpoint…", "Ctrl+O",
                                "Open a .pt, .safetensors or official HRM or TRM checkpoint.", SP.SP_DialogOpenButton),
        open_run_folder=_action(parent, "Open &run folder…", "Ctrl+Shift+O",
                                "Reopen a run folder: its settings, curves and checkpoint.", SP.SP_DirOpenIcon),
        save_checkpoint=_action(parent, "&Save checkpoint…", "Ctrl+S",
                                "Save the model now, also in the middle of a run.", SP.SP_DialogSaveButton),
        export_plots=_action(parent, "Export &plots…", "Ctrl+E", "Save the plots as a PNG image or SVG drawing."),
        export_history=_action(parent, "Export &history…", "Ctrl+Shift+H",
                               "Save the run's history, one row per epoch, as CSV or JSON."),
        export_model=_action(parent, "Export &model…", "Ctrl+Shift+E",
                             "Save the weights as .pt, .safetensors + config JSON, or an official HRM or TRM folder."),
        quit=_action(parent, "&Quit", "Ctrl+Q", "Close HRM Studio."),
        about=_action(parent, "&About HRM Studio", "F1",
                      "Versions, thread count and the folders HRM Studio keeps its files in.",
                      SP.SP_MessageBoxInformation),
    )
