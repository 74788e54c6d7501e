"""Headless report: the pictures the seed wrote at the end of training, plus a page to read them.

`write_report(run_dir)` reads a run folder and writes, into `<run>/report/` (or `out`):

- ``training_metrics.png``: the Metrics tab's plots (loss, token accuracy, exact match
  overall and per pattern, learning rate, ACT steps, Q-halt accuracy; the curriculum's
  difficulty when the run had one), train and held-out;
- ``prediction_vs_groundtruth.png``: input / prediction / truth for up to 16 held-out
  puzzles, the window's contact sheet;
- ``reasoning_steps.png``: held-out exact match and token accuracy after every high-level
  update of every segment (the critical-step view; up to 64 puzzles, from the newest
  checkpoint, drawn by render/step_curves.py);
- ``report.html``: run name, task, status, settings, the final metrics (overall and per
  pattern) and the pictures, linked by relative path so the folder can be moved or
  mailed as it is.

Why the report draws from the window's description rather than its widgets: a report
that looked different from the Metrics tab would invite "which one is right?", yet a
headless command must not need Qt or a display (a server, CI, or a DISPLAY that points at
nothing). So the panels, curves, labels and colours come from render/metric_panels.py —
the Qt-free description gui/metrics/plots.py builds its pyqtgraph plots from — and
render/metrics_chart.py draws them with Pillow. The contact sheet is
render/puzzle_exports.py's, the same Pillow code as the window's Contact sheet… button.
The run folder is read through the run store (runstore/run_dir.py), which alone spells its
file names. This module imports no Qt at all, and torch only inside the function that
scores a checkpoint.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hrm_studio.errors import UserError
from hrm_studio.render.chart_image import ChartLayout
from hrm_studio.render.metric_panels import PATTERN_METRIC
from hrm_studio.render.metric_panels import number as _number
from hrm_studio.render.metrics_chart import save_metrics_chart
from hrm_studio.runstore.keys import HistoryKey, held_out, pattern_key
from hrm_studio.runstore.run_dir import CONFIG_FILE, METRICS_FILE, RunDir

METRICS_PNG = "training_metrics.png"
STEP_CURVE_PNG = "reasoning_steps.png"
CONTACT_PNG = "prediction_vs_groundtruth.png"
REPORT_HTML = "report.html"
REPORT_FOLDER = "report"        # inside the run folder, unless --out says elsewhere
SHEET_PUZZLES = 16
HELD_OUT_SPLIT = "test"

# The final-metrics table: (history key, label, is a fraction shown as %).
OVERALL_METRICS: tuple[tuple[str, str, bool], ...] = (
    (HistoryKey.LOSS, "loss", False),
    (HistoryKey.TOKEN_ACCURACY, "token accuracy", True),
    (HistoryKey.EXACT, "exact match", True),
    (HistoryKey.MEAN_ACT_STEPS, "mean ACT steps", False),
    (HistoryKey.Q_HALT_ACCURACY, "Q-halt accuracy", True),
)
HELD_OUT_ONLY: tuple[tuple[str, str, bool], ...] = (
    (HistoryKey.VAL_EXACT_AT_HALT, "held-out exact match where the model halts", True),
    (HistoryKey.VAL_ARC_PASS_AT_2, "ARC pass@2 (held-out, ARC protocol)", True),
)
WHEN_KNOWN = frozenset({HistoryKey.VAL_ARC_PASS_AT_2})  # rows only for runs that have the figure (ARC data sets)
# Per-pattern columns (train token, train exact, held-out token, held-out exact): (pattern_key metric, held out).
PATTERN_COLUMNS: tuple[tuple[str, bool], ...] = (
    (HistoryKey.TOKEN_ACCURACY, False), (PATTERN_METRIC, False), (HistoryKey.TOKEN_ACCURACY, True),
    (PATTERN_METRIC, True))


class ReportError(UserError):
    """The folder cannot be reported on (not a run folder, no finished epoch); one sentence says why."""


@dataclass
class Report:
    """What `write_report` wrote, and the notes it put on the page."""

    folder: Path
    metrics_png: Path
    html: Path
    contact_png: Path | None = None
    notes: list[str] = field(default_factory=list)
    step_curve_png: Path | None = None    # accuracy after every high-level update (analysis/report_curve.py)
    step_curve_note: str = ""
    metrics_layout: ChartLayout | None = None   # where each panel and curve landed in the metrics picture


# ----- reading the run folder ---------------------------------------------------------------------

@dataclass
class RunFacts:
    """A run folder's files as plain data."""

    path: Path
    history: list[dict[str, Any]]
    config: dict[str, Any]
    task: dict[str, Any]
    status: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def run(self) -> RunDir:
        return RunDir(self.path)

    @property
    def patterns(self) -> list[str]:
        names = self.task.get("pattern_names")
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            return list(names)
        # An older folder without its task description: the patterns that have their own keys.
        last = self.history[-1]
        ending = pattern_key("", HistoryKey.TOKEN_ACCURACY)
        candidates = {k[:-len(ending)] for k in last if isinstance(k, str) and k.endswith(ending)}
        return sorted(name for name in candidates if name and not name.startswith(held_out(""))
                      and pattern_key(name, PATTERN_METRIC) in last)

    @property
    def planned_epochs(self) -> int | None:
        epochs = (self.config.get("train") or {}).get("epochs")
        return epochs if isinstance(epochs, int) and not isinstance(epochs, bool) else None


