"""New sweep…: pick settings and the values they take, see how many runs and how long, start.

Built to be filled from code as well as by hand: `add_axis`, `set_random`, `spec()` and
`start()` are what the buttons call, so tests (and scripts) never meet a modal dialog. The
window shows it with `show()`; it never blocks in `exec()`.

Checking is the core's (training/sweep.py): the summary line shows either the run count
and the estimate, or the one sentence that says what to fix, and Start stays disabled
until there is nothing to fix.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGridLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QRadioButton, QSpinBox, QToolButton,
                               QVBoxLayout, QWidget)

from hrm_studio.config import RunConfig, all_fields
from hrm_studio.costs import format_duration
from hrm_studio.errors import ConfigError
from hrm_studio.presets import PRESET_SWEEPS, preset_config, preset_sweep
from hrm_studio.training.sweep import MAX_RUNS, SweepSpec, default_sweep_name, format_value
from hrm_studio.gui.widgets.words import count

FIELD_META = {f.name: f.metadata for _, f in all_fields()}


def example_values(name: str, base: RunConfig) -> str:
    """A hint for the values box: every choice, or the current value and a neighbour."""
    meta = FIELD_META[name]
    if meta.get("choices"):
        return ",".join(meta["choices"]) + "   (or * for every choice)"
    value = base.get(name)
    if isinstance(value, bool):
        return "true,false"
    if isinstance(value, int):
        return f"{value},{value * 2 or 1}   (or {value}..{value * 4 or 4} for random draws)"
    if isinstance(value, float):
        return f"{format_value(value)},{format_value(value * 2 or 0.1)}   (or a range low..high for random draws)"
    return f"{value or 'value1'};value2   (separate with ; when values contain commas)"


class _AxisRow:
    """One line of the dialog: a setting, its values, a remove button."""

    def __init__(self, dialog: "SweepDialog") -> None:
        self.field = QComboBox()
        for _, f in all_fields():
            self.field.addItem(f"{f.name}", f.name)
            self.field.setItemData(self.field.count() - 1, f"{f.metadata['group']}: {f.metadata['help']}",
                                   Qt.ItemDataRole.ToolTipRole)
        self.values = QLineEdit()
        self.remove = QToolButton()
        self.remove.setText("✕")
        self.remove.setToolTip("Remove this setting from the sweep.")
        self.field.currentIndexChanged.connect(lambda _: dialog._field_changed(self))
        self.values.textChanged.connect(lambda _: dialog.update_summary())
        self.remove.clicked.connect(lambda: dialog.remove_axis(dialog.axis_rows.index(self)))

    @property
    def name(self) -> str:
        return str(self.field.currentData())

    def text(self) -> str:
        return f"{self.name}={self.values.text().strip()}"


class SweepDialog(QDialog):
    """`start_requested(spec, sweep_dir)` when Start is pressed with a valid sweep."""

    start_requested = Signal(object, object)

    def __init__(self, base: RunConfig, runs_root: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New sweep")
        self.setObjectName("sweepDialog")
        self.base = base.copy()
        self.runs_root = runs_root
        self.axis_rows: list[_AxisRow] = []
        self._blocker: str | None = None
        self._spec: SweepSpec | None = None
        self._estimate: float | None = None

        intro = self._build_intro()
        add_row = self._build_axes()
        mode_row = self._build_mode_row()
        form = self._build_name_form(runs_root)
        self._build_summary()
        self._build_layout(intro, add_row, mode_row, form)
        self.resize(640, 360)
        self._describe_base("the current settings")
        self.add_axis("lr", "1e-4,5e-4,1e-3")

    # ----- layout -------------------------------------------------------------------------------
    def _build_intro(self) -> QLabel:
        intro = QLabel("Each run uses the current settings with the settings below changed. Type the values "
                       "separated by commas (lr = 1e-4,5e-4,1e-3), or a range low..high for random draws.")
        intro.setWordWrap(True)
        self.base_label = QLabel()
        self.base_label.setObjectName("hint")
        return intro

    def _build_axes(self) -> QHBoxLayout:
        self.axes_grid = QGridLayout()
        self.axes_grid.setColumnStretch(1, 1)
        add = QPushButton("Add setting")
        add.setToolTip("Vary one more setting; a grid runs every combination.")
        add.clicked.connect(lambda: self.add_axis())
        self.preset = QComboBox()
        self.preset.addItem("Load a preset sweep…", "")
        for name in PRESET_SWEEPS:
            self.preset.addItem(name, name)
        self.preset.setToolTip("Replace the settings and the values with a preset's, e.g. the seed's "
                               "lr × hidden_size × batch_size grid.")
        self.preset.activated.connect(lambda i: self.load_preset(self.preset.itemData(i)) if i else None)
        add_row = QHBoxLayout()
        add_row.addWidget(add)
        add_row.addStretch(1)
        add_row.addWidget(self.preset)
        return add_row

    def _build_mode_row(self) -> QHBoxLayout:
        self.grid_button = QRadioButton("Grid: every combination")
        self.random_button = QRadioButton("Random draws:")
        self.grid_button.setChecked(True)
        mode = QButtonGroup(self)
        mode.addButton(self.grid_button)
        mode.addButton(self.random_button)
        self.draws = QSpinBox()
        self.draws.setRange(1, MAX_RUNS)
        self.draws.setValue(8)
        self.draws.setSuffix(" runs")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setPrefix("seed ")
        self.seed.setToolTip("The same seed draws the same runs. Each run keeps its own 'seed' setting.")
        mode_row = QHBoxLayout()
        mode_row.addWidget(self.grid_button)
        mode_row.addSpacing(12)
        mode_row.addWidget(self.random_button)
        mode_row.addWidget(self.draws)
        mode_row.addWidget(self.seed)
        mode_row.addStretch(1)
        for widget in (self.grid_button, self.random_button):
            widget.toggled.connect(lambda _: self.update_summary())
        self.draws.valueChanged.connect(lambda _: self.update_summary())
        self.seed.valueChanged.connect(lambda _: self.update_summary())
        return mode_row

    def _build_name_form(self, runs_root: Path) -> QFormLayout:
        self.name = QLineEdit(default_sweep_name(self.base.data.task))
        self.name.setToolTip(f"The sweep's folder, inside {runs_root}; each run gets a folder inside it.")
        self.name.textChanged.connect(lambda _: self.update_summary())
        form = QFormLayout()
        form.addRow("Folder name", self.name)
        return form

    def _build_summary(self) -> None:
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setToolTip("A rough estimate from the settings (model size, puzzles, epochs, threads); "
                                "runs that solve the held-out puzzles early finish sooner.")
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.start_button = self.buttons.addButton("Start sweep", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)

    def _build_layout(self, intro: QLabel, add_row: QHBoxLayout, mode_row: QHBoxLayout,
                      form: QFormLayout) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.base_label)
        layout.addLayout(self.axes_grid)
        layout.addLayout(add_row)
        layout.addLayout(mode_row)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    # ----- filling it in (buttons and tests) ----------------------------------------------------
    def add_axis(self, name: str = "", values: str = "") -> int:
        """Add a line; returns its index. Without a name, the first setting not yet varied."""
        row = _AxisRow(self)
        used = {r.name for r in self.axis_rows}
        if not name:
            name = next(f.name for _, f in all_fields() if f.name not in used)
        index = row.field.findData(name)
        if index < 0:
            raise ConfigError(f"Unknown setting '{name}'.")
        row.field.blockSignals(True)
        row.field.setCurrentIndex(index)
        row.field.blockSignals(False)
        row.values.setText(values)
        row.values.setPlaceholderText(example_values(name, self.base))
        line = len(self.axis_rows)
        self.axes_grid.addWidget(row.field, line, 0)
        self.axes_grid.addWidget(row.values, line, 1)
        self.axes_grid.addWidget(row.remove, line, 2)
        self.axis_rows.append(row)
        self.update_summary()
        return line

    def set_axis(self, index: int, name: str, values: str) -> None:
        row = self.axis_rows[index]
        row.field.setCurrentIndex(row.field.findData(name))
        row.values.setText(values)

    def remove_axis(self, index: int) -> None:
        row = self.axis_rows.pop(index)
        for widget in (row.field, row.values, row.remove):
            self.axes_grid.removeWidget(widget)
            widget.deleteLater()
        for line, other in enumerate(self.axis_rows):  # close the gap
            for column, widget in enumerate((other.field, other.values, other.remove)):
                self.axes_grid.addWidget(widget, line, column)
        self.update_summary()

    def clear_axes(self) -> None:
        while self.axis_rows:
            self.remove_axis(len(self.axis_rows) - 1)

    def set_grid(self) -> None:
        self.grid_button.setChecked(True)

    def set_random(self, draws: int, seed: int = 0) -> None:
        self.random_button.setChecked(True)
        self.draws.setValue(draws)
        self.seed.setValue(seed)

    def load_preset(self, name: str) -> None:
        """The preset's settings as the base and its sweep as the lines (e.g. the seed grid)."""
        self.base = preset_config(name)
        self.clear_axes()
        for text in preset_sweep(name):
            field, _, values = text.partition("=")
            self.add_axis(field, values)
        self.set_grid()
        self.name.setText(default_sweep_name(name))
        self._describe_base(f"the '{name}' preset")
        self.update_summary()

    def set_blocker(self, reason: str | None) -> None:
        """Why a sweep cannot start now (a run is training), or None."""
        self._blocker = reason
        self.update_summary()

    # ----- reading it ---------------------------------------------------------------------------
    def sweep_dir(self) -> Path:
        return self.runs_root / self.name.text().strip()

    def spec(self) -> SweepSpec:
        """The sweep as typed; ConfigError with one sentence when something is wrong."""
        draws = self.draws.value() if self.random_button.isChecked() else None
        return SweepSpec.parse(self.base, [r.text() for r in self.axis_rows], draws=draws, seed=self.seed.value())

    def problem(self) -> str | None:
        """What stops Start, in one sentence; None when the sweep can start."""
        self._spec = self._estimate = None
        try:
            spec = self.spec()
            estimate = spec.estimate_seconds()  # builds and checks every run, as the sweep will
        except ConfigError as exc:
            return str(exc)
        self._spec, self._estimate = spec, estimate
        name = self.name.text().strip()
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            return "Give the sweep a folder name (no slashes)."
        if (self.sweep_dir() / "sweep.json").exists():
            return f"{self.sweep_dir()} already holds a sweep: choose another folder name."
        return self._blocker

    def update_summary(self) -> None:
        problem = self.problem()
        spec = self._spec
        if spec is not None:
            what = "every combination" if spec.mode == "grid" else f"random draws, seed {spec.seed}"
            self.summary.setText(f"<b>{count(spec.count(), 'run')}</b> ({what}), one at a time: "
                                 f"about <b>{format_duration(self._estimate)}</b>.")
        else:
            self.summary.setText("")
        self.summary.setVisible(spec is not None)
        self.error.setText(problem or "")
        self.error.setVisible(bool(problem))
        self.start_button.setEnabled(problem is None)
        self.start_button.setToolTip(problem or "Start the runs one after another; results appear in the "
                                                "Sweep panel.")

    # ----- starting -------------------------------------------------------------------------------
    def start(self) -> bool:
        problem = self.problem()
        if problem is not None or self._spec is None:
            self.update_summary()
            return False
        self.start_requested.emit(self._spec, self.sweep_dir())
        self.accept()
        return True

    # ----- helpers ------------------------------------------------------------------------------
    def _field_changed(self, row: _AxisRow) -> None:
        row.values.clear()
        row.values.setPlaceholderText(example_values(row.name, self.base))
        row.field.setToolTip(FIELD_META[row.name]["help"])
        self.update_summary()

    def _describe_base(self, what: str) -> None:
        d, m, t = self.base.data, self.base.model, self.base.train
        self.base_label.setText(f"Base: {what} — task {d.dataset_dir or d.task}, hidden_size {m.hidden_size}, "
                                f"{count(t.epochs, 'epoch')}, batch {t.batch_size}, lr {format_value(t.lr)}.")

