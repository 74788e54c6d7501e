"""The Studio window: PySide6 + pyqtgraph front end over the Qt-free training core.

Nothing here imports torch at module level, so the window appears before PyTorch has
finished importing; torch is imported inside worker threads when a run or a checkpoint
needs it.
"""

from hrm_studio.gui.shell import refcount_guard as _refcount_guard

# Before any widget exists: PySide6 6.12.0 on Python 3.11 would otherwise abort the
# interpreter after a few thousand Qt calls (see refcount_guard.py).
REFCOUNT_GUARD_APPLIED = _refcount_guard.install()
