"""Sweeps: many runs that differ in a few settings, trained one after another.

A SweepSpec is a base RunConfig plus *axes* — a setting and the values it takes, typed
the way a person would (`lr=1e-4,5e-4,1e-3`, or a range `lr=1e-4..1e-2` for random
draws). In grid mode every combination runs; in random mode N draws are made with a
seed, so the same spec always gives the same runs. Every value and every generated
RunConfig is checked before the first run starts: a sweep that would fail at run 9 of
12 should fail before run 1.

The Sweep runner trains the runs one at a time (a laptop's cores are all busy with one
run) with the ordinary Trainer, each into `<sweep_dir>/<NN>-<key=value…>/`, a normal run
folder. After every run it rewrites `sweep.json` (the spec and one row per run) and
`sweep.csv`, so a sweep that is cancelled or killed still says what it found. A failed
run is recorded and the sweep goes on.

No Qt, and no torch until a run starts: the settings dialog parses and estimates with
this module on the GUI thread.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import random
import re
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable

from hrm_studio import validation
from hrm_studio.config import RunConfig, all_fields, check_field
from hrm_studio.costs import check_memory, estimate_seconds, format_duration
from hrm_studio.errors import ConfigError, UserError
from hrm_studio.runstore.atomic import atomic_write_text
from hrm_studio.runstore.keys import HistoryKey
from hrm_studio.runstore.run_dir import RunDir

MAX_RUNS = 1000
REDRAWS = 100  # random mode: draws tried for one run before its settings are called invalid
GRID, RANDOM = "grid", "random"
# Row states. pending/running only while the sweep goes on; sweep.json ends with the others.
PENDING, RUNNING, FINISHED, STOPPED, FAILED, SKIPPED = (
    "pending", "running", "finished", "stopped", "failed", "skipped")
SWEEP_JSON, SWEEP_CSV = "sweep.json", "sweep.csv"


# ----------------------------------------------------------------------------------------
# Axes: one setting and the values it takes
# ----------------------------------------------------------------------------------------

def _field(name: str) -> Any:
    """The dataclass Field of a setting; ConfigError (with suggestions) for an unknown name."""
    for _, f in all_fields():
        if f.name == name:
            return f
    RunConfig().section_of(name)  # raises "Unknown setting 'x'. Did you mean …?"
    raise AssertionError(name)  # pragma: no cover


def _field_kind(name: str) -> type:
    return type(_field(name).default)  # every default is a plain bool, int, float or str


def _numeric(name: str) -> bool:
    return _field_kind(name) in (int, float) and not _field(name).metadata.get("choices")


def check_value(name: str, value: Any) -> Any:
    """`value` converted to the setting's type and checked against its range / choices."""
    config = RunConfig()
    config.set(name, value)  # ConfigError: "Setting 'x' must be a whole number, not 'abc'."
    typed = config.get(name)
    reason = check_field(_field(name), typed)
    if reason:
        raise ConfigError(reason)
    return typed


