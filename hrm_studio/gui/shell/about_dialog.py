"""Help → About: what HRM Studio is, which versions it runs on, and where it keeps files.

Why the details: a bug report needs the versions (HRM Studio, torch, Qt, PySide6, Python),
the thread count decides training speed, and a person looking for their runs or settings
needs the folders. "Copy details" puts all of it on the clipboard as plain text.

torch is never imported when this module loads (the window must appear before torch has
finished importing); the dialog reads torch's thread count only when it is opened.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from html import escape
from importlib import metadata
from pathlib import Path

import platformdirs
from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from hrm_studio import __version__
from hrm_studio.gui.shell.app_icon import icon_pixmap
from hrm_studio.resource_files import resources_dir
from hrm_studio.runstore.run_dir import default_runs_root

APP_NAME = "HRM Studio"
TAGLINE = "Train a Hierarchical Reasoning Model on a CPU and watch it learn."
LICENCE = "MIT licence · © 2026 HRM Studio contributors"
PAPER = "After the Hierarchical Reasoning Model paper: Wang et al. 2025, arXiv 2506.21734"


@dataclass(frozen=True)
class AboutInfo:
    """Everything the About box shows, as plain values (so tests need no dialog)."""

    version: str
    torch: str
    torch_threads: int | None
    cpu_cores: int | None
    qt: str
    pyside: str
    python: str
    system: str
    data_dir: Path
    config_dir: Path
    runs_dir: Path
    resources: Path

    def versions(self) -> list[tuple[str, str]]:
        threads = "unknown" if self.torch_threads is None else str(self.torch_threads)
        cores = "unknown" if self.cpu_cores is None else str(self.cpu_cores)
        return [
            ("HRM Studio", self.version),
            ("PyTorch", self.torch),
            ("Training threads", f"{threads} (of {cores} CPU cores)"),
            ("Qt", self.qt),
            ("PySide6", self.pyside),
            ("Python", self.python),
            ("System", self.system),
        ]

    def folders(self) -> list[tuple[str, Path]]:
        return [
            ("Runs", self.runs_dir),
            ("Data", self.data_dir),
            ("Settings", self.config_dir),
            ("Resources", self.resources),
        ]

    def as_text(self) -> str:
        """Plain text for a bug report: one 'name: value' per line."""
        lines = [f"{name}: {value}" for name, value in self.versions()]
        lines += [f"{name} folder: {path}" for name, path in self.folders()]
        return "\n".join(lines)


def torch_version() -> str:
    """torch's version from its package metadata, so reading it never imports torch."""
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:  # a packaged build without torch's metadata
        torch = sys.modules.get("torch")
        return getattr(torch, "__version__", "unknown")


def torch_threads() -> int | None:
    """The threads torch trains with. Imports torch if nothing has yet (a pause of a second
    or two, once, when the About box first opens after launch)."""
    from hrm_studio.training.threads import training_thread_count

    return training_thread_count()


def collect_about_info(runs_root: Path | None = None, threads: int | None = None) -> AboutInfo:
    """The About box's facts; `threads` given skips asking torch (tests, or a known count)."""
    return AboutInfo(
        version=__version__,
        torch=torch_version(),
        torch_threads=threads if threads is not None else torch_threads(),
        cpu_cores=os.cpu_count(),
        qt=qVersion(),
        pyside=PYSIDE_VERSION,
        python=platform.python_version(),
        system=f"{platform.system()} {platform.release()} ({platform.machine()})",
        data_dir=Path(platformdirs.user_data_dir("hrm-studio")),
        config_dir=Path(platformdirs.user_config_dir("hrm-studio")),
        runs_dir=runs_root or default_runs_root(),
        resources=resources_dir(),
    )


def folder_html(path: Path) -> str:
    """A folder as a link that opens it, or as plain text while it does not exist yet."""
    text = escape(str(path))
    if path.is_dir():
        return f'<a href="{QUrl.fromLocalFile(str(path)).toString()}">{text}</a>'
    return f"{text} <i>(not created yet)</i>"


class AboutDialog(QDialog):
    """The About box. Open it with `show()` / `open()`; it never blocks a test."""

    def __init__(self, info: AboutInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self.setObjectName("aboutDialog")
        self.setWindowTitle(f"About {APP_NAME}")
        self.setMinimumWidth(540)

        icon = QLabel()
        icon.setObjectName("aboutIcon")
        icon.setPixmap(icon_pixmap(96))
        title = QLabel(f"<h2 style='margin:0'>{APP_NAME} {escape(info.version)}</h2>"
                       f"<p>{escape(TAGLINE)}</p>"
                       f"<p style='color: palette(placeholder-text)'>{escape(PAPER)}</p>"
                       f"<p style='color: palette(placeholder-text)'>{escape(LICENCE)}</p>")
        title.setObjectName("aboutTitle")
        title.setWordWrap(True)
        header = QHBoxLayout()
        header.addWidget(icon, 0)
        header.addSpacing(12)
        header.addWidget(title, 1)

        form = QFormLayout()
        self.values: dict[str, QLabel] = {}
        for name, value in info.versions():
            self.values[name] = self._add_row(form, name, escape(value))
        for name, path in info.folders():
            label = self._add_row(form, f"{name} folder", folder_html(path))
            label.setOpenExternalLinks(False)
            label.linkActivated.connect(lambda url: QDesktopServices.openUrl(QUrl(url)))
            self.values[f"{name} folder"] = label

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("&Copy details")
        self.copy_button.setToolTip("Copy the versions and folders as plain text, e.g. for a bug report.")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_details)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addSpacing(8)
        layout.addWidget(buttons)

    @staticmethod
    def _add_row(form: QFormLayout, name: str, html: str) -> QLabel:
        label = QLabel(html)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        form.addRow(f"{name}:", label)
        return label

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.info.as_text())
