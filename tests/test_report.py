"""`hrm-studio report`: decodable pictures and a page that links them, from a tiny trained run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from hrm_studio.cli import main
from hrm_studio.config import RunConfig
from hrm_studio.render.metric_panels import curve_keys, panels_to_draw
from hrm_studio.report import (CONTACT_PNG, METRICS_PNG, REPORT_HTML, STEP_CURVE_PNG, read_run, sheet_indices,
                               write_report)
from hrm_studio.training.trainer import Trainer
from tests.conftest import TINY_SETTINGS


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A tiny two-epoch run folder with a curriculum (so the difficulty curve is drawn too)."""
    config = RunConfig.from_dict(TINY_SETTINGS)
    config.data.curriculum, config.data.curriculum_start, config.data.curriculum_epochs = "linear", 2, 1
    run = tmp_path_factory.mktemp("runs") / "tiny <run> & co"
    Trainer(config, run).fit()
    return run


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        self._in_title = tag == "title"
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.links.append(value)

    def handle_data(self, data):
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag):
        self._in_title = False


def _check_report(folder: Path) -> _Links:
    for name in (METRICS_PNG, CONTACT_PNG, STEP_CURVE_PNG):
        with Image.open(folder / name) as image:
            image.load()  # decodes the whole file
            assert image.width > 100 and image.height > 100
    parser = _Links()
    text = (folder / REPORT_HTML).read_text(encoding="utf-8")
    parser.feed(text)
    assert sorted(parser.links) == sorted([METRICS_PNG, CONTACT_PNG, STEP_CURVE_PNG])
    for link in parser.links:
        assert (folder / link).is_file(), link
    return parser


def test_report_writes_pictures_and_a_page_that_links_them(trained, capsys):
    assert main(["report", str(trained)]) == 0
    folder = trained / "report"
    parser = _check_report(folder)
    assert parser.title.startswith("tiny <run> & co")  # escaped in the file, read back as text
    text = (folder / REPORT_HTML).read_text(encoding="utf-8")
    assert "tiny &lt;run&gt; &amp; co" in text and "<run>" not in text
    for words in ("copy-increment", "finished", "Per pattern", "increment", "curriculum_start", "linear",
                  "Reasoning step by step", "high-level updates per segment", "exactly right after the last"):
        assert words in text, words
    out = capsys.readouterr().out
    assert f"wrote {folder / REPORT_HTML}" in out


def test_the_metrics_picture_grows_a_panel_for_the_curriculum(trained, tmp_path):
    assert main(["report", str(trained), "--out", str(tmp_path / "with")]) == 0
    plain = tmp_path / "plain"
    shutil.copytree(trained, plain)
    for name in ("history.json", "metrics.jsonl"):
        path = plain / name
        rows = json.loads(path.read_text()) if name.endswith(".json") else \
            [json.loads(line) for line in path.read_text().splitlines()]
        for row in rows:
            row.pop("curriculum_difficulty")
        path.write_text(json.dumps(rows) if name.endswith(".json") else
                        "".join(json.dumps(r) + "\n" for r in rows))
    assert main(["report", str(plain), "--out", str(tmp_path / "without")]) == 0
    with Image.open(tmp_path / "with" / METRICS_PNG) as a, Image.open(tmp_path / "without" / METRICS_PNG) as b:
        assert a.height > b.height and a.width == b.width


def test_report_elsewhere_without_saved_predictions_scores_the_checkpoint(trained, tmp_path):
    run = tmp_path / "copy"
    shutil.copytree(trained, run)
    shutil.rmtree(run / "predictions")
    shutil.rmtree(run / "report", ignore_errors=True)
    out = tmp_path / "somewhere" / "else"
    assert main(["report", str(run), "--out", str(out)]) == 0
    _check_report(out)
    assert (run / "predictions" / "test.npz").is_file()  # kept for the next report and the viewer
    assert "scored at epoch 2" in (out / REPORT_HTML).read_text(encoding="utf-8")


def test_bad_folders_are_one_line_and_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert main(["report", str(tmp_path)]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.json").write_text("{}")
    assert main(["report", str(empty)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("error: ") for line in err)
    assert "not a folder" in err[0] and "not an HRM Studio run folder" in err[1] and "no finished epoch" in err[2]


def test_sheet_indices_let_every_pattern_show():
    patterns = ["copy"] * 30 + ["increment"] * 5
    picked = sheet_indices(patterns, 16)
    assert len(picked) == 16 and sum(p >= 30 for p in picked) == 5
    assert sheet_indices(["a", "b"], 16) == [0, 1]


def test_the_metrics_picture_draws_one_curve_per_described_key_the_history_has(trained, tmp_path):
    facts = read_run(trained)
    report = write_report(trained, tmp_path / "out")
    layout = report.metrics_layout
    expected = [k for k in curve_keys(facts.patterns) if any(isinstance(r.get(k), (int, float)) for r in facts.history)]
    assert "curriculum_difficulty" in expected and "val_increment_accuracy" in expected
    assert list(layout.curves) == expected
    assert list(layout.panels) == [p.name for p in panels_to_draw(facts.history)]
    with Image.open(report.metrics_png) as image:
        assert image.size == layout.size


QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph")


def _report_in_a_subprocess(run: Path, out: Path, env_changes: dict[str, str | None]) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run([sys.executable, "-m", "hrm_studio", "report", str(run), "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("display", [":987", None], ids=["dead-display", "no-display"])
def test_report_needs_no_display_and_survives_a_dead_one(trained, tmp_path, display):
    out = tmp_path / "report"
    done = _report_in_a_subprocess(trained, out, {"DISPLAY": display, "WAYLAND_DISPLAY": None})
    assert done.returncode == 0, done.stderr
    _check_report(out)
    assert f"wrote {out / METRICS_PNG}" in done.stdout and f"wrote {out / REPORT_HTML}" in done.stdout


def test_importing_the_report_loads_no_qt():
    code = ("import sys, hrm_studio.report, hrm_studio.render.metrics_chart; "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r} "
            f"or m.startswith('hrm_studio.gui')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


BLOCK_QT_AND_REPORT = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in {modules!r} or name.startswith('hrm_studio.gui'):
            raise ImportError('Qt is blocked in this test: ' + name)
sys.meta_path.insert(0, Block())
from hrm_studio.cli import main
sys.exit(main(['report', sys.argv[1], '--out', sys.argv[2]]))
"""


def test_the_whole_report_runs_with_qt_blocked(trained, tmp_path):
    """Not even a lazy import: with PySide6, pyqtgraph and gui/ unimportable the report still completes."""
    out = tmp_path / "blocked"
    done = subprocess.run([sys.executable, "-c", BLOCK_QT_AND_REPORT.format(modules=QT_MODULES), str(trained),
                           str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    _check_report(out)


def test_without_a_checkpoint_the_step_curve_is_left_out_with_a_reason(trained, tmp_path):
    run = tmp_path / "no-weights"
    shutil.copytree(trained, run, ignore=shutil.ignore_patterns("report"))
    shutil.rmtree(run / "checkpoints")
    report = write_report(run, tmp_path / "out")
    assert report.step_curve_png is None and not (tmp_path / "out" / STEP_CURVE_PNG).exists()
    text = (tmp_path / "out" / REPORT_HTML).read_text(encoding="utf-8")
    assert "No per-step curve: the run folder has no checkpoint" in text
