"""TensorBoard event files: a run writes every history number per epoch, read back by TensorBoard's
own reader (EventAccumulator); resuming rewrites rather than duplicates; a failure is one notice;
finished runs export; what is not a run is refused in one sentence."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from hrm_studio.errors import UserError
from hrm_studio.runstore.run_dir import RunDir
from hrm_studio.runstore.tensorboard_log import epoch_scalars, export_tensorboard
from hrm_studio.runstore.writer import RunSnapshot, RunWriter
from tests.conftest import TINY_SETTINGS

EPOCHS = 3


def read_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Tag → [(step, value)] as TensorBoard itself reads `folder`."""
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def expected_scalars(history: list[dict]) -> dict[str, list[tuple[int, float]]]:
    found: dict[str, list[tuple[int, float]]] = {}
    for row in history:
        for tag, value in epoch_scalars(row).items():
            found.setdefault(tag, []).append((row["epoch"], value))
    return found


def assert_same(read: dict, history: list[dict]) -> None:
    expected = expected_scalars(history)
    assert sorted(read) == sorted(expected)
    for tag, points in expected.items():
        assert [step for step, _ in read[tag]] == [step for step, _ in points], tag
        for (_, got), (_, want) in zip(read[tag], points):
            assert got == pytest.approx(want, rel=1e-6, abs=1e-30, nan_ok=True), tag


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Path]:
    """Two tiny 3-epoch runs, TensorBoard on and off (shared by the tests of this module)."""
    from hrm_studio.config import RunConfig
    from hrm_studio.training.trainer import Trainer

    found = {}
    for on in (True, False):
        config = RunConfig.from_dict(TINY_SETTINGS)
        config.train.epochs = EPOCHS
        config.train.tensorboard = on
        config.train.attention_kernel = "torch"  # no kernel build when this module runs alone
        folder = tmp_path_factory.mktemp("tb") / f"run-{on}"
        Trainer(config, folder).fit()
        found[on] = folder
    return found


def test_a_run_writes_every_history_number_per_epoch(runs: dict[bool, Path]) -> None:
    run = RunDir(runs[True])
    history = json.loads(run.history_path.read_text())
    assert [row["epoch"] for row in history] == [1, 2, 3]
    read = read_scalars(run.tensorboard)
    assert_same(read, history)
    # Every numeric key of the history is there, its key kept whole in the tag.
    numeric = {key for row in history for key, v in row.items() if isinstance(v, (int, float)) and key != "epoch"}
    assert numeric <= {tag.split("/", 1)[1] if not tag.startswith(("train/", "val/")) else tag for tag in read}
    assert {"training/loss", "held_out/val_exact_match_accuracy", "timing/epoch_seconds", "train/lm_loss",
            "held_out/val_exact_by_segment/1", "held_out/val_exact_by_segment/2"} <= set(read)
    assert all(len(points) == EPOCHS for points in read.values())
    assert read["training/loss"][0][1] == pytest.approx(history[0]["loss"], rel=1e-6)


def test_the_setting_off_writes_no_tensorboard_folder(runs: dict[bool, Path]) -> None:
    assert not RunDir(runs[False]).tensorboard.exists()
    assert RunDir(runs[False]).history_path.is_file()


def test_export_of_a_run_without_tensorboard_gives_the_same_scalars(runs: dict[bool, Path], tmp_path: Path) -> None:
    written = export_tensorboard([runs[False], runs[True]], tmp_path / "out")
    assert [p.parent for p in written] == [tmp_path / "out" / runs[False].name, tmp_path / "out" / runs[True].name]
    history = json.loads(RunDir(runs[False]).history_path.read_text())
    exported = read_scalars(written[0].parent)
    assert_same(exported, history)
    assert sorted(exported) == sorted(read_scalars(RunDir(runs[True]).tensorboard))
    with pytest.raises(UserError, match="already holds TensorBoard files"):
        export_tensorboard([runs[False]], tmp_path / "out")  # never overwrites an earlier export


def test_export_refuses_what_is_not_a_readable_run(runs: dict[bool, Path], tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is not an HRM Studio run folder"):
        export_tensorboard([tmp_path], tmp_path / "out")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    (broken / "history.json").write_text("[{not json")
    with pytest.raises(UserError, match="history of the run .* cannot be read"):
        export_tensorboard([runs[True], broken], tmp_path / "out")
    assert not (tmp_path / "out").exists()  # checked before anything was written


# ----- the writer alone (no training): resume, a failure --------------------------------------------
class Run:
    def __init__(self, history: list[dict] | None = None) -> None:
        self.history = history or []
        self.notices: list[tuple[str, str]] = []

    def snapshot(self) -> RunSnapshot:
        return RunSnapshot(config={}, task={}, history=self.history, epoch=len(self.history), epochs=9, best=None)

    def open(self, path: Path, *, resuming: bool = False) -> RunWriter:
        writer = RunWriter.open(path, "copy", self.snapshot, resuming=resuming, tensorboard=True,
                                on_notice=lambda kind, message: self.notices.append((kind, message)))
        writer.start()
        return writer

    def epoch(self, writer: RunWriter, n: int, loss: float) -> None:
        row = {"epoch": n, "loss": loss, "flag": True, "note": "text", "val_loss": math.inf}
        self.history.append(row)
        writer.record_epoch(row)


def test_resuming_from_an_earlier_epoch_shows_each_epoch_once(tmp_path: Path) -> None:
    first = Run()
    writer = first.open(tmp_path / "run")
    for n in (1, 2, 3):
        first.epoch(writer, n, loss=1.0 / n)
    assert [step for step, _ in read_scalars(tmp_path / "run" / "tensorboard")["training/loss"]] == [1, 2, 3]
    # Killed after epoch 3; its checkpoint held epoch 1: the resumed run redoes 2 and 3 differently.
    again = Run(first.history[:1])
    writer = again.open(tmp_path / "run", resuming=True)
    again.epoch(writer, 2, loss=0.25)
    again.epoch(writer, 3, loss=0.125)
    read = read_scalars(tmp_path / "run" / "tensorboard")
    assert read["training/loss"] == [(1, 1.0), (2, 0.25), (3, 0.125)]
    assert read["training/flag"] == [(1, 1.0), (2, 1.0), (3, 1.0)]
    assert read["held_out/val_loss"] == [(1, math.inf), (2, math.inf), (3, math.inf)]
    assert len(list((tmp_path / "run" / "tensorboard").iterdir())) == 1
    assert first.notices == again.notices == []


def test_a_failure_to_write_is_one_notice_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "tensorboard").write_text("a file where the folder should be")
    run = Run()
    writer = run.open(tmp_path / "run")
    for n in (1, 2):
        run.epoch(writer, n, loss=1.0)
    writer.finish("finished")
    assert [kind for kind, _ in run.notices] == ["tensorboard_not_written"]
    assert "export-tensorboard" in run.notices[0][1] and "Training goes on" in run.notices[0][1]
    assert [row["epoch"] for row in RunDir(tmp_path / "run").read_history()] == [1, 2]