def format_value(value: Any) -> str:
    """A value as a person would type it: 0.0005, 128, true, adamw."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass(frozen=True)
class Axis:
    """A setting and either a list of values or a (low, high) range for random draws."""

    name: str
    values: tuple[Any, ...] = ()
    low: Any = None
    high: Any = None

    @property
    def is_range(self) -> bool:
        return self.low is not None

    def text(self) -> str:
        if self.is_range:
            return f"{self.name}={format_value(self.low)}..{format_value(self.high)}"
        return f"{self.name}={','.join(format_value(v) for v in self.values)}"

    def to_dict(self) -> dict[str, Any]:
        if self.is_range:
            return {"name": self.name, "range": [self.low, self.high]}
        return {"name": self.name, "values": list(self.values)}

    def draw(self, rng: random.Random) -> Any:
        """One random value: from the list, or from the range (log-uniform for positive floats
        spanning more than 10×, where a uniform draw would almost never pick the small end)."""
        if not self.is_range:
            return self.values[rng.randrange(len(self.values))]
        low, high = self.low, self.high
        if isinstance(low, int):
            return rng.randint(low, high)
        if low > 0 and high / low > 10:
            value = math.exp(rng.uniform(math.log(low), math.log(high)))
        else:
            value = rng.uniform(low, high)
        return min(max(float(f"{value:.4g}"), low), high)  # readable, and still inside the range


def parse_axis(text: str) -> Axis:
    """`lr=1e-4,5e-4` (a list), `lr=1e-4..1e-2` (a range), `optimizer=*` (every choice).

    Values that contain commas (pattern_mix) are separated with `;` instead.
    """
    name, sep, rest = text.partition("=")
    name, rest = name.strip(), rest.strip()
    if not sep or not name:
        raise ConfigError(f"'{text}' must look like name=value1,value2 (or name=low..high for random draws), "
                          f"e.g. lr=1e-4,5e-4,1e-3.")
    f = _field(name)
    if not rest:
        raise ConfigError(f"{name}: give at least one value, e.g. {name}={format_value(f.default)}.")
    choices = f.metadata.get("choices")
    kind = _field_kind(name)
    if rest == "*":
        if choices:
            return Axis(name, tuple(choices))
        if kind is bool:
            return Axis(name, (False, True))
        raise ConfigError(f"{name}: '*' means every allowed value, which only choice and true/false settings "
                          f"have; list the values instead.")
    if ".." in rest and _numeric(name):
        low_text, _, high_text = rest.partition("..")
        low, high = check_value(name, low_text.strip()), check_value(name, high_text.strip())
        if low > high:
            raise ConfigError(f"{name}: the range {rest} must go from low to high "
                              f"({format_value(high)}..{format_value(low)}).")
        return Axis(name, low=low, high=high)
    parts = [p.strip() for p in rest.split(";" if ";" in rest else ",")]
    if any(not p for p in parts):
        raise ConfigError(f"{name}: '{rest}' has an empty value; separate values with single commas, "
                          f"e.g. {name}={format_value(f.default)},{format_value(f.default)}.")
    values = tuple(check_value(name, p) for p in parts)
    return Axis(name, tuple(dict.fromkeys(values)))  # a repeated value would only repeat a run


# ----------------------------------------------------------------------------------------
# The spec: a base config, axes, grid or random
# ----------------------------------------------------------------------------------------

@dataclass
class SweepSpec:
    """What to sweep. `configs()` is the list of runs, each one already validated."""

    base: RunConfig
    axes: list[Axis]
    mode: str = GRID
    draws: int = 0      # random mode: how many runs
    seed: int = 0       # random mode: seed of the draws (runs keep their own `seed` setting)

    @classmethod
    def parse(cls, base: RunConfig, texts: list[str], *, draws: int | None = None, seed: int = 0) -> "SweepSpec":
        """From `name=values` texts; `draws` switches to random mode."""
        spec = cls(base.copy(), [parse_axis(t) for t in texts], RANDOM if draws is not None else GRID,
                   draws or 0, seed)
        spec.check_axes()
        return spec

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.axes]

    def check_axes(self) -> None:
        """One ConfigError for the first thing wrong with the axes themselves."""
        if not self.axes:
            raise ConfigError("A sweep needs at least one setting to vary, e.g. --grid lr=1e-4,1e-3.")
        seen: set[str] = set()
        for axis in self.axes:
            if axis.name in seen:
                raise ConfigError(f"{axis.name} is given twice; put all its values in one list, "
                                  f"e.g. {axis.name}=a,b,c.")
            seen.add(axis.name)
            if not axis.is_range and not axis.values:
                raise ConfigError(f"{axis.name}: give at least one value.")
        if self.mode not in (GRID, RANDOM):
            raise ConfigError(f"Sweep mode must be '{GRID}' or '{RANDOM}', not '{self.mode}'.")
        if self.mode == GRID:
            ranged = next((a for a in self.axes if a.is_range), None)
            if ranged is not None:
                raise ConfigError(f"{ranged.name}: a range ({format_value(ranged.low)}..{format_value(ranged.high)}) "
                                  f"needs random draws; list values for a grid, or ask for N random runs.")
        elif not 1 <= self.draws <= MAX_RUNS:
            raise ConfigError(f"Random sweeps need between 1 and {MAX_RUNS} draws, not {self.draws}.")
        if self.count() > MAX_RUNS:
            raise ConfigError(f"This grid has {self.count()} runs; a sweep may have at most {MAX_RUNS}. "
                              f"Use fewer values, or random draws.")

    def count(self) -> int:
        if self.mode == RANDOM:
            return self.draws
        return math.prod(len(a.values) for a in self.axes)

    def points(self) -> list[dict[str, Any]]:
        """The varied values of every run, in order (grid: the last setting changes fastest)."""
        return [values for values, _ in self.configs()]

    def configs(self) -> list[tuple[dict[str, Any], RunConfig]]:
        """(varied values, validated RunConfig) per run; ConfigError naming the first bad run.

        A random draw that makes an invalid run (hidden_size=62 with num_heads=4) is drawn
        again, up to REDRAWS times, so ranges over such settings stay usable; a grid point
        is never changed, so a bad one is an error.
        """
        self.check_axes()
        total = self.count()
        out = []
        if self.mode == GRID:
            for index, combo in enumerate(itertools.product(*(a.values for a in self.axes)), 1):
                values = dict(zip(self.names, combo))
                out.append((values, self._run_config(values, index, total, strict=True)))
            return out
        rng = random.Random(self.seed)
        for index in range(1, total + 1):
            for attempt in range(REDRAWS):
                values = {a.name: a.draw(rng) for a in self.axes}
                config = self._run_config(values, index, total, strict=attempt == REDRAWS - 1)
                if config is not None:
                    out.append((values, config))
                    break
        return out

    def _run_config(self, values: dict[str, Any], index: int, total: int, *, strict: bool) -> Any:
        """The base with `values` set, checked; None (or ConfigError when `strict`) if invalid."""
        config = self.base.copy()
        for name, value in values.items():
            config.set(name, value)
        problems = validation.problems(config)
        if problems:
            if not strict:
                return None
            detail = "; ".join(f"{k}: {v}" for k, v in problems.items())
            tries = "" if self.mode == GRID else f" (and so were {REDRAWS - 1} other draws)"
            raise ConfigError(f"Run {index} of {total} ({describe(values)}) is not valid{tries} — {detail}")
        _check_fits(config, index, total, values)
        return config

    def estimate_seconds(self) -> float | None:
        """Estimated training time of the whole sweep (see `run_seconds`); None if unknown.
        Builds and checks every run first, so it raises the same ConfigError as `configs()`."""
        return _total([run_seconds(config) for _, config in self.configs()])

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "draws": self.draws, "seed": self.seed,
                "axes": [a.to_dict() for a in self.axes], "base": self.base.to_dict()}


def _check_fits(config: RunConfig, index: int, total: int, values: dict[str, Any]) -> None:
    """The task's shape and the memory check, before anything is generated (torch-free)."""
    if config.data.dataset_dir:
        return  # a dataset folder's shape is known only once it is read: the run checks it
    from hrm_studio.training.data_source import generated_shape

    try:
        check_memory(config, generated_shape(config))
    except ConfigError as exc:
        raise ConfigError(f"Run {index} of {total} ({describe(values)}): {exc}") from None