def read_run(path: str | Path) -> RunFacts:
    """The run folder's history, settings, task and status; ReportError if it is not a run folder."""
    path = Path(path)
    if not path.is_dir():
        raise ReportError(f"{path} is not a folder; give the run folder that 'hrm-studio train' wrote "
                          f"(it holds {CONFIG_FILE} and {METRICS_FILE}).")
    run = RunDir(path)
    if not run.holds_history():
        raise ReportError(f"{path} is not an HRM Studio run folder (it has neither the settings nor the history "
                          f"that 'hrm-studio train' writes); give the folder 'hrm-studio train' wrote.")
    try:
        history = run.read_history()
    except (OSError, ValueError) as exc:
        raise ReportError(f"The history of {path} cannot be read ({exc}); the file is damaged.") from None
    history = [row for row in history if isinstance(row, dict)] if isinstance(history, list) else []
    if not history:
        raise ReportError(f"The run in {path} has no finished epoch yet, so there is nothing to report; "
                          f"wait for its first epoch to end.")
    return RunFacts(path=path, history=history, config=_read_config(run), task=run.read_task() or {},
                    status=run.read_status())


def _read_config(run: RunDir) -> dict[str, Any]:
    """The run's settings as saved; {} when they are missing or unreadable (the page then lists none)."""
    try:
        data = run.read_config()
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# ----- the report ---------------------------------------------------------------------------------

def write_report(run_dir: str | Path, out: str | Path | None = None, *,
                 on_step: Callable[[str], None] | None = None) -> Report:
    """Write the two pictures and report.html for `run_dir` into `out` (default `<run>/report`)."""
    facts = read_run(run_dir)
    folder = Path(out) if out is not None else facts.path / REPORT_FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"Cannot create the report folder {folder}: {exc.strerror or exc}.") from None
    say = on_step or (lambda _: None)

    say("drawing the training metrics")
    report = Report(folder=folder, metrics_png=folder / METRICS_PNG, html=folder / REPORT_HTML)
    report.metrics_layout = draw_metrics(facts, report.metrics_png)

    say("drawing held-out predictions")
    predictions = _held_out_predictions(facts, report.notes, say)
    if predictions is not None:
        from hrm_studio.render.puzzle_exports import save_contact_sheet

        report.contact_png = save_contact_sheet(predictions, sheet_indices(predictions.puzzles.patterns),
                                                folder / CONTACT_PNG)
        report.notes.append(f"Predictions: {_describe_predictions(predictions)}.")

    say("running the model step by step on held-out puzzles")
    _draw_step_curve(facts, report)

    from hrm_studio.runstore.atomic import atomic_write_text

    try:
        atomic_write_text(report.html, report_html(facts, report))
    except OSError as exc:
        raise ReportError(f"Could not write {report.html}: {exc.strerror or exc}.") from None
    return report


def _draw_step_curve(facts: RunFacts, report: Report) -> None:
    """The per-step curve of the newest checkpoint (torch is imported only here and in scoring)."""
    from hrm_studio.analysis.report_curve import write_step_curve

    try:
        report.step_curve_png, report.step_curve_note = write_step_curve(facts.run, report.folder / STEP_CURVE_PNG)
    except OSError as exc:
        raise ReportError(f"Could not write {report.folder / STEP_CURVE_PNG}: {exc.strerror or exc}.") from None


def sheet_indices(patterns: Any, size: int = SHEET_PUZZLES) -> list[int]:
    """Up to `size` puzzles, the patterns taking turns, so every pattern shows on the sheet."""
    names = [str(p) for p in patterns]
    queues: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        queues.setdefault(name, []).append(i)
    picked: list[int] = []
    turn = 0
    while len(picked) < min(size, len(names)):
        for members in queues.values():
            if turn < len(members) and len(picked) < size:
                picked.append(members[turn])
        turn += 1
    return sorted(picked)


