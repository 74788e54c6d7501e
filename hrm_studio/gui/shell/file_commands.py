"""Save and export: checkpoints, models, plots, history, prediction pictures.

Every command takes its path; the `prompt_…` methods only ask `window.prompts` for it
first, so tests and scripts never meet a modal dialog. A command replaces only the file its
path names: one it would write besides (an added extension, the JSON beside a .safetensors,
a non-empty folder for an official export) that already exists makes it refuse. Work that
touches torch runs on the window's JobRunner.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable

from hrm_studio.errors import UserError
from hrm_studio.gui.metrics.history_export import save_history
from hrm_studio.gui.metrics.plot_export import save_plot
from hrm_studio.gui.shell.model_export import export_model, normalise_target, unnamed_existing, unnamed_refusal
from hrm_studio.gui.shell.window_part import WindowPart

PREDICTION_PICTURES = {"png": ("-puzzle.png", "PNG image (*.png)"), "gif": ("-steps.gif", "GIF animation (*.gif)"),
                       "sheet": ("-contact-sheet.png", "PNG image (*.png)")}


class FileCommands(WindowPart):
    """Save checkpoint…, Export plots / history / model…, and the pictures of the Predictions tab."""

    # ----- each command takes its path -----------------------------------------------------------
    def save_checkpoint(self, path: str | Path) -> None:
        """Mid-run: the trainer saves between two steps. Otherwise the open checkpoint is written."""
        w = self.window
        if self._replaces_unnamed(path, "pt"):
            return
        path = normalise_target(path, "pt")
        if w.controller.save_checkpoint(path):
            self._message(f"Saving a checkpoint to {path} after the current step…")
            return
        opened = w.session.opened
        if opened is None or opened.checkpoint is None:
            w.show_error("There is no model to save yet: train one or open a checkpoint first.")
            return
        source, config, copy = opened.checkpoint, opened.config, opened.resumable

        def work() -> list[Path]:
            if not copy:   # weights from elsewhere: written as a Studio checkpoint
                return export_model(source, "pt", path, config)
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, path)
            return [path]
        w.jobs.submit(work, w.files_written, w.job_failed)

    def export_model(self, path: str | Path, fmt: str) -> None:
        """fmt: 'pt', 'safetensors' or 'hrm'. Mid-run, the current weights are saved first."""
        w = self.window
        path = Path(path)
        if self._replaces_unnamed(path, fmt):
            return
        if w.controller.active:
            tmp = Path(tempfile.mkdtemp(prefix="hrm-studio-export-")) / "current.pt"
            w.session.export_after_save(tmp, path, fmt)
            w.controller.save_checkpoint(tmp)
            self._message("Exporting the model after the current step…")
            return
        opened = w.session.opened
        if opened is None or opened.checkpoint is None:
            w.show_error("There is no model to export yet: train one or open a checkpoint first.")
            return
        self.run_export(opened.checkpoint, path, fmt)

    def run_export(self, checkpoint: Path, out: Path, fmt: str, cleanup: Path | None = None) -> None:
        """Export `checkpoint` on the job thread; `cleanup`: a temporary folder to delete afterwards."""
        w = self.window
        fallback = w.session.run_config or w.settings.config()

        def work() -> list[Path]:
            try:
                return export_model(checkpoint, fmt, out, fallback)
            finally:
                if cleanup is not None:
                    shutil.rmtree(cleanup, ignore_errors=True)
        self._message(f"Exporting the model to {out}…")
        w.jobs.submit(work, w.files_written, w.job_failed)

    def _replaces_unnamed(self, path: str | Path, fmt: str) -> bool:
        """Refuse (with the banner's sentence) a save that would replace files `path` does not name."""
        unnamed = unnamed_existing(path, fmt)
        if unnamed:
            self.window.show_error(unnamed_refusal(path, fmt, unnamed))
        return bool(unnamed)

    def export_plots(self, path: str | Path) -> Path | None:
        dashboard = self.window.dashboard
        dashboard.flush()
        return self._write(lambda: save_plot(dashboard.view, path, dashboard.colours.background))

    def export_history(self, path: str | Path) -> Path | None:
        return self._write(lambda: save_history(self.window.dashboard.rows(), path))

    def _write(self, write: Callable[[], Path]) -> Path | None:
        try:
            written = write()
        except UserError as exc:
            self.window.show_error(str(exc))
            return None
        self.window.files_written([written])
        return written

    # ----- the prompts: ask for the path, then run the command -----------------------------------
    def _suggest(self, suffix: str) -> Path:
        session = self.window.session
        folder = session.run_dir if session.run_dir is not None else Path.home()
        return folder / f"{session.run_name or 'hrm-run'}{suffix}"

    def _start_folder(self) -> Path:
        root = self.window.runs_root
        return root if root.exists() else Path.home()

    def prompt_open_checkpoint(self) -> None:
        path = self.window.prompts.open_checkpoint(self._start_folder())
        if path is not None:
            self.window.open_checkpoint(path)

    def prompt_open_run_folder(self) -> None:
        path = self.window.prompts.open_run_folder(self._start_folder())
        if path is not None:
            self.window.open_run_folder(path)

    def prompt_save_checkpoint(self) -> None:
        path = self.window.prompts.save_checkpoint(self._suggest("-checkpoint.pt"))
        if path is not None:
            self.save_checkpoint(path)

    def prompt_export_plots(self) -> None:
        path = self.window.prompts.export_plots(self._suggest("-plots.png"))
        if path is not None:
            self.export_plots(path)

    def prompt_export_history(self) -> None:
        path = self.window.prompts.export_history(self._suggest("-history.csv"))
        if path is not None:
            self.export_history(path)

    def prompt_export_predictions(self, kind: str) -> None:
        """Save PNG… / Save GIF… / Contact sheet… on the Predictions tab."""
        suffix, file_filter = PREDICTION_PICTURES[kind]
        path = self.window.prompts.save_image(self._suggest(suffix), file_filter)
        if path is not None:
            self.window.prediction_jobs.export(kind, path)

    def model_arch(self) -> str:
        """The architecture of the model Export model… writes: the running one's, else the opened one's, else
        the settings'."""
        session = self.window.session
        if self.window.controller.active and session.run_config is not None:
            return session.run_config.model.arch
        if session.opened is not None:
            return session.opened.config.model.arch
        return (session.run_config or self.window.settings.config()).model.arch

    def prompt_export_model(self) -> None:
        chosen = self.window.prompts.export_model(self._suggest("-model.safetensors"), self.model_arch())
        if chosen is not None:
            self.export_model(*chosen)
