"""The one Python declaration of attention.c's ABI: its version, status codes and the ctypes
signature of every exported ``hrm_*`` function.

Why one table: ctypes trusts whatever argtypes it is given, so a signature spelled by hand in
two places, or a library built from another version of the source, passes wrong arguments
silently (wrong results or a crash inside the kernel). The loader (:mod:`.build`) checks the
version a library reports against :data:`ABI_VERSION`; :mod:`hrm_studio.model.fused_attention`
binds its entry points through :func:`bind`. Change this file together with attention.c's ABI
section and bump both versions. No torch here: the kernels package must load without it.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any

# attention.c: HRM_ATTENTION_ABI_VERSION, HRM_OK, HRM_UNSUPPORTED, HRM_NO_MEMORY.
ABI_VERSION = 1
OK = 0
UNSUPPORTED = 1  # the shape is not supported: the caller falls back to torch
NO_MEMORY = 2  # scratch memory ran out: the outputs are incomplete

VERSION_FUNCTION = "hrm_attention_abi_version"
HAS_BF16_FUNCTION = "hrm_attention_has_bf16"
BF16_FORWARD = "hrm_attention_forward_bf16"

Strides = ctypes.c_long * 3  # a tensor's strides for batch, position, head (``const long *``)
_P = ctypes.c_void_p  # every tensor and table pointer (NULL: None)
_L = ctypes.c_long
_FORWARD = (_P, _P, _P, _L, _L, _L, _L, Strides, Strides, Strides, _P, _P, ctypes.c_float, _P, _P, ctypes.c_int)
_BACKWARD = (_P, _P, _P, _P, _P, Strides, Strides, Strides, Strides, Strides, _P, _P, _P, _P, _L, _L, _L, _L,
             ctypes.c_float, _P, _P, ctypes.c_int)


@dataclass(frozen=True)
class Signature:
    """One exported function: its argument and result types, and whether every build has it."""

    argtypes: tuple[Any, ...]
    restype: Any = ctypes.c_int
    always: bool = True  # False: only builds where hrm_attention_has_bf16() returns 1


SIGNATURES: dict[str, Signature] = {
    VERSION_FUNCTION: Signature(()),
    HAS_BF16_FUNCTION: Signature(()),
    "hrm_attention_forward": Signature(_FORWARD),
    "hrm_attention_backward": Signature(_BACKWARD),
    BF16_FORWARD: Signature(_FORWARD, always=False),
}


def bind(library: ctypes.CDLL, name: str) -> Any:
    """``name`` from ``library`` with its declared signature (a new function object, so nothing
    else holding the library sees its types changed). AttributeError if the library lacks it."""
    signature = SIGNATURES[name]
    fn = library[name]
    fn.argtypes = list(signature.argtypes)
    fn.restype = signature.restype
    return fn


def problem(library: ctypes.CDLL) -> str:
    """Why ``library`` cannot be used with this Python code ('' when it can): it reports another
    ABI version, none at all (built before versioning), or lacks an entry point."""
    try:
        version = int(bind(library, VERSION_FUNCTION)())
    except AttributeError:
        return f"the compiled library does not report its ABI version (this HRM Studio needs version {ABI_VERSION})"
    if version != ABI_VERSION:
        return f"the compiled library reports ABI version {version} but this HRM Studio needs version {ABI_VERSION}"
    try:
        has_bf16 = int(bind(library, HAS_BF16_FUNCTION)())
    except AttributeError:
        has_bf16 = 0
    needed = [name for name, sig in SIGNATURES.items() if sig.always or has_bf16]
    missing = [name for name in needed if not hasattr(library, name)]
    return f"the compiled library lacks {', '.join(missing)}" if missing else ""