def _held_out_predictions(facts: RunFacts, notes: list[str], say: Callable[[str], None]) -> Any:
    """The saved held-out predictions, else the newest checkpoint scored on the held-out split (and saved)."""
    from hrm_studio.runstore.prediction_set import PredictionSet

    run = facts.run
    saved = run.predictions_path(HELD_OUT_SPLIT)
    if saved.is_file():
        try:
            return PredictionSet.load(saved)
        except (UserError, OSError, ValueError) as exc:
            notes.append(f"The saved predictions {saved} could not be read ({exc}); the checkpoint was scored "
                         f"instead.")
    checkpoint = run.existing_checkpoint()   # the newest weights: final, else last, else best
    if checkpoint is None:
        notes.append(f"No predictions: the run folder has neither saved held-out predictions "
                     f"({saved.relative_to(run.path).as_posix()}) nor a checkpoint to score.")
        return None
    say(f"scoring {checkpoint.name} on the held-out puzzles")
    from hrm_studio.training.checkpoint_scoring import score_checkpoint

    try:
        predictions, _ = score_checkpoint(checkpoint, split=HELD_OUT_SPLIT)
    except UserError as exc:
        notes.append(f"No predictions: scoring {checkpoint} failed ({exc}).")
        return None
    try:
        predictions.save(saved)  # as the window does: the next report (or the viewer) reads it at once
    except (OSError, UserError):
        pass  # a read-only run folder: the report still shows them
    return predictions


def _describe_predictions(ps: Any) -> str:
    shown = min(SHEET_PUZZLES, len(ps))
    exact = ps.exact()
    return (f"{shown} of {len(ps)} held-out puzzles shown, scored at epoch {ps.epoch}; "
            f"{int(exact.sum())} of {len(ps)} exactly right after all {ps.steps} segments")


# ----- the metrics picture (the window's panel description, drawn with Pillow) ----------------------

def draw_metrics(facts: RunFacts, path: Path, width: int = 1200) -> ChartLayout:
    """The Metrics tab's plots of the run's history as a PNG on the light background; no Qt, no display."""
    try:
        return save_metrics_chart(facts.history, facts.patterns, path, planned_epochs=facts.planned_epochs,
                                  width=width)
    except OSError as exc:
        raise ReportError(f"Could not write {path}: {exc.strerror or exc}.") from None


# ----- the page -----------------------------------------------------------------------------------

