"""pass@2 at every evaluation of a run that trains on an ARC data set.

Why in training: the figure ARC is judged by (arc-spec.md) moves differently from exact match
— a task passes when its right answer is among the two most voted over all augmentations — so a
run on ARC records it beside the other held-out figures, and the Metrics plots, report and
compare show it. The protocol is `eval --protocol arc`'s: every augmented test example's
last-segment answer, undone and voted for, ranked by (votes, mean sigmoid(q_halt)); the per test
input scoring (ARC Prize, TRM).

A data set counts as ARC when it is a folder whose test split holds 30×30 canvas rows and whose
identifiers are ARC task ids or augmentation names (`{task}_t{k}_{colours}`); anything else
records nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hrm_studio.config import RunConfig
from hrm_studio.data import PuzzleSet, TaskData
from hrm_studio.errors import DatasetError
from hrm_studio.runstore.keys import HistoryKey

K = 2


@dataclass(frozen=True)
class ArcPassScorer:
    """Scores a run's held-out predictions with the ARC protocol; `answers` empty: not an ARC run."""

    identifier_names: list[str] = field(default_factory=list)
    answers: dict[str, list[np.ndarray]] = field(default_factory=dict)

    @classmethod
    def for_run(cls, config: RunConfig, data: TaskData) -> ArcPassScorer:
        """The scorer of this run's data: the true answers of its ARC tasks, or none for other data."""
        from hrm_studio.data.arc.build import SEQ_LEN
        from hrm_studio.data.arc.detect import all_arc_names
        from hrm_studio.evaluation.arc.split_scoring import arc_answers

        names = list(data.info.identifier_names)
        if (not config.data.dataset_dir or data.info.seq_len != SEQ_LEN or len(names) < 2 or len(data.test) == 0
                or not all_arc_names(names)):
            return cls()
        try:
            answers = arc_answers(config.data.dataset_dir, data.test, names)
        except DatasetError:
            return cls()  # not an ARC build: its tasks file or test split say otherwise
        return cls(names, answers)

    @property
    def active(self) -> bool:
        return bool(self.answers)

    def scores(self, test: PuzzleSet, pred: Any) -> dict[str, float]:
        """{val_arc_pass@2: …} for the held-out predictions `pred` of `test`; {} when not an ARC run."""
        if not self.active:
            return {}
        from hrm_studio.evaluation.arc.split_scoring import score_arc_split

        score = score_arc_split(test, pred, self.identifier_names, self.answers, ks=(K,))
        return {HistoryKey.VAL_ARC_PASS_AT_2: score.pass_at(K)}
