"""Headless report: the pictures the seed wrote at the end of training, plus a page to read them.

`write_report(run_dir)` reads a run folder and writes, into `<run>/report/` (or `out`):

- ``training_metrics.png``: the Metrics tab's plots (loss, token accuracy, exact match
  overall and per pattern, learning rate, ACT steps, Q-halt accuracy; the curriculum's
  difficulty when the run had one), train and held-out;
- ``prediction_vs_groundtruth.png``: input / prediction / truth for up to 16 held-out
  puzzles, the window's contact sheet;
- ``report.html``: run name, task, status, settings, the final metrics (overall and per
  pattern) and the two pictures, linked by relative path so the folder can be moved or
  mailed as it is.

Why the window's own code draws the plots: a report that looked different from the
Metrics tab would invite "which one is right?". So the plots come from
gui/plots.py's MetricsDashboard and gui/plot_export.py, under a QApplication that this
module creates when there is none. Without a display (a server, CI) it asks Qt for its
``offscreen`` platform, set only here, before the application exists, and only when
nothing else chose a platform; the window's normal launch never goes through this path.
The contact sheet is render/puzzle_exports.py's, the same Pillow code as the window's
Contact sheet… button. This module is a front end: Qt and torch are imported inside the
functions that need them, never at import time.
"""

from __future__ import annotations

import html
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hrm_studio.errors import UserError

METRICS_PNG = "training_metrics.png"
CONTACT_PNG = "prediction_vs_groundtruth.png"
REPORT_HTML = "report.html"
SHEET_PUZZLES = 16
CHECKPOINT_ORDER = ("final", "last", "best")

# The final-metrics table: (history key, label, is a fraction shown as %).
OVERALL_METRICS: tuple[tuple[str, str, bool], ...] = (
    ("loss", "loss", False),
    ("token_accuracy", "token accuracy", True),
    ("exact_match_accuracy", "exact match", True),
    ("mean_act_steps", "mean ACT steps", False),
    ("q_halt_accuracy", "Q-halt accuracy", True),
)
HELD_OUT_ONLY: tuple[tuple[str, str, bool], ...] = (
    ("val_exact_match_at_halt", "held-out exact match where the model halts", True),
)


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
    def patterns(self) -> list[str]:
        names = self.task.get("pattern_names")
        if isinstance(names, list) and all(isinstance(n, str) for n in names):
            return list(names)
        last = self.history[-1]  # an older folder without task.json: patterns from the keys
        return sorted(k[4:-9] for k in last if k.startswith("val_") and k.endswith("_accuracy")
                      and f"{k[4:-9]}_token_accuracy" in last)

    @property
    def planned_epochs(self) -> int | None:
        epochs = (self.config.get("train") or {}).get("epochs")
        return epochs if isinstance(epochs, int) and not isinstance(epochs, bool) else None


def read_run(path: str | Path) -> RunFacts:
    """The run folder's history, settings, task and status; ReportError if it is not a run folder."""
    from hrm_studio.runstore.run_dir import RunDir

    path = Path(path)
    if not path.is_dir():
        raise ReportError(f"{path} is not a folder; give the run folder that 'hrm-studio train' wrote "
                          f"(it holds config.json and metrics.jsonl).")
    run = RunDir(path)
    if not any(p.is_file() for p in (run.config_path, run.metrics_path, run.history_path)):
        raise ReportError(f"{path} is not an HRM Studio run folder (it has no config.json, metrics.jsonl or "
                          f"history.json); give the folder 'hrm-studio train' wrote.")
    try:
        history = run.read_history()
    except (OSError, ValueError) as exc:
        raise ReportError(f"The history of {path} cannot be read ({exc}); the file is damaged.") from None
    history = [row for row in history if isinstance(row, dict)] if isinstance(history, list) else []
    if not history:
        raise ReportError(f"The run in {path} has no finished epoch yet, so there is nothing to report; "
                          f"wait for its first epoch to end.")
    return RunFacts(path=path, history=history, config=_read_json(run.config_path),
                    task=_read_json(run.task_path), status=run.read_status())


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# ----- the report ---------------------------------------------------------------------------------

