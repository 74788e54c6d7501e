"""The file dialogs, in one replaceable object.

Every window action that needs a path asks this object and then calls a method that
takes the path, so tests (and scripts) call those methods directly and never meet a
modal dialog. The save dialog asks before replacing the name that was typed; when an
extension is added to that name afterwards, `with_suffix` asks about the file that name
now means, so nothing is replaced without a yes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from hrm_studio.gui.metrics.history_export import HISTORY_FORMATS
from hrm_studio.gui.shell.model_export import format_for_filter, model_formats, normalise_target
from hrm_studio.gui.metrics.plot_export import PLOT_FORMATS

CHECKPOINT_FILTER = ("Checkpoints (*.pt *.pth *.safetensors step_*);;HRM Studio checkpoint (*.pt);;"
                     "All files (*)")


class FilePrompts:
    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def open_checkpoint(self, start: Path) -> Path | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open checkpoint", str(start), CHECKPOINT_FILTER)
        return Path(path) if path else None

    def open_run_folder(self, start: Path) -> Path | None:
        path = QFileDialog.getExistingDirectory(self.parent, "Open run folder", str(start))
        return Path(path) if path else None

    def save_checkpoint(self, suggested: Path) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save checkpoint", str(suggested),
                                              "HRM Studio checkpoint (*.pt)")
        return self.extended(path, normalise_target(path, "pt")) if path else None

    def export_plots(self, suggested: Path) -> Path | None:
        path, chosen = QFileDialog.getSaveFileName(self.parent, "Export plots", str(suggested),
                                                   ";;".join(PLOT_FORMATS.values()))
        return self.extended(path, _with_suffix(path, chosen, PLOT_FORMATS))

    def export_history(self, suggested: Path) -> Path | None:
        path, chosen = QFileDialog.getSaveFileName(self.parent, "Export history", str(suggested),
                                                   ";;".join(HISTORY_FORMATS.values()))
        return self.extended(path, _with_suffix(path, chosen, HISTORY_FORMATS))

    def export_model(self, suggested: Path, arch: str) -> tuple[Path, str] | None:
        """Where and how to export a model of architecture `arch` (which the official format is named for)."""
        path, chosen = QFileDialog.getSaveFileName(self.parent, "Export model", str(suggested),
                                                   ";;".join(model_formats(arch).values()))
        if not path:
            return None
        fmt = format_for_filter(chosen, arch)
        target = self.extended(path, normalise_target(path, fmt))
        return (target, fmt) if target is not None else None

    def save_image(self, suggested: Path, file_filter: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save picture", str(suggested), file_filter)
        if not path:
            return None
        result = Path(path)
        wanted = ".gif" if "gif" in file_filter else ".png"
        if result.suffix.lower() != wanted:
            result = result.with_name(result.name + wanted)
        return self.extended(path, result)

    def extended(self, typed: str, result: Path | None) -> Path | None:
        """`result`, the typed name with its extension added; when that file exists, only if the person
        agrees to replace it (the dialog asked about the typed name, not this one)."""
        if result is None or result == Path(typed) or not result.exists():
            return result
        question = f"{result.name} already exists in {result.parent}. Replace it?"
        return result if self.confirm("Replace file?", question) else None

    def confirm(self, title: str, question: str) -> bool:
        answer = QMessageBox.question(self.parent, title, question,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes


def _with_suffix(path: str, chosen_filter: str, formats: dict[str, str]) -> Path | None:
    if not path:
        return None
    result = Path(path)
    if result.suffix.lower().lstrip(".") not in formats:
        fmt = next((f for f, text in formats.items() if text == chosen_filter), next(iter(formats)))
        result = result.with_name(result.name + f".{fmt}")
    return result