def default_sweep_name(what: str) -> str:
    """`sweep-<task or preset>-<time>`: the sweep folder's name when none is given."""
    return f"sweep-{what}-{time.strftime('%Y%m%d-%H%M%S')}"


def describe(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={format_value(v)}" for k, v in values.items())


def run_folder_name(index: int, total: int, values: dict[str, Any]) -> str:
    """`03-lr=0.001-hidden_size=128`: sorted like the sweep, readable, safe on every file system."""
    width = max(2, len(str(total)))
    parts = "-".join(f"{k}={format_value(v)}" for k, v in values.items())
    name = f"{index:0{width}d}-{re.sub(r'[^A-Za-z0-9._=+-]', '_', parts)}"
    return name[:120].rstrip("-_.")


# ----------------------------------------------------------------------------------------
# How long will it take? (the cost model is hrm_studio.costs.estimate_seconds)
# ----------------------------------------------------------------------------------------

def run_seconds(config: RunConfig) -> float | None:
    """Estimated seconds of one run; None for a dataset folder, whose shape is known only once
    it is read, or for a task whose puzzles cannot be made (the run reports that itself)."""
    if config.data.dataset_dir:
        return None
    from hrm_studio.training.data_source import generated_shape

    try:
        shape = generated_shape(config)
    except ConfigError:
        return None
    return estimate_seconds(config, shape)


def _total(times: list[float | None]) -> float | None:
    return None if any(t is None for t in times) else sum(t for t in times if t is not None)


# ----------------------------------------------------------------------------------------
# Rows and events
# ----------------------------------------------------------------------------------------

@dataclass
class SweepRow:
    """One run of the sweep, as sweep.json / sweep.csv and the results table show it."""

    index: int
    values: dict[str, Any]
    run_dir: str                      # folder name inside the sweep folder
    status: str = PENDING
    reason: str = ""                  # why a run ended: completed, solved, early_stopped, stopped
    best_exact: float | None = None   # best held-out exact match (after all segments)
    epochs_to_solve: int | None = None  # first epoch whose held-out exact reached the goal
    epochs_done: int = 0
    wall_seconds: float | None = None  # the whole run as the sweep timed it (setup and saves too)
    estimate_seconds: float | None = None
    solve_at: float = 1.0             # the held-out exact that counts as solved (see solve_goal)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def solve_goal(config: RunConfig) -> float:
    """The held-out exact match that counts as solved: stop_at_exact, or 100% when that is off."""
    return config.train.stop_at_exact or 1.0


def summarise_history(history: list[dict[str, Any]], goal: float) -> tuple[float | None, int | None, int]:
    """(best held-out exact, first epoch reaching `goal` or None, epochs done) of a run's history."""
    best: float | None = None
    solved: int | None = None
    for row in history:
        exact = row.get(HistoryKey.VAL_EXACT)
        if exact is None:
            continue
        best = exact if best is None else max(best, exact)
        if solved is None and exact >= goal:
            solved = int(row[HistoryKey.EPOCH])
    return best, solved, len(history)


@dataclass(frozen=True)
class SweepStarted:
    sweep_dir: str
    names: list[str]
    rows: list[SweepRow]
    estimate_seconds: float | None


@dataclass(frozen=True)
class RunEvent:
    """A Trainer event of run `index` (1-based), forwarded as it came."""

    index: int
    total: int
    event: Any


@dataclass(frozen=True)
class RowChanged:
    row: SweepRow


@dataclass(frozen=True)
class SweepEnded:
    sweep_dir: str
    stopped: bool
    rows: list[SweepRow]


SweepEvent = SweepStarted | RunEvent | RowChanged | SweepEnded


# ----------------------------------------------------------------------------------------
# The runner
# ----------------------------------------------------------------------------------------

class SweepFolderTaken(UserError):
    """The sweep folder already holds results a new sweep would write over; nothing was written."""


def holds_results(sweep_dir: str | Path, run_dirs: list[str] | tuple[str, ...] = ()) -> bool:
    """Whether `sweep_dir` holds what a sweep there would replace: a sweep summary, a run of its own,
    or a run in one of the folders `run_dirs` the new sweep would train into."""
    folder = Path(sweep_dir)
    return ((folder / SWEEP_JSON).exists() or RunDir(folder).holds_results()
            or any(RunDir(folder / name).holds_results() for name in run_dirs))


class Sweep:
    """Run a spec's configs one at a time into `sweep_dir`. `stop()` from any thread."""

    def __init__(self, spec: SweepSpec, sweep_dir: str | Path,
                 on_event: Callable[[SweepEvent], None] | None = None) -> None:
        self.spec = spec
        self.sweep_dir = Path(sweep_dir)
        self._on_event = on_event
        self.runs = spec.configs()  # every run validated before anything is written
        total = len(self.runs)
        self.rows = [SweepRow(i, values, run_folder_name(i, total, values), estimate_seconds=run_seconds(c),
                              solve_at=solve_goal(c)) for i, (values, c) in enumerate(self.runs, 1)]
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._trainer: Any = None
        self._created = time.time()
        self._check_folder()

    def _check_folder(self) -> None:
        if holds_results(self.sweep_dir, [r.run_dir for r in self.rows]):
            raise SweepFolderTaken(f"{self.sweep_dir} already holds a sweep; choose a new folder for this one.")

    @property
    def estimate_seconds(self) -> float | None:
        """The runs' estimates added up; None when one is unknown (a dataset folder)."""
        return _total([r.estimate_seconds for r in self.rows])

    def stop(self) -> None:
        """Stop the current run (it keeps its folder and history) and skip the rest."""
        with self._lock:
            self._stopped.set()
            if self._trainer is not None:
                self._trainer.stop()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def _emit(self, event: SweepEvent) -> None:
        if self._on_event is not None:
            self._on_event(event)

    def run(self) -> list[SweepRow]:
        self._check_folder()
        try:
            self.sweep_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"Cannot create the sweep folder {self.sweep_dir}: {exc.strerror or exc}.") from None
        self._write("running")
        total = len(self.rows)
        self._emit(SweepStarted(str(self.sweep_dir), self.spec.names, [replace(r) for r in self.rows],
                                self.estimate_seconds))
        for row, (_, config) in zip(self.rows, self.runs):
            if self.stopped:
                row.status = SKIPPED
            else:
                self._run_one(row, config, total)
            self._emit(RowChanged(replace(row)))
            self._write("running")
        self._write("stopped" if self.stopped else "finished")
        self._emit(SweepEnded(str(self.sweep_dir), self.stopped, [replace(r) for r in self.rows]))
        return self.rows

    def _run_one(self, row: SweepRow, config: RunConfig, total: int) -> None:
        row.status = RUNNING
        self._emit(RowChanged(replace(row)))
        started = time.perf_counter()
        trainer = None
        try:
            import torch

            from hrm_studio.training.threads import thread_count
            from hrm_studio.training.trainer import Trainer

            torch.set_num_threads(thread_count(config))
            trainer = Trainer(config, self.sweep_dir / row.run_dir,
                              lambda event: self._emit(RunEvent(row.index, total, event)))
            with self._lock:
                self._trainer = trainer
                if self.stopped:
                    trainer.stop()
            result = trainer.fit()
            row.status = STOPPED if result.reason == "stopped" else FINISHED
            row.reason = result.reason
        except Exception as exc:  # noqa: BLE001 - one bad run must not end the sweep
            row.status = FAILED
            row.error = str(exc) if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                self._trainer = None
        row.wall_seconds = time.perf_counter() - started
        history = trainer.state.history if trainer is not None else []
        row.best_exact, row.epochs_to_solve, row.epochs_done = summarise_history(history, row.solve_at)

    # ----- summary files ---------------------------------------------------------------------
    def _write(self, state: str) -> None:
        summary = {"version": 1, "state": state, "created": self._created, "updated": time.time(),
                   "spec": self.spec.to_dict(), "rows": [r.to_dict() for r in self.rows]}
        try:
            atomic_write_text(self.sweep_dir / SWEEP_JSON, json.dumps(summary, indent=2) + "\n")
            atomic_write_text(self.sweep_dir / SWEEP_CSV, rows_to_csv(self.rows, self.spec.names))
        except OSError as exc:
            raise UserError(f"Could not write the sweep summary in {self.sweep_dir}: {exc.strerror or exc}. "
                            f"The finished runs' folders are kept.") from None


