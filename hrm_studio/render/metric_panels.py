"""What the Metrics plots show, as plain data: the panels, their curves and how each curve looks.

Why one Qt-free list: the window's Metrics tab (gui/metrics/plots.py, pyqtgraph) and the
headless report (report.py, Pillow through render/chart_image.py) both draw from
`PANELS`, so a panel or curve added here appears in both, with the same title, axis,
history key, label and colour role, and the report needs no display.

A panel is one plot; a curve is one history key drawn against the epoch (or the wall
time). Roles say which colour a curve takes: `train` and `validation` (held-out), or one
colour per pattern for the per-pattern exact-match curves, solid for training and dashed
for held-out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from hrm_studio.render.plot_colours import PlotColours
from hrm_studio.render.smoothing import debiased_ema
from hrm_studio.runstore.keys import HistoryKey, held_out, pattern_key

TRAIN = "train"
VALIDATION = "validation"
X_AXES = {"epoch": "Epoch", "wall": "Wall time (s)"}
COLUMNS = 2                   # panels per row, in PANELS order
PERCENT_TICK_STEP = 20.0      # a % axis is labelled 0, 20, … 100
PATTERN_METRIC = "accuracy"   # per-pattern curves: exact match of each pattern


@dataclass(frozen=True)
class CurveSpec:
    key: str                  # history key
    label: str                # legend / read-out text
    role: str                 # TRAIN | VALIDATION
    pattern: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", str(self.key))  # a HistoryKey member as the plain key it stands for


@dataclass(frozen=True)
class PanelSpec:
    name: str
    title: str
    percent: bool             # a fraction shown as %
    log_capable: bool         # follows the log-scale toggle
    smooth: bool              # follows the smoothing slider
    curves: tuple[CurveSpec, ...]
    optional: bool = False    # drawn only while the history has one of its keys
    per_pattern: bool = False  # the per-pattern curves join this panel

    @property
    def y_label(self) -> str:
        """The y axis' unit ("%" for fractions; the title says what the other values are)."""
        return "%" if self.percent else ""

    @property
    def y_tick_step(self) -> float | None:
        """A fixed tick step for the y axis, or None for a nice step chosen from the range."""
        return PERCENT_TICK_STEP if self.percent else None


@dataclass(frozen=True)
class CurveStyle:
    colour: str
    width: float              # in pixels at 1× scale
    dashed: bool


@dataclass(frozen=True)
class LegendEntry:
    text: str
    colour: str | None        # None: plain text (a heading or a note), no line drawn
    dashed: bool = False


def _pair(key: str, held_out_key: str | None = None) -> tuple[CurveSpec, CurveSpec]:
    return (CurveSpec(key, "train", TRAIN), CurveSpec(held_out_key or held_out(key), "held-out", VALIDATION))


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("loss", "Loss", False, True, True, _pair(HistoryKey.LOSS, HistoryKey.VAL_LOSS)),
    PanelSpec("token_accuracy", "Token accuracy", True, False, True,
              _pair(HistoryKey.TOKEN_ACCURACY, HistoryKey.VAL_TOKEN_ACCURACY)),
    PanelSpec("exact_match", "Exact match", True, False, True, _pair(HistoryKey.EXACT, HistoryKey.VAL_EXACT),
              per_pattern=True),
    PanelSpec("learning_rate", "Learning rate", False, True, False,
              (CurveSpec(HistoryKey.LEARNING_RATE, "learning rate", TRAIN),)),
    PanelSpec("mean_act_steps", "Mean ACT steps", False, False, True, _pair(HistoryKey.MEAN_ACT_STEPS)),
    PanelSpec("q_halt_accuracy", "Q-halt accuracy", True, False, True, _pair(HistoryKey.Q_HALT_ACCURACY)),
    PanelSpec("curriculum", "Curriculum difficulty", False, False, False,
              (CurveSpec(HistoryKey.CURRICULUM_DIFFICULTY, "difficulty (grid side or blanks)", TRAIN),),
              optional=True),
    PanelSpec("arc_pass_at_2", "ARC pass@2", True, False, False,
              (CurveSpec(HistoryKey.VAL_ARC_PASS_AT_2, "held-out pass@2 (ARC protocol)", VALIDATION),), optional=True),
)
# Panels drawn only while the history has their key (a curriculum run, an ARC data set), so plain runs keep six plots.
OPTIONAL_PANELS = frozenset(p.name for p in PANELS if p.optional)
PATTERN_PANEL = next(p.name for p in PANELS if p.per_pattern)