def _fmt(value: Any, percent: bool) -> str:
    number = _number(value)
    if number is None:
        return "–"
    if percent:
        return f"{100 * number:.1f} %"
    if number != 0 and (abs(number) < 1e-3 or abs(number) >= 1e5):
        return f"{number:.3e}"
    return f"{number:.4g}"


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(head: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    """An HTML table; every cell is escaped here."""
    out = ["<table>"]
    if any(head):
        out.append("<thead><tr>" + "".join(f"<th>{_esc(h)}</th>" for h in head) + "</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        cells = "".join(f'<td class="num">{_esc(c)}</td>' if i >= numeric_from else f"<td>{_esc(c)}</td>"
                        for i, c in enumerate(row))
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _best(history: list[dict[str, Any]], key: str) -> tuple[float, int] | None:
    found = [(float(r[key]), int(r.get(HistoryKey.EPOCH, 0))) for r in history if _number(r.get(key)) is not None]
    return max(found, key=lambda item: (item[0], -item[1])) if found else None


def _status_words(status: dict[str, Any]) -> str:
    state = str(status.get("state") or "unknown")
    reason = status.get("reason") or status.get("message")
    return f"{state} ({reason})" if reason else state


def _last_evaluation(facts: RunFacts) -> dict[str, Any] | None:
    """The newest row with held-out figures (not every epoch is evaluated)."""
    return next((r for r in reversed(facts.history) if _number(r.get(HistoryKey.VAL_EXACT)) is not None), None)


def _facts_rows(facts: RunFacts) -> list[list[str]]:
    """Task, status, epochs, best score, time and curriculum: the page's opening table."""
    last = facts.history[-1]
    data = facts.config.get("data") or {}
    task = facts.task.get("task") or data.get("task") or "unknown"
    epochs = f"{last.get(HistoryKey.EPOCH, len(facts.history))}"
    if facts.planned_epochs:
        epochs += f" of {facts.planned_epochs}"
    best = _best(facts.history, HistoryKey.VAL_EXACT)
    rows = [["task", str(task)], ["status", _status_words(facts.status)], ["epochs", epochs]]
    if best is not None:
        rows.append(["best held-out exact match", f"{_fmt(best[0], True)} (epoch {best[1]})"])
    if _number(last.get(HistoryKey.WALL_SECONDS)) is not None:
        rows.append(["training time", f"{float(last[HistoryKey.WALL_SECONDS]):.1f} s"])
    if _number(last.get(HistoryKey.CURRICULUM_DIFFICULTY)) is not None:
        rows.append(["curriculum", f"{data.get('curriculum', '')}; last epoch at difficulty "
                                   f"{last[HistoryKey.CURRICULUM_DIFFICULTY]}"])
    return rows


def _metric_rows(facts: RunFacts) -> tuple[list[list[str]], list[list[str]]]:
    """(overall rows: metric, train, held-out; per-pattern rows: pattern and its four figures)."""
    last, last_eval = facts.history[-1], _last_evaluation(facts) or {}
    overall = [[label, _fmt(last.get(key), percent), _fmt(last_eval.get(held_out(key)), percent)]
               for key, label, percent in OVERALL_METRICS]
    overall += [[label, "–", _fmt(last_eval.get(key), percent)] for key, label, percent in HELD_OUT_ONLY
                if key not in WHEN_KNOWN or _number(last_eval.get(key)) is not None]
    per_pattern = []
    for name in facts.patterns:
        cells = [name]
        for metric, held in PATTERN_COLUMNS:
            row = last_eval if held else last
            cells.append(_fmt(row.get(pattern_key(name, metric, on_held_out=held)), True))
        per_pattern.append(cells)
    return overall, per_pattern


def _config_rows(facts: RunFacts) -> list[list[str]]:
    return [[section, name, json.dumps(value) if not isinstance(value, str) else value]
            for section in ("data", "model", "train") for name, value in (facts.config.get(section) or {}).items()]


def report_html(facts: RunFacts, report: Report) -> str:
    """The self-contained page: plain HTML and CSS, every value escaped, pictures by relative path."""
    last, last_eval = facts.history[-1], _last_evaluation(facts)
    overall, per_pattern = _metric_rows(facts)
    rel = os.path.relpath
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_esc(facts.name)}: HRM Studio report</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_esc(facts.name)}</h1>",
        f'<p class="sub">HRM Studio report of the run folder <code>{_esc(facts.path.resolve())}</code></p>',
        _table(["", ""], _facts_rows(facts), numeric_from=2),
        "<h2>Final metrics</h2>",
        f"<p>Training figures from epoch {_esc(last.get(HistoryKey.EPOCH))}; held-out figures from the last "
        f"evaluation{' (epoch ' + _esc(last_eval.get(HistoryKey.EPOCH)) + ')' if last_eval else ' (none yet)'}, "
        f"after all ACT segments.</p>",
        _table(["metric", "train", "held-out"], overall),
    ]
    if per_pattern:
        parts += ["<h3>Per pattern</h3>",
                  _table(["pattern", "train token", "train exact", "held-out token", "held-out exact"], per_pattern)]
    parts += ["<h2>Training metrics</h2>",
              f'<img src="{_esc(Path(rel(report.metrics_png, report.folder)).as_posix())}" '
              f'alt="Training metrics: loss, token accuracy and exact match per epoch">',
              "<h2>Predictions vs ground truth</h2>"]
    if report.contact_png is not None:
        parts.append(f'<img src="{_esc(Path(rel(report.contact_png, report.folder)).as_posix())}" '
                     f'alt="Held-out puzzles: input, prediction and ground truth">')
    parts += [f"<p>{_esc(note)}</p>" for note in report.notes]
    parts += _step_curve_html(report)
    parts += ["<h2>Settings</h2>", _table(["section", "setting", "value"], _config_rows(facts), numeric_from=3),
              "</body></html>", ""]
    return "\n".join(parts)


def _step_curve_html(report: Report) -> list[str]:
    """The critical-step section: when the answers become right, update by update."""
    parts = ["<h2>Reasoning step by step</h2>",
             "<p>Held-out exact match and token accuracy after every high-level update inside every ACT "
             "segment: a sharp rise marks the critical step where answers become right.</p>"]
    if report.step_curve_png is not None:
        parts.append(f'<img src="{_esc(Path(os.path.relpath(report.step_curve_png, report.folder)).as_posix())}" '
                     f'alt="Held-out exact match and token accuracy after every high-level update">')
    if report.step_curve_note:
        parts.append(f"<p>{_esc(report.step_curve_note)}</p>")
    return parts


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1240px; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.1em; } .sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { padding: 0.25em 0.8em; border-bottom: 1px solid #ddd; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; border: 1px solid #ddd; }
""".strip()
