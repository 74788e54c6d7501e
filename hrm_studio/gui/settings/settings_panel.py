"""The settings form ⇄ RunConfig, with every problem shown next to its field.

The form is generated from the RunConfig field metadata (see field_editors.py), grouped
by each field's `group`. `validation.problems()` is the single judge of validity: the panel
shows each reason inline and reports `valid` so the window can keep Start disabled.
"""

from __future__ import annotations

from typing import Any, Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QApplication, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QScrollArea, QVBoxLayout, QWidget)

from hrm_studio.config import RunConfig, applies_to
from hrm_studio import validation
from hrm_studio.errors import ConfigError
from hrm_studio.gui.settings.arc_build_dialog import ArcBuildDialog
from hrm_studio.gui.settings.field_editors import FieldEditor, make_editors
from hrm_studio.presets import PRESETS, preset_config, preset_label

GROUP_ORDER = ("Task & data", "Curriculum", "Model", "ACT", "Optimisation", "Run")

# A field shown as a fixed text while another one is set: field → (the deciding field, the text, why).
OVERRIDDEN_BY = {"task": ("dataset_dir", "dataset folder",
                          "The puzzles come from the dataset folder below; clear it to choose a task.")}


class SettingsPanel(QWidget):
    """Edit a RunConfig. `changed` fires after every edit; `live_changed(name, value)` too."""

    changed = Signal()
    live_changed = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._editors: dict[str, FieldEditor] = {}
        self._problems: dict[str, str] = {}
        self._rows: dict[str, tuple[QGroupBox, QFormLayout]] = {}   # each field's group and form, to hide its row
        self._quiet = False

        top = self._build_header()
        scroll = self._build_form()
        self._add_arc_build()
        self._build_layout(top, scroll)
        self.preset_note.hide()
        self.set_config(RunConfig())

    # ----- layout ---------------------------------------------------------------------------
    def _build_preset_box(self) -> None:
        self.preset_box = QComboBox()
        self.preset_box.addItem("Choose a preset…", None)
        for name, spec in PRESETS.items():
            self.preset_box.addItem(preset_label(name), name)
            self.preset_box.setItemData(self.preset_box.count() - 1, spec["description"],
                                        Qt.ItemDataRole.ToolTipRole)
        self.preset_box.setToolTip("Load a named starting point; you can change any setting afterwards.")
        self.preset_box.activated.connect(self._preset_chosen)

    def _build_header(self) -> QHBoxLayout:
        self._build_preset_box()
        self.preset_note = QLabel()
        self.preset_note.setWordWrap(True)
        self.preset_note.setObjectName("hint")
        self.reset_button = QPushButton("Reset to defaults")
        self.reset_button.setToolTip("Put every setting back to its default value.")
        self.reset_button.clicked.connect(self.reset_to_defaults)
        self.summary = QLabel()
        self.summary.setObjectName("fieldError")
        self.summary.setWordWrap(True)
        self.summary.hide()

        top = QHBoxLayout()
        top.addWidget(QLabel("Preset"))
        top.addWidget(self.preset_box, 1)
        top.addWidget(self.reset_button)
        return top

    def _build_form(self) -> QScrollArea:
        form_host = QWidget()
        form_layout = QVBoxLayout(form_host)
        form_layout.setContentsMargins(0, 0, 4, 0)
        groups: dict[str, QFormLayout] = {}
        editors = make_editors(self)
        for group in GROUP_ORDER + tuple(sorted({e.meta.get("group", "Other") for e in editors} - set(GROUP_ORDER))):
            members = [e for e in editors if e.meta.get("group", "Other") == group]
            if not members:
                continue
            box = QGroupBox(group.replace("&", "&&"))
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            groups[group] = form
            for editor in members:
                self._add_editor_row(form, editor)
                self._rows[editor.name] = (box, form)
            form_layout.addWidget(box)
        form_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # Tab goes to its fields, never to the frame around them
        scroll.setWidgetResizable(True)
        scroll.setWidget(form_host)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # No horizontal scroll bar, so the panel may never get narrower than its widest row: the
        # editors' right edges (and the combo boxes' arrows) would be cut off unseen.
        scroll.setMinimumWidth(form_host.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        return scroll

    def _add_editor_row(self, form: QFormLayout, editor: FieldEditor) -> None:
        cell = QWidget()
        cell_layout = QVBoxLayout(cell)
        cell_layout.setContentsMargins(0, 0, 0, 0)
        cell_layout.setSpacing(1)
        cell_layout.addWidget(editor.widget)
        cell_layout.addWidget(editor.error)
        form.addRow(editor.label, cell)
        editor.label.setBuddy(editor.input)
        editor.changed.connect(lambda e=editor: self._edited(e))
        self._editors[editor.name] = editor

    def _add_arc_build(self) -> None:
        """A button under the dataset folder: build real ARC tasks into a new folder and train on it."""
        self.arc_dialog: ArcBuildDialog | None = None
        self.arc_button = QPushButton("Build an ARC data set…")
        self.arc_button.setToolTip("Build a data set of real ARC-AGI tasks (the official augmented layout) and "
                                   "make it the run's dataset folder.")
        self.arc_button.clicked.connect(self.show_arc_build)
        _, form = self._rows["dataset_dir"]
        row, _ = form.getWidgetPosition(self._editors["dataset_dir"].label)
        host = QWidget()   # a row of its own under the folder, so the form grows no wider
        line = QHBoxLayout(host)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.arc_button)
        line.addStretch(1)
        form.insertRow(row + 1, "", host)

    def show_arc_build(self) -> ArcBuildDialog:
        """The Build ARC data set dialog, shown without blocking (one per panel; it keeps its choices)."""
        if self.arc_dialog is None:
            self.arc_dialog = ArcBuildDialog(self)
            self.arc_dialog.built.connect(self._arc_built)
        self.arc_dialog.show()
        self.arc_dialog.raise_()
        self.arc_dialog.activateWindow()
        return self.arc_dialog

    def _arc_built(self, folder: str) -> None:
        """The new ARC folder becomes the run's data set, unless a run holds the settings meanwhile."""
        editor = self._editors["dataset_dir"]
        if editor.locked:
            if self.arc_dialog is not None:
                self.arc_dialog.say(f"Built {folder}. A run is in progress, so the settings keep its data set; choose "
                                    f"this folder as the dataset folder once the run has ended.")
            return
        editor.set_value(folder)

    def _build_layout(self, top: QHBoxLayout, scroll: QScrollArea) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.preset_note)
        layout.addWidget(self.summary)
        layout.addWidget(scroll, 1)

    # ----- access ---------------------------------------------------------------------------
    def editor(self, name: str) -> FieldEditor:
        return self._editors[name]

    def editors(self) -> Iterable[FieldEditor]:
        return self._editors.values()

    def config(self) -> RunConfig:
        """The settings as shown; call `problems()` before trusting them."""
        config = RunConfig()
        for editor in self._editors.values():
            try:
                config.set(editor.name, editor.value())
            except ConfigError:
                pass  # reported by problems()
        return config

    def set_config(self, config: RunConfig) -> None:
        self._quiet = True
        try:
            for editor in self._editors.values():
                editor.set_value(config.get(editor.name))
        finally:
            self._quiet = False
        self._revalidate()
        self.changed.emit()

    def set_value(self, name: str, value: Any) -> None:
        """Set one field as if the user typed it (tests and presets use this)."""
        self._editors[name].set_value(value)

    # ----- validation -----------------------------------------------------------------------
    def problems(self) -> dict[str, str]:
        return dict(self._problems)

    @property
    def valid(self) -> bool:
        return not self._problems

    def _revalidate(self) -> None:
        found: dict[str, str] = {}
        config = RunConfig()
        for editor in self._editors.values():
            try:
                config.set(editor.name, editor.value())
            except ConfigError as exc:
                found[editor.name] = str(exc)
        for name, reason in validation.problems(config).items():
            found.setdefault(name, reason)
        self._problems = found
        self._show_fields_for_arch()
        for name, editor in self._editors.items():
            editor.show_problem(found.get(name))
        for name, (decider, text, why) in OVERRIDDEN_BY.items():
            if name in self._editors and decider in self._editors:
                self._editors[name].set_overridden(text if self._editors[decider].value() else None, why)
        if found:
            count = len(found)
            self.summary.setText(f"{count} setting{'s' if count != 1 else ''} need{'s' if count == 1 else ''} "
                                 f"fixing before you can start (marked in red below).")
        self.summary.setVisible(bool(found))

    def _show_fields_for_arch(self) -> None:
        """Show only the settings the chosen architecture reads (from each field's `archs`), and hide a
        group left empty; hidden fields keep their values and come back when the architecture changes."""
        if "arch" not in self._editors:
            return
        arch = self._editors["arch"].value()
        shown: dict[QGroupBox, bool] = {}
        for name, (box, form) in self._rows.items():
            visible = applies_to(self._editors[name].field, arch)
            form.setRowVisible(self._editors[name].label, visible)
            shown[box] = shown.get(box, False) or visible
        for box, any_shown in shown.items():
            box.setVisible(any_shown)

    def field_shown(self, name: str) -> bool:
        """Whether the form offers `name` for the chosen architecture (tests and the tour ask this)."""
        box = self._rows[name][0]
        return not box.isHidden() and not self._editors[name].label.isHidden()

    def _edited(self, editor: FieldEditor) -> None:
        if self._quiet:
            return
        self._revalidate()
        if editor.meta.get("live") and editor.name not in self._problems:
            self.live_changed.emit(editor.name, editor.value())
        self.changed.emit()

    # ----- presets and defaults ------------------------------------------------------------
    def _finish_typing(self) -> None:
        """Let a field being typed in take its text now, before every value is replaced: a spin box commits
        (or reverts) on losing focus, which must not land after the new values."""
        focused = QApplication.focusWidget()
        if focused is not None and self.isAncestorOf(focused):
            focused.clearFocus()

    def apply_preset(self, name: str) -> None:
        self._finish_typing()
        self.set_config(preset_config(name))
        index = self.preset_box.findData(name)
        self.preset_box.setCurrentIndex(max(index, 0))
        self.preset_note.setText(PRESETS[name]["description"])
        self.preset_note.show()

    def reset_to_defaults(self) -> None:
        self._finish_typing()
        self.set_config(RunConfig())
        self.preset_box.setCurrentIndex(0)
        self.preset_note.hide()

    def _preset_chosen(self, index: int) -> None:
        name = self.preset_box.itemData(index)
        if name:
            self.apply_preset(name)

    # ----- locking --------------------------------------------------------------------------
    def set_locked(self, names: set[str], reason: str) -> None:
        """Lock exactly `names` (others unlocked); presets and reset follow any lock."""
        for name, editor in self._editors.items():
            editor.set_locked(name in names, reason)
        self.preset_box.setEnabled(not names)
        self.reset_button.setEnabled(not names)
        self.arc_button.setEnabled("dataset_dir" not in names)

    def locked_names(self) -> set[str]:
        return {name for name, editor in self._editors.items() if editor.locked}
