"""TensorBoard event files of a run: each epoch's history numbers as scalars, step = epoch.

Why TensorBoard's own code writes the bytes (`tensorboard.summary.writer.record_writer` for the
record framing with its masked CRC-32C, `tensorboard.compat.proto` for the Event and Summary
messages): the format is TensorBoard's, and its writer is the one its readers are tested against;
code of our own would be a second, untested copy of that format. Why its RecordWriter and not its
EventFileWriter: the latter writes from a background thread, whose failure prints a traceback and
surfaces only at a later call; a run flushes each epoch anyway, so a plain write costs nothing and
its failure is raised here, where it becomes one notice. `tensorboard` is imported only when a
file is written, so importing the run store stays cheap (and it never imports torch).

What is written, per history row: every number (ints, floats, NaN and ±inf as they are — TensorBoard
shows them; bools as 0 or 1), each item of a list of numbers as `<tag>/<n>` counted from 1 (the
held-out exact match after each reasoning segment), nothing for text or missing values. The epoch is
the step, not a scalar. Tags keep the history key whole, grouped by the part before the first "/"
(TensorBoard's sections): keys that already have one (the official `train/…`, `val/…`) stay as they
are; ours go under `held_out/` (the `val_…` keys), `timing/` (wall-clock figures) or `training/`.
Each event's wall time is the run's creation time plus the row's `wall_seconds`, so a file written
live, rewritten on resume and exported later carry the same times.

Resuming (`train --resume`, Continue) or a run folder written again after it vanished: the folder
mirrors the history. Each time the run writer (re)opens the folder, a new event file replays the
whole history so far and the earlier event files are removed — a run resumed from an earlier epoch
than it had reached shows each epoch once, with the values its history holds, in every reader
(no duplicate steps, no reliance on TensorBoard's rules for purging orphaned steps). With the
setting off nothing here runs, and files an earlier session wrote are left as they are.
"""

from __future__ import annotations

import itertools
import numbers
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Mapping, Sequence

from hrm_studio.errors import UserError
from hrm_studio.runstore.keys import HELD_OUT_PREFIX, TIMING_KEYS, HistoryKey
from hrm_studio.runstore.run_dir import CONFIG_FILE, RunDir, event_files, new_event_file, write_failure

GROUP_TRAINING, GROUP_HELD_OUT, GROUP_TIMING = "training", "held_out", "timing"


def scalar_tag(key: str) -> str:
    """The TensorBoard tag of a history key: the key itself, under a section when it has none."""
    if "/" in key:
        return key
    if key in TIMING_KEYS:
        return f"{GROUP_TIMING}/{key}"
    return f"{GROUP_HELD_OUT if key.startswith(HELD_OUT_PREFIX) else GROUP_TRAINING}/{key}"


def _number(value: Any) -> bool:
    return isinstance(value, numbers.Real)  # bool, int, float and numpy's numbers


def epoch_scalars(row: Mapping[str, Any]) -> dict[str, float]:
    """Tag → value of every number in one history row (see the module docstring for what counts)."""
    found: dict[str, float] = {}
    for key, value in row.items():
        if key == HistoryKey.EPOCH:
            continue
        tag = scalar_tag(key)
        if _number(value):
            found[tag] = float(value)
        elif isinstance(value, (list, tuple)):
            found.update({f"{tag}/{n}": float(item) for n, item in enumerate(value, 1) if _number(item)})
    return found


def _step(row: Mapping[str, Any]) -> int | None:
    epoch = row.get(HistoryKey.EPOCH)
    return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) else None


