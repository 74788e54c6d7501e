"""The status bar's run read-out: epoch n/N, a progress bar with ETA, samples/s, best so far,
and where the run computes (CPU, a CUDA GPU, several processes).

It listens to the Trainer's events only; the ETA is measured over this session of the run
(a resumed run does not count the time the earlier session took).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from hrm_studio.events import EpochEnd, Finished, Progress, Started
from hrm_studio.runstore.keys import HistoryKey


def metric_words(key: str) -> str:
    """'val_exact_match_accuracy' → 'held-out exact match'."""
    text = key
    held_out = text.startswith("val_") or text.startswith("val/")
    if held_out:
        text = text[4:]
    text = text.replace("_accuracy", "").replace("_", " ").replace("/", " ")
    return f"held-out {text}" if held_out else text


def format_metric(key: str, value: float) -> str:
    return f"{100 * value:.1f} %" if "accuracy" in key or "exact" in key else f"{value:.4g}"


def format_duration(seconds: float) -> str:
    seconds = max(int(round(seconds)), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class RunStatus:
    """Owns four permanent widgets on a QStatusBar and updates them from events."""

    def __init__(self, bar: QStatusBar) -> None:
        self.bar = bar
        self.epoch_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFixedWidth(220)
        self.progress.setTextVisible(True)
        self.speed_label = QLabel()
        self.best_label = QLabel()
        self.device_label = QLabel()
        self.device_label.setToolTip("Where the run computes (the device setting, resolved on this machine)")
        for widget in (self.epoch_label, self.progress, self.speed_label, self.best_label, self.device_label):
            if isinstance(widget, QLabel):
                widget.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(widget)
        self._metric: str = HistoryKey.VAL_EXACT
        self._best: tuple[float, int] | None = None
        self._epochs = 0
        self._start_fraction = 0.0
        self._start_elapsed = 0.0
        self.reset()

    # ----- state ---------------------------------------------------------------------------
    def reset(self, epochs: int = 0, metric: str | None = None) -> None:
        self._metric = metric or self._metric
        self._best = None
        self._epochs = epochs
        self.epoch_label.setText("No run yet")
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.speed_label.setText("")
        self.best_label.setText("")
        self.device_label.setText("")

    def show_history(self, history: list[dict[str, Any]], epochs: int, metric: str) -> None:
        """An opened run: last epoch and best value from its history."""
        self.reset(epochs, metric)
        for row in history:
            self._consider(row)
        if history:
            last = history[-1]
            self.epoch_label.setText(f"Epoch {last.get('epoch')}/{epochs}")
            done = min(int(last.get("epoch", 0)) / max(epochs, 1), 1.0)
            self.progress.setValue(round(1000 * done))
            self.progress.setFormat(f"{100 * done:.0f} %")
            speed = last.get(HistoryKey.SAMPLES_PER_SECOND)
            if isinstance(speed, (int, float)):
                self.speed_label.setText(f"{speed:,.0f} samples/s")

    @property
    def best(self) -> tuple[float, int] | None:
        return self._best

    def _consider(self, row: dict[str, Any]) -> None:
        value = row.get(self._metric)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return
        lower = self._metric.endswith("loss")
        if self._best is None or (value < self._best[0] if lower else value > self._best[0]):
            self._best = (float(value), int(row.get("epoch", 0)))
        best, epoch = self._best
        self.best_label.setText(f"Best {metric_words(self._metric)}: {format_metric(self._metric, best)} "
                                f"(epoch {epoch})")

    # ----- events ----------------------------------------------------------------------------
    def on_event(self, event: Any) -> None:
        if isinstance(event, Started):
            train = event.config.get("train", {})
            self._epochs = int(train.get("epochs", 0))
            self._metric = train.get("early_stopping_metric") or self._metric
            self._start_fraction = event.start_epoch / max(self._epochs, 1)
            self._start_elapsed = -1.0
            self.epoch_label.setText(f"Epoch {event.start_epoch + 1}/{self._epochs}")
            self.progress.setFormat("starting…")
            self.device_label.setText(f"on {event.device}" if event.device else "")
        elif isinstance(event, Progress):
            self._epochs = event.epochs
            fraction = min((event.epoch - 1 + event.puzzles_done / max(event.puzzles_total, 1))
                           / max(event.epochs, 1), 1.0)
            if self._start_elapsed < 0:
                self._start_elapsed = event.elapsed_seconds
                self._start_fraction = fraction
            self.epoch_label.setText(f"Epoch {event.epoch}/{event.epochs}")
            self.progress.setValue(round(1000 * fraction))
            self.progress.setFormat(f"{100 * fraction:.0f} %  ·  ETA {self._eta(fraction, event.elapsed_seconds)}")
            self.speed_label.setText(f"{event.samples_per_second:,.0f} samples/s")
        elif isinstance(event, EpochEnd):
            self._consider(event.metrics)
            speed = event.metrics.get(HistoryKey.SAMPLES_PER_SECOND)
            if isinstance(speed, (int, float)):
                self.speed_label.setText(f"{speed:,.0f} samples/s")
            self.epoch_label.setText(f"Epoch {event.epoch}/{event.epochs}")
        elif isinstance(event, Finished):
            self.epoch_label.setText(f"Epoch {event.epochs_done}/{self._epochs}")
            done = min(event.epochs_done / max(self._epochs, 1), 1.0)
            self.progress.setValue(round(1000 * done))
            self.progress.setFormat(f"{event.reason.replace('_', ' ')} · {100 * done:.0f} %")

    def _eta(self, fraction: float, elapsed: float) -> str:
        gained = fraction - self._start_fraction
        spent = elapsed - max(self._start_elapsed, 0.0)
        if gained <= 1e-6 or spent <= 0:
            return "…"
        return format_duration(spent / gained * (1.0 - fraction))
