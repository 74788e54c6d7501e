"""The puzzles a curriculum run trains on, level by level.

Puzzles are made again only when the difficulty changes; at the target they are the run's
own, so the end of a curriculum run trains on exactly a plain run's puzzles. A "threshold"
curriculum also makes a held-out split at each easier level, to tell when to move on.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from hrm_studio.config import RunConfig
from hrm_studio.data import PuzzleSet, TaskData
from hrm_studio.training import curriculum as cur


class CurriculumLevels:
    """The current level's training puzzles (and held-out puzzles for "threshold")."""

    def __init__(self, config: RunConfig, plan: cur.CurriculumPlan, data: TaskData) -> None:
        self._config, self._plan, self._data = config, plan, data
        self.difficulty: int | None = None
        self.train: PuzzleSet = data.train
        self.held_out: PuzzleSet | None = None

    @classmethod
    def for_run(cls, config: RunConfig, data: TaskData, *, resuming: bool) -> "CurriculumLevels | None":
        """The run's levels, or None without a curriculum. A new run makes its first level now, so
        one that cannot be made is refused before anything is written."""
        plan = cur.plan_for(config)
        if plan is None:
            return None
        levels = cls(config, plan, data)
        if not resuming:
            levels._load(plan.start)
        return levels

    def at(self, epoch: int, history: Sequence[Mapping[str, Any]]) -> int:
        """Point `train` (and `held_out`) at the epoch's difficulty and return it."""
        difficulty = cur.difficulty_at(self._plan, epoch, history)
        if difficulty != self.difficulty:
            self._load(difficulty)
        return difficulty

    def _load(self, difficulty: int) -> None:
        plan = self._plan
        self.difficulty = difficulty
        if difficulty == plan.target:
            self.train, self.held_out = self._data.train, None
            return
        threshold = plan.mode == "threshold"
        level = cur.make_level(self._config, plan, difficulty, with_test=threshold)
        self.train, self.held_out = level.train, level.test if threshold else None
