"""What comparing runs needs from disk, without Qt: each run's settings and history, the
settings side by side, and a few headline results with the best one marked.

Settings are read through RunConfig, so a run written by an older version (a field it did
not have) shows the default it ran with, and every run has the same rows in the same order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from hrm_studio.config import RunConfig, all_fields
from hrm_studio.errors import ConfigError, UserError
from hrm_studio.runstore.keys import HistoryKey
from hrm_studio.runstore.run_dir import RunDir


@dataclass(frozen=True)
class ComparedRun:
    name: str
    path: Path
    settings: dict[str, Any]              # field name → value, every RunConfig field
    history: list[dict[str, Any]]
    patterns: list[str] = field(default_factory=list)


def load_run(path: str | Path) -> ComparedRun:
    """One run folder's settings and history (small files only)."""
    run = RunDir(Path(path))
    try:
        raw = run.read_config()
        config = RunConfig.from_dict(raw)
    except (OSError, ValueError, ConfigError) as exc:
        raise UserError(f"The settings of {run.path.name} cannot be read ({exc}); it was left out of the "
                        f"comparison.") from None
    try:
        history = run.read_history()
    except (OSError, ValueError):
        history = []
    patterns: list[str] = []
    task = run.read_task()
    if task is not None:
        patterns = [str(p) for p in task.get("pattern_names") or []]
    settings = {f.name: config.get(f.name) for _, f in all_fields()}
    return ComparedRun(run.path.name, run.path, settings, history, patterns)


def load_runs(paths: Iterable[str | Path]) -> list[ComparedRun]:
    return [load_run(p) for p in paths]


# ----- settings side by side ---------------------------------------------------------------------
@dataclass(frozen=True)
class SettingRow:
    section: str
    name: str
    values: list[Any]

    @property
    def differs(self) -> bool:
        return any(v != self.values[0] for v in self.values[1:])


def setting_rows(runs: Sequence[ComparedRun]) -> list[SettingRow]:
    """One row per RunConfig field, in the settings form's order."""
    return [SettingRow(section, f.name, [r.settings.get(f.name) for r in runs]) for section, f in all_fields()]


def differing_fields(runs: Sequence[ComparedRun]) -> list[str]:
    return [row.name for row in setting_rows(runs) if row.differs]


# ----- headline results ------------------------------------------------------------------------------
def _values(history: list[dict[str, Any]], key: str) -> list[float]:
    out = []
    for row in history:
        value = row.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out.append(float(value))
    return out


def _last(values: list[float]) -> float | None:
    return values[-1] if values else None


def _epochs_to_best(history: list[dict[str, Any]]) -> float | None:
    best, epoch = None, None
    for row in history:
        value = row.get(HistoryKey.VAL_EXACT)
        if isinstance(value, (int, float)) and (best is None or value > best):
            best, epoch = value, row.get(HistoryKey.EPOCH)
    return float(epoch) if isinstance(epoch, (int, float)) else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


SOLVED_AT = 0.99  # the "time to solve" mark: held-out exact the papers' small tasks are read at


def _seconds_to_solved(history: list[dict[str, Any]]) -> float | None:
    """Wall time of the first evaluation at or above SOLVED_AT held-out exact (None: never)."""
    for row in history:
        value, seconds = row.get(HistoryKey.VAL_EXACT), row.get(HistoryKey.WALL_SECONDS)
        if isinstance(value, (int, float)) and value >= SOLVED_AT and isinstance(seconds, (int, float)):
            return float(seconds)
    return None


@dataclass(frozen=True)
class ResultSpec:
    label: str
    unit: str                              # "%" (a fraction shown as %), "s", "" (a plain number)
    better: str | None                     # "max" / "min" / None (not a score: nothing is marked)
    value: Callable[[list[dict[str, Any]]], float | None]
    when_known: bool = False               # a row only while some run has the figure (ARC pass@2)


RESULTS: tuple[ResultSpec, ...] = (
    ResultSpec("Best held-out exact", "%", "max", lambda h: max(_values(h, HistoryKey.VAL_EXACT), default=None)),
    ResultSpec("Final held-out exact", "%", "max", lambda h: _last(_values(h, HistoryKey.VAL_EXACT))),
    ResultSpec("Best held-out token accuracy", "%", "max",
               lambda h: max(_values(h, HistoryKey.VAL_TOKEN_ACCURACY), default=None)),
    ResultSpec("Best ARC pass@2", "%", "max", lambda h: max(_values(h, HistoryKey.VAL_ARC_PASS_AT_2), default=None),
               when_known=True),
    ResultSpec("Final ARC pass@2", "%", "max", lambda h: _last(_values(h, HistoryKey.VAL_ARC_PASS_AT_2)),
               when_known=True),
    ResultSpec("Lowest held-out loss", "", "min", lambda h: min(_values(h, HistoryKey.VAL_LOSS), default=None)),
    ResultSpec("Final training loss", "", "min", lambda h: _last(_values(h, HistoryKey.LOSS))),
    ResultSpec("Epoch of best held-out exact", "", None, _epochs_to_best),
    ResultSpec("Epochs", "", None, lambda h: float(len(h)) if h else None),
    ResultSpec("Wall time", "s", None, lambda h: _last(_values(h, HistoryKey.WALL_SECONDS))),
    ResultSpec(f"Time to ≥ {100 * SOLVED_AT:.0f} % held-out exact", "s", "min", _seconds_to_solved),
    ResultSpec("Training samples/s (mean)", "", "max", lambda h: _mean(_values(h, HistoryKey.SAMPLES_PER_SECOND))),
)


@dataclass(frozen=True)
class ResultRow:
    spec: ResultSpec
    values: list[float | None]
    best: frozenset[int]                  # columns holding the best value (ties: all of them)

    def text(self, column: int) -> str:
        value = self.values[column]
        if value is None:
            return "–"
        if self.spec.unit == "%":
            return f"{100 * value:.1f} %"
        if self.spec.unit == "s":
            return f"{value:.1f} s"
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.4g}"


def result_rows(runs: Sequence[ComparedRun]) -> list[ResultRow]:
    rows = []
    for spec in RESULTS:
        values = [spec.value(r.history) for r in runs]
        known = [v for v in values if v is not None]
        if spec.when_known and not known:
            continue
        best: frozenset[int] = frozenset()
        if spec.better and len(known) > 1 and len(set(known)) > 1:
            target = max(known) if spec.better == "max" else min(known)
            best = frozenset(i for i, v in enumerate(values) if v == target)
        rows.append(ResultRow(spec, values, best))
    return rows


def long_history(runs: Sequence[ComparedRun]) -> list[dict[str, Any]]:
    """Every run's history in one table, a `run` column first: what the CSV export writes."""
    return [{"run": r.name, **row} for r in runs for row in r.history]