def panel(name: str) -> PanelSpec:
    """The panel called `name` (KeyError when there is none)."""
    for spec in PANELS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def grid_cell(index: int) -> tuple[int, int]:
    """(row, column) of the `index`-th panel of PANELS in the plots' grid."""
    return index // COLUMNS, index % COLUMNS


def pattern_curves(patterns: Iterable[str]) -> list[CurveSpec]:
    """Exact match per pattern, train and held-out."""
    out = []
    for i, name in enumerate(patterns):
        out.append(CurveSpec(pattern_key(name, PATTERN_METRIC), f"{name} (train)", TRAIN, i))
        out.append(CurveSpec(pattern_key(name, PATTERN_METRIC, on_held_out=True), f"{name} (held-out)", VALIDATION, i))
    return out


def panel_curves(spec: PanelSpec, patterns: Iterable[str] = ()) -> list[CurveSpec]:
    """Every curve of one panel: its own, then the per-pattern ones where they belong."""
    return list(spec.curves) + (pattern_curves(patterns) if spec.per_pattern else [])


def curve_keys(patterns: Iterable[str] = ()) -> list[str]:
    """Every history key the plots draw, in drawing order."""
    patterns = list(patterns)
    return [curve.key for spec in PANELS for curve in panel_curves(spec, patterns)]


def number(value: Any) -> float | None:
    """A finite float, or None for anything else (missing, text, bool, NaN, ∞)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def has_data(spec: PanelSpec, rows: Iterable[dict[str, Any]], patterns: Iterable[str] = ()) -> bool:
    """Whether any row holds a value for one of the panel's curves."""
    keys = [c.key for c in panel_curves(spec, patterns)]
    return any(number(row.get(key)) is not None for row in rows for key in keys)


def panels_to_draw(rows: Sequence[dict[str, Any]]) -> list[PanelSpec]:
    """The panels a picture of `rows` shows: all but the optional ones without data."""
    return [p for p in PANELS if not p.optional or has_data(p, rows)]


def x_value(row: dict[str, Any], x_axis: str = "epoch") -> float | None:
    """Where a row sits on the x axis: its epoch, or its seconds of training."""
    return number(row.get(HistoryKey.WALL_SECONDS if x_axis == "wall" else HistoryKey.EPOCH))


def series(spec: PanelSpec, key: str, rows: Iterable[dict[str, Any]], *, x_axis: str = "epoch",
           smoothing: float = 0.0, log: bool = False) -> tuple[list[float], list[float]]:
    """x and y of history key `key` as `spec` draws it: rows without a value skipped, then
    smoothed (if the panel smooths), fractions as %, and non-positive values gone on a log axis."""
    xs, ys = [], []
    for row in rows:
        x, y = x_value(row, x_axis), number(row.get(key))
        if x is not None and y is not None:
            xs.append(x)
            ys.append(y)
    if spec.smooth and smoothing > 0:
        ys = debiased_ema(ys, smoothing)
    if spec.percent:
        ys = [100.0 * y for y in ys]
    if spec.log_capable and log:
        ys = [y if y > 0 else math.nan for y in ys]
    return xs, ys


def curve_style(curve: CurveSpec, colours: PlotColours) -> CurveStyle:
    """Train / held-out colours for the overall curves; a pattern's colour (dashed when held-out) for its own."""
    if curve.pattern is None:
        return CurveStyle(colours.train if curve.role == TRAIN else colours.validation, 2.0, False)
    return CurveStyle(colours.pattern(curve.pattern), 1.4, curve.role == VALIDATION)


def legend_entries(patterns: Sequence[str], colours: PlotColours) -> list[LegendEntry]:
    """The one legend above all the plots: train, held-out, then each pattern's colour."""
    entries = [LegendEntry("train", colours.train), LegendEntry("held-out", colours.validation)]
    if patterns:
        entries.append(LegendEntry("per pattern (exact match):", None))
        entries += [LegendEntry(name, colours.pattern(i)) for i, name in enumerate(patterns)]
        entries.append(LegendEntry("(solid train, dashed held-out)", None))
    return entries


def format_value(value: float, percent: bool) -> str:
    """A value as the read-out shows it: fractions as "12.5 %", tiny or huge numbers in e-notation."""
    if percent:
        return f"{100 * value:.1f} %"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e4):
        return f"{value:.2e}"
    return f"{value:.4g}"