def write_report(run_dir: str | Path, out: str | Path | None = None, *,
                 on_step: Callable[[str], None] | None = None) -> Report:
    """Write the two pictures and report.html for `run_dir` into `out` (default `<run>/report`)."""
    facts = read_run(run_dir)
    folder = Path(out) if out is not None else facts.path / "report"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"Cannot create the report folder {folder}: {exc.strerror or exc}.") from None
    say = on_step or (lambda _: None)

    say("drawing the training metrics")
    report = Report(folder=folder, metrics_png=folder / METRICS_PNG, html=folder / REPORT_HTML)
    draw_metrics(facts, report.metrics_png)

    say("drawing held-out predictions")
    predictions = _held_out_predictions(facts, report.notes, say)
    if predictions is not None:
        from hrm_studio.render.puzzle_exports import save_contact_sheet

        report.contact_png = save_contact_sheet(predictions, sheet_indices(predictions.puzzles.patterns),
                                                folder / CONTACT_PNG)
        report.notes.append(f"Predictions: {_describe_predictions(predictions)}.")

    from hrm_studio.runstore.atomic import atomic_write_text

    try:
        atomic_write_text(report.html, report_html(facts, report))
    except OSError as exc:
        raise ReportError(f"Could not write {report.html}: {exc.strerror or exc}.") from None
    return report


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
    """predictions/test.npz, else the newest checkpoint scored on the held-out split (and saved there)."""
    from hrm_studio.runstore.prediction_set import PredictionSet, predictions_path

    saved = predictions_path(facts.path, "test")
    if saved.is_file():
        try:
            return PredictionSet.load(saved)
        except (UserError, OSError, ValueError) as exc:
            notes.append(f"The saved predictions {saved} could not be read ({exc}); the checkpoint was scored "
                         f"instead.")
    checkpoint = next((facts.path / "checkpoints" / f"{kind}.pt" for kind in CHECKPOINT_ORDER
                       if (facts.path / "checkpoints" / f"{kind}.pt").is_file()), None)
    if checkpoint is None:
        notes.append("No predictions: the run folder has neither predictions/test.npz nor a checkpoint to "
                     "score.")
        return None
    say(f"scoring {checkpoint.name} on the held-out puzzles")
    from hrm_studio.training.checkpoint_scoring import score_checkpoint

    try:
        predictions, _ = score_checkpoint(checkpoint, split="test")
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


# ----- the metrics picture (the window's plot code) ---------------------------------------------------

def _ensure_qt_app() -> Any:
    """The running QApplication, or a new one, offscreen when there is no display to draw on."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        return app
    no_display = (sys.platform.startswith("linux")
                  and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"))
    if no_display and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # this headless command only, before the app exists
    return QApplication(["hrm-studio-report"])


def draw_metrics(facts: RunFacts, path: Path, width: int = 1200) -> Path:
    """The Metrics tab's plots of the run's history, as a PNG on a light background."""
    app = _ensure_qt_app()
    from PySide6.QtCore import Qt, qInstallMessageHandler

    from hrm_studio.gui.metrics.plot_export import save_png
    from hrm_studio.gui.metrics.plots import OPTIONAL_PANELS, PANELS, MetricsDashboard
    from hrm_studio.gui.widgets.theme import plot_colours

    colours = plot_colours(dark=False)  # a report is printed and mailed: always the light look
    board = MetricsDashboard(colours)
    board.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    try:
        board.set_planned_epochs(facts.planned_epochs)
        board.set_history(facts.history, facts.patterns)
        panels = [p for p in PANELS if p.name not in OPTIONAL_PANELS or
                  any(_number(r.get(c.key)) is not None for r in facts.history for c in p.curves)]
        rows = math.ceil(len(panels) / 2)
        board.resize(width, 110 + 300 * rows)
        previous = qInstallMessageHandler(_quiet_offscreen)
        try:
            board.show()  # lays the plots out; WA_DontShowOnScreen keeps it off any screen
            app.processEvents()
        finally:
            qInstallMessageHandler(previous)
        board.refresh()
        app.processEvents()
        save_png(board.view, path, colours.background)
    except UserError as exc:
        raise ReportError(str(exc)) from None
    finally:
        board.close()
        board.deleteLater()
        app.processEvents()
    return path


def _quiet_offscreen(kind: Any, context: Any, message: str) -> None:
    """Drop the offscreen platform's note that it cannot size windows (it has none); pass on the rest."""
    if "propagateSizeHints" not in message:
        sys.stderr.write(message + "\n")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


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
    found = [(float(r[key]), int(r.get("epoch", 0))) for r in history if _number(r.get(key)) is not None]
    return max(found, key=lambda item: (item[0], -item[1])) if found else None


