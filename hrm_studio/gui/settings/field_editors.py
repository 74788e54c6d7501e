"""One editor per RunConfig field, chosen from the field's type and metadata.

The form is generated: an int becomes a spin box with the field's range and unit, a
float a spin box that accepts scientific notation, a field with `choices` a combo box, a
bool a check box and any other text a line edit. A help text such as "(0 = all cores)"
becomes the spin box's label for 0. Nothing here knows individual field names except
`REGISTRY_CHOICES`, for the one field whose choices live in a registry (the task list).
"""

from __future__ import annotations

import math
import re
import typing
from dataclasses import Field
from typing import Any, Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QHBoxLayout, QLabel,
                               QLineEdit, QSpinBox, QToolButton, QWidget)

from hrm_studio.config import SECTIONS


def _task_choices() -> list[tuple[str, str]]:
    from hrm_studio.data import TASKS

    return [(name, getattr(spec, "description", "")) for name, spec in TASKS.items()]


def _device_choices() -> list[tuple[str, str]]:
    """The usual devices (a run folder's cuda:N is added when shown: the setting is free text)."""
    return [("auto", "A CUDA GPU if there is one, else an Apple GPU, else the CPU"), ("cpu", "The CPU"),
            ("cuda", "The first CUDA GPU (each process its own, in a run over several)"), ("mps", "An Apple GPU")]


# Fields whose choices come from a registry rather than from their metadata.
REGISTRY_CHOICES: dict[str, Callable[[], list[tuple[str, str]]]] = {"task": _task_choices,
                                                                     "device": _device_choices}

_ZERO_MEANS = re.compile(r"\(0\s*=\s*([^);]+)[^)]*\)")  # up to a ";": the rest is help, not a label
_WORDS = {"lr": "LR", "emb": "embedding", "ndim": "width", "num": "number of", "rope": "RoPE",
          "rms": "RMS", "eps": "epsilon", "dtype": "data type", "dir": "folder", "pos": "position",
          "arch": "architecture", "mlp": "MLP"}


def label_for(name: str) -> str:
    """'puzzle_emb_lr' → 'Puzzle embedding LR'; keeps official names recognisable."""
    text = " ".join(_WORDS.get(word, word) for word in name.split("_") if word)
    return text[:1].upper() + text[1:]