class EventFile:
    """One event file being written; each `add` is flushed at once, so a live TensorBoard sees it."""

    def __init__(self, path: Path, handle: IO[bytes], created: float) -> None:
        from tensorboard.summary.writer.record_writer import RecordWriter

        self.path = path
        self._records = RecordWriter(handle)
        self._created = created

    @classmethod
    def create(cls, folder: Path, created: float) -> "EventFile":
        """A new file in `folder` (made if missing), never one that exists; it starts with the
        version record every event file begins with."""
        from tensorboard.compat.proto.event_pb2 import Event

        folder.mkdir(parents=True, exist_ok=True)
        for serial in itertools.count():
            path = new_event_file(folder, serial)
            try:
                handle = open(path, "xb")  # permissions as the umask gives
            except FileExistsError:
                continue
            try:
                log = cls(path, handle, created)
                log._write(Event(wall_time=created, file_version="brain.Event:2"))
            except BaseException:
                handle.close()
                raise
            return log
        raise AssertionError("unreachable: the serials never end")

    def add(self, row: Mapping[str, Any]) -> None:
        """Write one history row as one event (a row without a whole-number epoch has no step: skipped)."""
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary

        step = _step(row)
        if step is None:
            return
        seconds = row.get(HistoryKey.WALL_SECONDS)
        wall = self._created + (float(seconds) if _number(seconds) else 0.0)
        values = [Summary.Value(tag=tag, simple_value=value) for tag, value in epoch_scalars(row).items()]
        self._write(Event(wall_time=wall, step=step, summary=Summary(value=values)))

    def add_all(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.add(row)

    def _write(self, event: Any) -> None:
        self._records.write(event.SerializeToString())
        self._records.flush()

    def close(self) -> None:
        self._records.close()


class LiveEventLog:
    """The event file a training run writes as it goes. Any failure is told once through
    `on_failure(sentence)` and ends the log; training never stops for it."""

    def __init__(self, run: RunDir, created: float, on_failure: Callable[[str], None]) -> None:
        self._run = run
        self._created = created
        self._on_failure = on_failure
        self._file: EventFile | None = None
        self._failed = False

    def restart(self, history: Sequence[Mapping[str, Any]]) -> None:
        """A new event file holding the whole history so far; the earlier ones are removed."""
        def replay() -> None:
            self.close()
            self._file = EventFile.create(self._run.tensorboard, self._created)
            self._file.add_all(history)
            for old in event_files(self._run.tensorboard):
                if old != self._file.path:
                    old.unlink(missing_ok=True)
        self._guard(replay)

    def add(self, row: Mapping[str, Any]) -> None:
        if self._file is not None:
            self._guard(lambda: self._file.add(row))  # type: ignore[union-attr]

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            try:
                file.close()
            except OSError:
                pass  # every event was flushed as it was written

    def _guard(self, write: Callable[[], None]) -> None:
        if self._failed:
            return
        try:
            write()
        except Exception as exc:  # noqa: BLE001 — whatever went wrong, the run must go on without it
            self._failed = True
            self.close()
            where = self._run.tensorboard
            why = write_failure(exc, where) if isinstance(exc, OSError) else \
                f"Could not write {where}: {type(exc).__name__}: {exc}."
            self._on_failure(f"{why.rstrip('.')}, so this run's TensorBoard files stop here. Training goes on and "
                             f"its history and checkpoints are safe; to write the files later: hrm-studio "
                             f"export-tensorboard {self._run.path} --out DIR")


# ----- exporting finished runs -----------------------------------------------------------------
def export_tensorboard(run_folders: Sequence[str | Path], out_dir: str | Path) -> list[Path]:
    """Write each run's history as an event file into `out_dir/<run folder name>/` (a name given
    twice gets -2, -3 …), so `tensorboard --logdir out_dir` shows every run; returns the files written.

    Every run is read and every target checked before anything is written: a folder that is not a
    run, a history that cannot be read, or a target that already holds event files (an earlier
    export: nothing is overwritten) raises UserError and writes nothing.
    """
    out = Path(out_dir)
    runs = [RunDir(Path(folder)) for folder in run_folders]
    histories = [_history_to_export(run) for run in runs]
    targets = _export_targets(out, runs)
    written = []
    for run, history, target in zip(runs, histories, targets):
        try:
            file = EventFile.create(target, _created(run))
            file.add_all(history)
            file.close()
        except OSError as exc:
            raise UserError(f"{write_failure(exc, target)} Choose another --out folder.") from None
        written.append(file.path)
    return written


def _history_to_export(run: RunDir) -> list[dict[str, Any]]:
    if not RunDir.holds_run(run.path):
        raise UserError(f"{run.path} is not an HRM Studio run folder (it has no {CONFIG_FILE}); give the "
                        f"folder of a run.")
    try:
        history = run.read_history()
    except (OSError, ValueError) as exc:  # ValueError: JSON or text decoding
        raise UserError(f"The history of the run {run.path} cannot be read ({exc}), so it was not exported; "
                        f"nothing was written.") from None
    if not isinstance(history, list) or not all(isinstance(row, dict) for row in history):
        raise UserError(f"The history of the run {run.path} is not a list of epochs (damaged?), so it was not "
                        f"exported; nothing was written.")
    return history


def _export_targets(out: Path, runs: Sequence[RunDir]) -> list[Path]:
    targets: list[Path] = []
    for run in runs:
        name = run.path.resolve().name
        target = next(out / candidate for candidate in _names(name) if out / candidate not in targets)
        if event_files(target):
            raise UserError(f"{target} already holds TensorBoard files (an earlier export?); choose another "
                            f"--out folder or remove that one first. Nothing was written.")
        targets.append(target)
    return targets


def _names(name: str) -> Iterable[str]:
    yield name
    for n in itertools.count(2):
        yield f"{name}-{n}"


def _created(run: RunDir) -> float:
    """When the run was created: its status says; else its settings file's time."""
    created = run.read_status().get("created")
    if _number(created) and not isinstance(created, bool):
        return float(created)
    try:
        return run.config_path.stat().st_mtime
    except OSError:
        return 0.0