def _status_words(status: dict[str, Any]) -> str:
    state = str(status.get("state") or "unknown")
    reason = status.get("reason") or status.get("message")
    return f"{state} ({reason})" if reason else state


def report_html(facts: RunFacts, report: Report) -> str:
    """The self-contained page: plain HTML and CSS, every value escaped, pictures by relative path."""
    last = facts.history[-1]
    last_eval = next((r for r in reversed(facts.history) if _number(r.get("val_exact_match_accuracy")) is not None),
                     None)
    data = facts.config.get("data") or {}
    task = facts.task.get("task") or data.get("task") or "unknown"
    epochs = f"{last.get('epoch', len(facts.history))}"
    if facts.planned_epochs:
        epochs += f" of {facts.planned_epochs}"
    best = _best(facts.history, "val_exact_match_accuracy")
    facts_rows = [["task", str(task)], ["status", _status_words(facts.status)], ["epochs", epochs]]
    if best is not None:
        facts_rows.append(["best held-out exact match", f"{_fmt(best[0], True)} (epoch {best[1]})"])
    if _number(last.get("wall_seconds")) is not None:
        facts_rows.append(["training time", f"{float(last['wall_seconds']):.1f} s"])
    if _number(last.get("curriculum_difficulty")) is not None:
        facts_rows.append(["curriculum", f"{data.get('curriculum', '')}; last epoch at difficulty "
                                         f"{last['curriculum_difficulty']}"])

    overall = []
    for key, label, percent in OVERALL_METRICS:
        train = _fmt(last.get(key), percent)
        held = _fmt((last_eval or {}).get(f"val_{key}"), percent)
        overall.append([label, train, held])
    for key, label, percent in HELD_OUT_ONLY:
        overall.append([label, "–", _fmt((last_eval or {}).get(key), percent)])
    per_pattern = []
    for name in facts.patterns:
        per_pattern.append([name, _fmt(last.get(f"{name}_token_accuracy"), True),
                            _fmt(last.get(f"{name}_accuracy"), True),
                            _fmt((last_eval or {}).get(f"val_{name}_token_accuracy"), True),
                            _fmt((last_eval or {}).get(f"val_{name}_accuracy"), True)])

    config_rows = []
    for section in ("data", "model", "train"):
        for name, value in (facts.config.get(section) or {}).items():
            config_rows.append([section, name, json.dumps(value) if not isinstance(value, str) else value])

    rel = os.path.relpath
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_esc(facts.name)}: HRM Studio report</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_esc(facts.name)}</h1>",
        f'<p class="sub">HRM Studio report of the run folder <code>{_esc(facts.path.resolve())}</code></p>',
        _table(["", ""], facts_rows, numeric_from=2),
        "<h2>Final metrics</h2>",
        f"<p>Training figures from epoch {_esc(last.get('epoch'))}; held-out figures from the last evaluation"
        f"{' (epoch ' + _esc(last_eval.get('epoch')) + ')' if last_eval else ' (none yet)'}, "
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
    parts += ["<h2>Settings</h2>", _table(["section", "setting", "value"], config_rows, numeric_from=3),
              "</body></html>", ""]
    return "\n".join(parts)


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1240px; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.1em; } .sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { padding: 0.25em 0.8em; border-bottom: 1px solid #ddd; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; border: 1px solid #ddd; }
""".strip()