class ScientificSpinBox(QDoubleSpinBox):
    """A float spin box that shows 0.001 as 0.001 and 1e-05 as 1e-05, and steps by a tenth of a decade."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(15)

    def textFromValue(self, value: float) -> str:  # noqa: N802
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(self._strip(text))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        body = self._strip(text)
        if body == self.specialValueText().strip() and body:
            return QValidator.State.Acceptable, text, pos
        try:
            value = float(body)
        except ValueError:
            ok_prefix = re.fullmatch(r"[-+]?(\d*\.?\d*)([eE][-+]?\d*)?", body) is not None
            return (QValidator.State.Intermediate if ok_prefix else QValidator.State.Invalid), text, pos
        if not math.isfinite(value) or value < self.minimum() or value > self.maximum():
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Acceptable, text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802
        """Step the leading digit: 5e-4 → 6e-4, 1e-3 → 2e-3 up and 9e-4 down."""
        value = self.value()
        for _ in range(abs(steps)):
            if value == 0:
                value = 10 ** math.floor(math.log10(self.maximum())) / 100 if steps > 0 and self.maximum() > 0 else 0.0
                continue
            size = 10 ** math.floor(math.log10(abs(value)) + 1e-12)
            if steps < 0 and math.isclose(abs(value), size):
                size /= 10
            value = float(f"{value + (size if steps > 0 else -size):.12g}")
        self.setValue(value)

    def _strip(self, text: str) -> str:
        text = text.strip()
        suffix = self.suffix().strip()
        if suffix and text.endswith(suffix):
            text = text[: -len(suffix)].strip()
        return text


class FieldEditor(QObject):
    """A field's input widget plus its inline error label; `changed` fires on every edit."""

    changed = Signal()

    def __init__(self, section: str, field: Field, kind: type, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.section = section
        self.field = field   # the dataclass field, for `config.applies_to` (which architecture reads it)
        self.name = field.name
        self.meta = dict(field.metadata)
        self.kind = kind
        self.default = field.default
        self.label = QLabel(label_for(field.name))
        self.widget = QWidget()
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        self._help = self.meta.get("help", "")
        self._lock_reason = ""
        self._build()
        self._refresh_tooltip()

    # ----- building ------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QHBoxLayout(self.widget)
        layout.setContentsMargins(0, 0, 0, 0)
        choices = self._choices()
        if self.kind is bool:
            self.input: QWidget = QCheckBox()
            self.input.toggled.connect(self.changed)
        elif choices is not None:
            combo = QComboBox()
            for value, tip in choices:
                combo.addItem(value, value)
                if tip:
                    combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
            combo.currentIndexChanged.connect(self.changed)
            self._ignore_wheel_unless_focused(combo)
            self.input = combo
        elif self.kind is int:
            spin = QSpinBox()
            spin.setRange(int(self._bound("min", -2**31)), int(self._bound("max", 2**31 - 1)))
            self._decorate_spin(spin)
            spin.valueChanged.connect(self.changed)
            self.input = spin
        elif self.kind is float:
            spin = ScientificSpinBox()
            spin.setRange(float(self._bound("min", -1e308)), float(self._bound("max", 1e308)))
            self._decorate_spin(spin)
            spin.valueChanged.connect(self.changed)
            self.input = spin
        else:
            edit = QLineEdit()
            edit.setClearButtonEnabled(True)
            edit.textChanged.connect(self.changed)
            self.input = edit
        layout.addWidget(self.input, 1)
        self.override = QLabel()   # shown instead of the input while another setting decides this one
        self.override.setObjectName("hint")
        self.override.hide()
        layout.addWidget(self.override, 1)
        if self.kind is str and choices is None and self.name.endswith("_dir"):
            browse = QToolButton()
            browse.setText("…")
            browse.setToolTip("Choose a folder")
            browse.clicked.connect(self._browse_folder)
            layout.addWidget(browse)
            self.browse = browse

    def _choices(self) -> list[tuple[str, str]] | None:
        if self.name in REGISTRY_CHOICES:
            return REGISTRY_CHOICES[self.name]()
        if self.meta.get("choices"):
            return [(c, "") for c in self.meta["choices"]]
        return None

    def _bound(self, key: str, fallback: float) -> float:
        value = self.meta.get(key)
        return fallback if value is None else value

    def _decorate_spin(self, spin: QSpinBox | QDoubleSpinBox) -> None:
        if self.meta.get("unit"):
            spin.setSuffix(f" {self.meta['unit']}")
        zero = _ZERO_MEANS.search(self._help)
        if zero and spin.minimum() == 0:
            spin.setSpecialValueText(zero.group(1).strip())
        spin.setAccelerated(True)
        self._ignore_wheel_unless_focused(spin)

    def _ignore_wheel_unless_focused(self, widget: QWidget) -> None:
        """Scrolling the settings panel must not change the value under the pointer."""
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()
            return True
        return False

    def _browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.widget, f"Choose the {label_for(self.name).lower()}")
        if folder:
            self.set_value(folder)

    # ----- value -----------------------------------------------------------------------------
    def value(self) -> Any:
        w = self.input
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentData() if w.currentData() is not None else w.currentText()
        if isinstance(w, (QSpinBox, QDoubleSpinBox)):
            return w.value()
        return w.text()

    def set_value(self, value: Any) -> None:
        w = self.input
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            index = w.findData(value)
            if index < 0:  # keep an unknown value visible so its problem can be shown
                w.addItem(str(value), value)
                index = w.count() - 1
            w.setCurrentIndex(index)
        elif isinstance(w, QSpinBox):
            w.setValue(int(value))
        elif isinstance(w, QDoubleSpinBox):
            w.setValue(float(value))
        else:
            w.setText(str(value))

    # ----- state -----------------------------------------------------------------------------
    def show_problem(self, reason: str | None) -> None:
        self.error.setText(reason or "")
        self.error.setVisible(bool(reason))
        self.label.setProperty("invalid", bool(reason))
        self.label.style().unpolish(self.label)
        self.label.style().polish(self.label)

    @property
    def problem(self) -> str:
        return self.error.text()

    def set_locked(self, locked: bool, reason: str = "") -> None:
        self.widget.setEnabled(not locked)
        self.label.setEnabled(not locked)
        self._lock_reason = reason if locked else ""
        self._refresh_tooltip()

    def set_overridden(self, text: str | None, reason: str = "") -> None:
        """Show `text` instead of the input (None: the input again), e.g. the Task box says "dataset folder"
        while one is set; the value underneath is kept for when the override goes."""
        self.override.setText(text or "")
        self.override.setToolTip(reason)
        self.override.setVisible(text is not None)
        self.input.setVisible(text is None)

    @property
    def overridden(self) -> str | None:
        return self.override.text() if not self.override.isHidden() else None

    @property
    def locked(self) -> bool:
        return not self.widget.isEnabled()

    def _refresh_tooltip(self) -> None:
        tip = f"{self._help}  ({self.name})"
        if self._lock_reason:
            tip += f"\n{self._lock_reason}"
        for w in (self.label, self.input):
            w.setToolTip(tip)


def make_editors(parent: QWidget | None = None) -> list[FieldEditor]:
    """An editor for every RunConfig field, in display order."""
    editors = []
    for section, cls in SECTIONS.items():
        hints = typing.get_type_hints(cls)
        for f in cls.__dataclass_fields__.values():
            editors.append(FieldEditor(section, f, hints[f.name], parent))
    return editors