CSV_COLUMNS = ("status", "best_exact", "epochs_to_solve", "epochs_done", "wall_seconds", "estimate_seconds",
               "run_dir", "reason", "error")


def rows_to_csv(rows: list[SweepRow], names: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["index", *names, *CSV_COLUMNS])
    for r in rows:
        cells = r.to_dict()
        writer.writerow([r.index, *(format_value(r.values[n]) for n in names),
                         *("" if cells[c] is None else cells[c] for c in CSV_COLUMNS)])
    return buffer.getvalue()


def read_sweep(sweep_dir: str | Path) -> dict[str, Any]:
    """sweep.json as written; UserError when it is missing or damaged."""
    path = Path(sweep_dir) / SWEEP_JSON
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{path} cannot be read as a sweep summary: {exc}.") from None
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list):
        raise UserError(f"{path} is not a sweep summary (it has no rows).")
    return data


def best_row(rows: list[SweepRow]) -> SweepRow | None:
    """Highest best held-out exact; ties go to the run that solved soonest, then the faster run.
    None while no run has solved a single held-out puzzle (a 0% "best" would mean nothing)."""
    scored = [r for r in rows if r.best_exact]
    if not scored:
        return None
    return max(scored, key=lambda r: (r.best_exact, -(r.epochs_to_solve or 10**9), -(r.wall_seconds or 0.0)))


def format_table(rows: list[SweepRow], names: list[str]) -> str:
    """A plain-text table of the rows (what `hrm-studio sweep` prints at the end)."""
    best = best_row(rows)
    header = ["#", *names, "status", "best exact", "solved at", "epochs", "time"]
    body = []
    for r in rows:
        body.append([str(r.index), *(format_value(r.values[n]) for n in names), r.status,
                     "–" if r.best_exact is None else f"{100 * r.best_exact:.1f}%",
                     "–" if r.epochs_to_solve is None else str(r.epochs_to_solve),
                     str(r.epochs_done), format_duration(r.wall_seconds) if r.wall_seconds is not None else "–"])
        if r is best:
            body[-1][0] += "*"
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() for line in [header, *body]]
    return "\n".join(lines)

