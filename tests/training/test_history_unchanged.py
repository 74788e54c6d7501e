"""The architecture refactor changed no numbers: short runs give the history recorded before it.

`data/history_before_refactor.json` was written by the Trainer as it stood before the run store,
the lean trainer and the model registry (commit 2a249b2). Floats are compared to a relative 1e-4 so
that a CPU with other vector instructions still passes; a changed seed, order of draws, metric or
schedule moves them far more than that.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from hrm_studio.config import RunConfig
from hrm_studio.training.trainer import Trainer, comparable

RECORDED = json.loads((Path(__file__).parent / "data" / "history_before_refactor.json").read_text())


def _assert_close(actual, expected, where: str) -> None:
    if isinstance(expected, float):
        assert isinstance(actual, (int, float)), where
        assert math.isclose(actual, expected, rel_tol=1e-4, abs_tol=1e-6), f"{where}: {actual} != {expected}"
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for k, (a, e) in enumerate(zip(actual, expected)):
            _assert_close(a, e, f"{where}[{k}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_a_short_run_gives_the_history_recorded_before_the_refactor(name, tmp_path):
    recorded = RECORDED[name]
    result = Trainer(RunConfig.from_dict(recorded["settings"]), tmp_path / "run").fit()
    history = comparable(result.history)
    assert len(history) == len(recorded["history"])
    for epoch, (row, expected) in enumerate(zip(history, recorded["history"]), start=1):
        assert sorted(row) == sorted(expected), f"epoch {epoch}: the history keys changed"
        for key, value in expected.items():
            _assert_close(row[key], value, f"epoch {epoch} {key}")
