"""The prediction viewer's live feed while a run trains.

Every `viewer_interval` epochs (and when the run ends) the viewer gets the held-out split's
predictions — reused from the epoch's evaluation, never evaluated twice — and those of a
fixed sample of training puzzles, evaluated then. When the run ends, the newest of each split
is saved in the run folder, so a reopened run shows them without evaluating again.

Evaluation draws no random numbers and happens after the epoch's row, checkpoint and RNG
state are settled, so the history is the same with the viewer on or off.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from hrm_studio.config import RunConfig
from hrm_studio.data import PuzzleSet, TaskData
from hrm_studio.evaluation.predict import Predictions
from hrm_studio.events import Event, Notice, PredictionsReady
from hrm_studio.runstore.prediction_set import PredictionSet, build_prediction_set
from hrm_studio.runstore.writer import RunWriter

TEST, TRAIN = "test", "train"


def viewer_sample_indices(patterns: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Sorted indices of min(size, N) puzzles for the live viewer, every pattern represented.

    Patterns take turns (first-appearance order), each drawing its puzzles in a shuffled
    order, so a rare pattern is not lost in a small sample. Its own numpy generator, seeded
    from the run's seed: the same seed gives the same sample, and torch's RNG (which the
    training draws from) is not touched.
    """
    patterns = np.asarray(patterns).astype(str)
    n = len(patterns)
    size = max(0, min(int(size), n))
    order = np.random.default_rng([seed, 0x7669_6577]).permutation(n)  # "view"
    names = list(dict.fromkeys(patterns.tolist()))
    turn = np.empty(n, np.int64)      # how many of the same pattern come before it in `order`
    which = np.empty(n, np.int64)     # the pattern's place in `names`
    for k, name in enumerate(names):
        members = order[patterns[order] == name]
        turn[members] = np.arange(len(members))
        which[members] = k
    by_turn = np.lexsort((which, turn))  # first every pattern's first puzzle, then the second, …
    return np.sort(by_turn[:size]).astype(np.int64)


class LiveViewer:
    """Builds, emits and finally saves the predictions the viewer shows during a run."""

    def __init__(self, config: RunConfig, data: TaskData, predict: Callable[[PuzzleSet], Predictions | None],
                 emit: Callable[[Event], None]) -> None:
        self._config = config  # read at each refresh: viewer_interval and viewer_sample may change live
        self._train = data.train  # the run's own puzzles, also under a curriculum
        self._test = data.test
        self._task = data.info.to_dict()
        self._predict = predict
        self._emit = emit
        self._latest: dict[str, PredictionSet] = {}  # split → newest, saved when the run ends
        self._sample: tuple[int, np.ndarray, PuzzleSet] | None = None  # (size, indices, puzzles)

    def held_out(self, epoch: int, pred: Predictions) -> None:
        """Keep the epoch's evaluation of the whole held-out split for the viewer."""
        self._latest[TEST] = build_prediction_set(TEST, epoch, np.arange(len(self._test)), self._test, pred,
                                                  self._task, complete=True)

    def due(self, epoch: int, *, ending: bool) -> bool:
        interval = self._config.train.viewer_interval
        return ending or (interval > 0 and epoch % interval == 0)

    def refresh(self, epoch: int) -> None:
        """Emit PredictionsReady for the held-out split (when this epoch evaluated it) and for
        the fixed training sample (evaluated now)."""
        test = self._latest.get(TEST)
        if test is not None and test.epoch == epoch:
            self._emit(PredictionsReady(epoch=epoch, split=TEST, predictions=test))
        size, indices, sample = self._training_sample()
        pred = self._predict(sample)
        if pred is None:
            return  # stopping: the person asked for the run to end, not for more predictions
        ps = build_prediction_set(TRAIN, epoch, indices, sample, pred, self._task, complete=size == len(self._train))
        self._latest[TRAIN] = ps
        self._emit(PredictionsReady(epoch=epoch, split=TRAIN, predictions=ps))

    def save(self, writer: RunWriter, epoch: int) -> None:
        """Write the newest predictions of each split into the run folder. A failure costs only
        that convenience, so it is a Notice."""
        for split, ps in self._latest.items():
            path = writer.run.predictions_path(split)
            why = writer.try_persist(path, lambda: ps.save(path))  # noqa: B023 (called at once)
            if why is not None:
                message = (f"{why.rstrip('.')}, so the prediction viewer's {split} predictions were not saved. "
                           f"The run and its checkpoints are safe; opening the run evaluates the model again.")
                self._emit(Notice(kind="predictions_not_saved", message=message, epoch=epoch,
                                  run_dir=str(writer.run.path)))

    def _training_sample(self) -> tuple[int, np.ndarray, PuzzleSet]:
        t = self._config.train
        size = min(t.viewer_sample, len(self._train))
        if self._sample is None or self._sample[0] != size:  # viewer_sample may change live
            indices = viewer_sample_indices(self._train.patterns, size, t.seed)
            self._sample = (size, indices, self._train.subset(indices))
        return self._sample

