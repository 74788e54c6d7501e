"""A non-modal banner across the top of the window: errors in red, notices in blue.

Training errors must not block the window behind a modal box: the run's folder keeps
what it had and the user can change a setting and start again straight away. Notices
(the run folder was written again, a checkpoint could not be saved) use the same banner
in a calmer colour: the run goes on, but the person should know. A notice never hides
an error that is still showing.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QToolButton, QVBoxLayout


ERROR, INFO = "error", "info"
STYLES = {
    ERROR: "#errorBanner { background: rgba(220, 50, 47, 38); border: 1px solid rgba(220, 50, 47, 160); "
           "border-radius: 4px; }",
    INFO: "#errorBanner { background: rgba(38, 139, 210, 32); border: 1px solid rgba(38, 139, 210, 150); "
          "border-radius: 4px; }",
}


class ErrorBanner(QFrame):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("errorBanner")
        self._kind = ERROR
        self.setStyleSheet(STYLES[ERROR])
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setToolTip("Show the technical details (copy them into a bug report).")
        self.dismiss_button = QPushButton("Dismiss")
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(160)
        self.details.hide()
        self.details_button.toggled.connect(self.details.setVisible)
        self.dismiss_button.clicked.connect(self.clear)

        row = QHBoxLayout()
        row.addWidget(self.message, 1)
        row.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(row)
        layout.addWidget(self.details)
        self.hide()

    def show_error(self, message: str, details: str = "") -> None:
        self._show(ERROR, message, details)

    def show_info(self, message: str, details: str = "") -> bool:
        """Show a notice unless an error is showing (the error matters more); True if shown."""
        if self.kind == ERROR:
            return False
        self._show(INFO, message, details)
        return True

    def _show(self, kind: str, message: str, details: str) -> None:
        if kind != self._kind:
            self._kind = kind
            self.setStyleSheet(STYLES[kind])
        self.message.setText(message)
        self.details.setPlainText(details)
        self.details_button.setVisible(bool(details))
        self.details_button.setChecked(False)
        self.show()

    def clear(self) -> None:
        self.message.clear()
        self.details.clear()
        self.hide()

    @property
    def kind(self) -> str:
        """"error" or "info" while showing, "" when hidden."""
        return self._kind if not self.isHidden() else ""

    @property
    def text(self) -> str:
        return self.message.text() if not self.isHidden() else ""
