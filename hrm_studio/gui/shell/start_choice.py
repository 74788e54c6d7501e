"""What Start does when a checkpoint or run is open: continue it, or start a new run.

A choice in the settings dock instead of a question at Start, so it is visible before
the click and tests can set it without a modal dialog.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QButtonGroup, QGroupBox, QHBoxLayout, QLabel, QPushButton, QRadioButton, QVBoxLayout,
                               QWidget)

from hrm_studio.gui.shell.opened_run import OpenedRun
from hrm_studio.gui.shell.session import StartMode, available_modes, default_mode
from hrm_studio.presets import preset_label

RESUME, WEIGHTS, SCRATCH = StartMode.RESUME, StartMode.WEIGHTS, StartMode.SCRATCH


class StartChoice(QGroupBox):
    changed = Signal()
    preset_requested = Signal(str)   # Apply next to "These weights match the … preset"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Start from", parent)
        self.source = QLabel()
        self.source.setWordWrap(True)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setObjectName("hint")
        self.buttons = {RESUME: QRadioButton("Continue this run"),
                        WEIGHTS: QRadioButton("New run from these weights"),
                        SCRATCH: QRadioButton("New run from scratch")}
        self.buttons[RESUME].setToolTip("Resume with the run's optimiser state and history; raise Epochs to "
                                        "train further. Model and data settings stay as the run had them.")
        self.buttons[WEIGHTS].setToolTip("Start a new run (new folder, fresh optimiser) whose model begins "
                                         "with these weights.")
        self.buttons[SCRATCH].setToolTip("Start a new run with freshly initialised weights.")
        self.group = QButtonGroup(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.source)
        for button in self.buttons.values():
            self.group.addButton(button)
            layout.addWidget(button)
            button.toggled.connect(lambda on: on and self.changed.emit())
        layout.addWidget(self.notes)
        layout.addWidget(self._build_preset_row())
        self._opened: OpenedRun | None = None
        self.offer(None)

    def _build_preset_row(self) -> QWidget:
        """"These weights match the Seed reproduction preset — Apply", for weights the settings do not fit."""
        self.preset_text = QLabel()
        self.preset_text.setWordWrap(True)
        self.preset_button = QPushButton("Apply")
        self.preset_button.clicked.connect(lambda: self.preset_requested.emit(self._preset or ""))
        self.preset_row = QWidget()
        row = QHBoxLayout(self.preset_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.preset_text, 1)
        row.addWidget(self.preset_button)
        self._preset: str | None = None
        self.preset_row.hide()
        return self.preset_row

    def offer_preset(self, name: str | None) -> None:
        """Offer the preset the opened weights match (None: nothing to offer)."""
        self._preset = name
        self.preset_row.setVisible(name is not None)
        if name is not None:
            self.preset_text.setText(f"These weights match the <b>{preset_label(name)}</b> preset; the settings "
                                     f"shown do not.")
            self.preset_button.setToolTip(f"Load the {preset_label(name)} preset's settings, so evaluating and "
                                          f"training use the model and puzzles these weights were made for.")

    @property
    def opened(self) -> OpenedRun | None:
        return self._opened

    def show_running(self, description: str) -> None:
        """While a run trains: what Start did ("New run … from scratch."), no choices, so the dock never
        offers to continue an older run during a new one."""
        self.setTitle("Training")
        self.source.setText(description)
        for button in self.buttons.values():
            button.hide()
        self.notes.hide()
        self.preset_row.hide()
        self.show()

    def offer(self, opened: OpenedRun | None, default: str | None = None) -> None:
        """Show the choices that fit `opened` (hidden when nothing is open)."""
        self._opened = opened
        self.setTitle("Start from")
        for button in self.buttons.values():
            button.show()
        self.setVisible(opened is not None)
        if opened is None:
            self.offer_preset(None)
            self.buttons[SCRATCH].setChecked(True)
            return
        modes = available_modes(opened)
        for mode, button in self.buttons.items():
            button.setEnabled(mode in modes)
        epoch = f", epoch {opened.epoch}" if opened.epoch else ""
        self.buttons[RESUME].setText(f"Continue this run (from epoch {opened.epoch})" if opened.resumable
                                     else "Continue this run")
        self.source.setText(f"<b>{opened.name}</b> — {opened.description}{epoch}")
        self.notes.setText(" ".join(opened.notes))
        self.notes.setVisible(bool(opened.notes))
        self.offer_preset(opened.preset_offer)
        self.set_mode(default or default_mode(opened))

    def mode(self) -> StartMode:
        for mode, button in self.buttons.items():
            if button.isChecked() and button.isEnabled() and self._opened is not None:
                return mode
        return SCRATCH

    def set_mode(self, mode: str) -> None:
        if not self.buttons[mode].isEnabled():
            mode = SCRATCH
        self.buttons[mode].setChecked(True)
        self.changed.emit()
