"""Guard against a reference-count defect in PySide6 6.12.0 on Python 3.11.

On that combination every call to a C++ method returning void hands back `None`, and
every `Signal.emit()` hands back `True`, without taking a reference. Each such call
drops one reference the interpreter owns, so after a few thousand calls (one repaint
of the plots makes hundreds) Python aborts with "Fatal Python error: none_dealloc" or
"bool_dealloc". Python 3.12 made these singletons immortal, which hides the defect there;
PySide6 6.11 does not have it.

When (and only when) the defect is measured on the running interpreter, the guard does
what Python 3.12 does: it raises the reference counts of None, True and False so far
that they can never reach zero. The proper fix is a PySide6 release without the defect
(pin `PySide6-Essentials!=6.12.0` or use Python ≥ 3.12); this keeps the app alive until then.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

PROBE_CALLS = 64
_IMMORTAL = 2**60


class _Probe(QObject):
    ping = Signal()


def _drift(obj: object, call: "object") -> int:
    before = sys.getrefcount(obj)
    for _ in range(PROBE_CALLS):
        call()  # type: ignore[operator]
    return before - sys.getrefcount(obj)


def defect_present() -> bool:
    """True when void calls or emit() leak references to None / True on this interpreter."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    probe = _Probe()
    none_lost = _drift(None, lambda: probe.setObjectName("probe"))
    true_lost = _drift(True, probe.ping.emit)
    return none_lost >= PROBE_CALLS // 2 or true_lost >= PROBE_CALLS // 2


def _make_immortal(obj: object) -> None:
    # CPython ≤ 3.11: ob_refcnt is the first field of every object.
    count = ctypes.c_ssize_t.from_address(id(obj))
    if count.value < _IMMORTAL:
        count.value += _IMMORTAL


def install() -> bool:
    """Apply the guard if the defect is present; returns whether it was applied."""
    if not defect_present():
        return False
    for singleton in (None, True, False):
        _make_immortal(singleton)
    return True
