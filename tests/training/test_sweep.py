"""Sweeps: parsing and checking what to vary, grid and seeded random runs, and the runner's
folders, summaries, failures and stop."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from hrm_studio.config import RunConfig
from hrm_studio.errors import ConfigError
from hrm_studio.presets import preset_config, preset_sweep
from hrm_studio.runs.discovery import read_run
from hrm_studio.training import sweep as sweep_module
from hrm_studio.events import EpochEnd
from hrm_studio.training.sweep import (FAILED, FINISHED, SKIPPED, STOPPED, RowChanged, RunEvent, Sweep,
                                       SweepEnded, SweepRow, SweepSpec, SweepStarted, best_row,
                                       parse_axis, run_seconds, summarise_history)
from tests.conftest import TINY_SETTINGS


def tiny(**changes) -> RunConfig:
    config = RunConfig.from_dict(TINY_SETTINGS)
    for name, value in changes.items():
        config.set(name, value)
    return config


# ----- what to vary ------------------------------------------------------------------------------
def test_lists_ranges_and_choices_are_parsed_to_the_settings_types():
    assert parse_axis("lr=1e-4, 5e-4,1e-3").values == (1e-4, 5e-4, 1e-3)
    assert parse_axis("hidden_size=128,256").values == (128, 256)
    ranged = parse_axis("lr=1e-4..1e-2")
    assert ranged.is_range and (ranged.low, ranged.high) == (1e-4, 1e-2)
    assert parse_axis("hidden_size=32..64").low == 32 and isinstance(parse_axis("hidden_size=32..64").low, int)
    assert parse_axis("optimizer=*").values == ("adamw", "adam", "adam_atan2")
    assert parse_axis("shared_identifier=*").values == (False, True)
    assert parse_axis("pattern_mix=copy=1,increment=2;copy=1").values == ("copy=1,increment=2", "copy=1")


@pytest.mark.parametrize("texts, draws, words", [
    (["lrr=1e-4"], None, "Unknown setting 'lrr'. Did you mean lr?"),
    (["lr=0,1e-3"], None, "lr must be greater than 0"),
    (["lr=abc"], None, "Setting 'lr' must be a number"),
    (["optimizer=sgd"], None, "optimizer must be one of adamw, adam, adam_atan2"),
    (["hidden_size=128,100000"], None, "hidden_size must be at most 4096"),
    (["lr="], None, "lr: give at least one value"),
    (["lr=1e-4,,1e-3"], None, "lr: '1e-4,,1e-3' has an empty value"),
    (["lr"], None, "'lr' must look like name=value1,value2"),
    (["lr=1e-4..1e-2"], None, "lr: a range (0.0001..0.01) needs random draws"),
    (["lr=1e-2..1e-4"], 3, "lr: the range 1e-2..1e-4 must go from low to high"),
    (["lr=1e-4", "lr=1e-3"], None, "lr is given twice"),
    (["hidden_size=*"], None, "hidden_size: '*' means every allowed value"),
    ([], None, "A sweep needs at least one setting to vary"),
    (["lr=1e-4,1e-3"], 0, "Random sweeps need between 1 and 1000 draws"),
])
def test_bad_axes_give_one_sentence_naming_the_setting(texts, draws, words):
    with pytest.raises(ConfigError) as caught:
        SweepSpec.parse(tiny(), texts, draws=draws)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_grid_runs_every_combination_with_the_last_setting_changing_fastest():
    spec = SweepSpec.parse(tiny(), ["lr=1e-4,1e-3", "hidden_size=32,64", "batch_size=4,8"])
    runs = spec.configs()
    assert spec.count() == len(runs) == 8
    assert [values for values, _ in runs[:3]] == [
        {"lr": 1e-4, "hidden_size": 32, "batch_size": 4}, {"lr": 1e-4, "hidden_size": 32, "batch_size": 8},
        {"lr": 1e-4, "hidden_size": 64, "batch_size": 4}]
    for values, config in runs:
        assert (config.train.lr, config.model.hidden_size, config.train.batch_size) == tuple(values.values())
        assert config.data == tiny().data  # everything not varied comes from the base


def test_random_draws_repeat_with_the_seed_and_stay_inside_their_ranges():
    texts = ["lr=1e-4..1e-2", "hidden_size=32..64", "optimizer=*", "batch_size=4,8,16"]
    first = SweepSpec.parse(tiny(), texts, draws=200, seed=7).points()
    assert first == SweepSpec.parse(tiny(), texts, draws=200, seed=7).points()
    assert first != SweepSpec.parse(tiny(), texts, draws=200, seed=8).points()
    lrs = [p["lr"] for p in first]
    assert all(1e-4 <= lr <= 1e-2 for lr in lrs)
    below = sum(lr < 1e-3 for lr in lrs) / len(lrs)  # log-uniform: half the draws below the geometric middle
    assert 0.35 < below < 0.65
    assert all(isinstance(p["hidden_size"], int) and 32 <= p["hidden_size"] <= 64 for p in first)
    assert {p["optimizer"] for p in first} == {"adam", "adamw", "adam_atan2"}
    assert {p["batch_size"] for p in first} == {4, 8, 16}


def test_a_draw_that_makes_an_invalid_run_is_drawn_again():
    points = SweepSpec.parse(tiny(num_heads=4), ["hidden_size=32..256"], draws=50, seed=2).points()
    assert all(p["hidden_size"] % 8 == 0 for p in points)  # 4 heads of an even width
    assert len({p["hidden_size"] for p in points}) > 10
    with pytest.raises(ConfigError, match=r"Run 1 of 2 \(num_heads=3\) is not valid \(and so were 99 other draws\)"):
        SweepSpec.parse(tiny(hidden_size=32), ["num_heads=3,5"], draws=2).configs()


def test_a_narrow_float_range_is_drawn_uniformly():
    points = SweepSpec.parse(tiny(), ["beta1=0.8..0.9"], draws=300, seed=1).points()
    mean = sum(p["beta1"] for p in points) / len(points)
    assert mean == pytest.approx(0.85, abs=0.01)


def test_every_generated_run_is_checked_before_anything_starts(tmp_path):
    spec = SweepSpec.parse(tiny(), ["hidden_size=32,30"])
    with pytest.raises(ConfigError) as caught:
        Sweep(spec, tmp_path / "sweep")
    assert "Run 2 of 2 (hidden_size=30) is not valid — num_heads:" in str(caught.value)
    assert not (tmp_path / "sweep").exists()


def test_the_sweep_estimate_adds_its_runs_and_is_unknown_for_a_dataset_folder():
    # How the estimate grows with the work: tests/test_costs.py.
    assert run_seconds(tiny()) > 0
    assert run_seconds(tiny(dataset_dir="/some/folder")) is None
    spec = SweepSpec.parse(tiny(), ["lr=1e-4,1e-3"])
    assert spec.estimate_seconds() == pytest.approx(2 * run_seconds(tiny()))


def test_the_seed_grid_preset_reproduces_the_seeds_plan():
    base = preset_config("seed-grid")
    seed = preset_config("seed")
    assert base.data == seed.data and base.model == seed.model
    spec = SweepSpec.parse(base, preset_sweep("seed-grid"))
    points = [values for values, _ in spec.configs()]
    assert len(points) == 12
    assert {(p["lr"], p["hidden_size"], p["batch_size"]) for p in points} == {
        (lr, h, b) for lr in (1e-4, 5e-4, 1e-3) for h in (128, 256) for b in (4, 8)}


def test_history_summary_finds_the_first_solved_epoch():
    history = [{"epoch": 1, "val_exact_match_accuracy": 0.2}, {"epoch": 2},
               {"epoch": 3, "val_exact_match_accuracy": 0.9}, {"epoch": 4, "val_exact_match_accuracy": 0.8}]
    assert summarise_history(history, 0.9) == (0.9, 3, 4)
    assert summarise_history(history, 1.0) == (0.9, None, 4)
    assert summarise_history([], 1.0) == (None, None, 0)


def test_the_best_row_is_the_highest_score_then_the_soonest_solved():
    rows = [SweepRow(1, {}, "a", best_exact=0.5), SweepRow(2, {}, "b", best_exact=1.0, epochs_to_solve=9),
            SweepRow(3, {}, "c", best_exact=1.0, epochs_to_solve=4), SweepRow(4, {}, "d")]
    assert best_row(rows).index == 3
    assert best_row([SweepRow(1, {}, "a", best_exact=0.0)]) is None


# ----- running a sweep ---------------------------------------------------------------------------
def _check_rows_agree_with_history(sweep_dir: Path, rows: list[dict]) -> None:
    for row in rows:
        run = sweep_dir / row["run_dir"]
        history = json.loads((run / "history.json").read_text())
        exact = [r["val_exact_match_accuracy"] for r in history if r.get("val_exact_match_accuracy") is not None]
        assert row["epochs_done"] == len(history)
        assert row["best_exact"] == pytest.approx(max(exact))
        solved = [r["epoch"] for r in history if (r.get("val_exact_match_accuracy") or 0) >= 1.0]
        assert row["epochs_to_solve"] == (solved[0] if solved else None)
        assert row["wall_seconds"] >= history[-1]["wall_seconds"]


@pytest.fixture(scope="module")
def two_by_two(tmp_path_factory):
    sweep_dir = tmp_path_factory.mktemp("sweeps") / "s"
    events: list = []
    spec = SweepSpec.parse(tiny(epochs=2), ["lr=1e-4,1e-3", "hidden_size=32,64"])
    rows = Sweep(spec, sweep_dir, events.append).run()
    return sweep_dir, rows, events


def test_a_two_by_two_sweep_writes_four_ordinary_run_folders(two_by_two):
    sweep_dir, rows, _ = two_by_two
    names = sorted(p.name for p in sweep_dir.iterdir() if p.is_dir())
    assert names == ["01-lr=0.0001-hidden_size=32", "02-lr=0.0001-hidden_size=64",
                     "03-lr=0.001-hidden_size=32", "04-lr=0.001-hidden_size=64"]
    for name in names:
        info = read_run(sweep_dir / name)
        assert info is not None and info.status == "finished" and info.epochs_done == 2
    assert [r.status for r in rows] == [FINISHED] * 4
    config = json.loads((sweep_dir / names[3] / "config.json").read_text())
    assert config["train"]["lr"] == 1e-3 and config["model"]["hidden_size"] == 64


def test_sweep_json_and_csv_agree_with_every_runs_history(two_by_two):
    sweep_dir, rows, _ = two_by_two
    summary = json.loads((sweep_dir / "sweep.json").read_text())
    assert summary["state"] == "finished"
    assert summary["spec"]["mode"] == "grid" and [a["name"] for a in summary["spec"]["axes"]] == ["lr", "hidden_size"]
    assert [r["index"] for r in summary["rows"]] == [1, 2, 3, 4]
    _check_rows_agree_with_history(sweep_dir, summary["rows"])
    with open(sweep_dir / "sweep.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 4
    for line, row in zip(table, summary["rows"]):
        assert (line["lr"], line["hidden_size"]) == (f"{row['values']['lr']:g}", str(row["values"]["hidden_size"]))
        assert line["status"] == row["status"] == "finished"
        assert float(line["best_exact"]) == pytest.approx(row["best_exact"])
        assert int(line["epochs_done"]) == row["epochs_done"]
        assert line["epochs_to_solve"] == ("" if row["epochs_to_solve"] is None else str(row["epochs_to_solve"]))
        assert line["run_dir"] == row["run_dir"]


def test_every_trainer_event_arrives_tagged_with_its_run(two_by_two):
    _, _, events = two_by_two
    assert isinstance(events[0], SweepStarted) and len(events[0].rows) == 4
    assert isinstance(events[-1], SweepEnded) and not events[-1].stopped
    epoch_ends = [e for e in events if isinstance(e, RunEvent) and isinstance(e.event, EpochEnd)]
    assert [(e.index, e.event.epoch) for e in epoch_ends] == [(i, ep) for i in (1, 2, 3, 4) for ep in (1, 2)]
    assert all(e.total == 4 for e in epoch_ends)
    changes = [(e.row.index, e.row.status) for e in events if isinstance(e, RowChanged)]
    assert changes == [(i, s) for i in (1, 2, 3, 4) for s in ("running", "finished")]


def test_a_failed_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    from hrm_studio.training import trainer as trainer_module

    real_fit = trainer_module.Trainer._fit

    def fit(self):
        if self.config.train.lr == 1e-3:
            raise RuntimeError("boom")
        return real_fit(self)

    monkeypatch.setattr(trainer_module.Trainer, "_fit", fit)
    spec = SweepSpec.parse(tiny(epochs=1), ["lr=1e-3,1e-4"])
    rows = Sweep(spec, tmp_path / "s").run()
    assert [r.status for r in rows] == [FAILED, FINISHED]
    assert rows[0].error == "RuntimeError: boom" and rows[0].epochs_done == 0 and rows[0].best_exact is None
    summary = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert summary["rows"][0]["status"] == "failed" and summary["rows"][0]["error"] == "RuntimeError: boom"
    _check_rows_agree_with_history(tmp_path / "s", summary["rows"][1:])


def test_stop_keeps_finished_runs_stops_the_current_one_and_skips_the_rest(tmp_path):
    spec = SweepSpec.parse(tiny(epochs=2), ["lr=1e-4,5e-4,1e-3"])
    sweep: Sweep

    def on_event(event):
        if isinstance(event, RunEvent) and event.index == 2 and isinstance(event.event, EpochEnd):
            sweep.stop()

    sweep = Sweep(spec, tmp_path / "s", on_event)
    rows = sweep.run()
    assert [r.status for r in rows] == [FINISHED, STOPPED, SKIPPED]
    assert rows[1].epochs_done == 1 and rows[2].epochs_done == 0
    summary = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert summary["state"] == "stopped"
    assert [r["status"] for r in summary["rows"]] == ["finished", "stopped", "skipped"]
    _check_rows_agree_with_history(tmp_path / "s", summary["rows"][:2])
    assert not (tmp_path / "s" / rows[2].run_dir).exists()
    assert read_run(tmp_path / "s" / rows[1].run_dir).status == "stopped"


def test_a_folder_that_already_holds_a_sweep_is_refused(two_by_two):
    sweep_dir, _, _ = two_by_two
    with pytest.raises(Exception, match="already holds a sweep"):
        Sweep(SweepSpec.parse(tiny(), ["lr=1e-4"]), sweep_dir)


def test_folder_names_stay_short_and_safe():
    name = sweep_module.run_folder_name(7, 120, {"pattern_mix": "copy=1,increment=2", "dataset_dir": "/a/b" * 60})
    assert name.startswith("007-pattern_mix=copy=1_increment=2-dataset_dir=_a_b")
    assert len(name) <= 120 and "/" not in name
