"""Compile HRM Studio's C kernels with the system compiler, once per machine, and load them.

Why at run time: the kernels are tuned with ``-march=native`` (AVX-512 here, NEON on ARM),
which only the machine that runs them can choose, and a wheel with prebuilt binaries for
every CPU is not worth it for one small file. A build takes about a second; the library is
cached under the user cache folder, keyed by the source, the compiler and the CPU, so later
runs load it directly. A loaded library must report the ABI version that :mod:`.abi` declares;
a stale one is rebuilt once. Nothing here is required: without a C compiler the caller falls back
to torch's own kernels and says why.
"""

from __future__ import annotations

import _ctypes
import ctypes
import functools
import hashlib
import os
import platform
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from . import abi

SOURCE = Path(__file__).with_name("attention.c")
FLAGS = ("-O3", "-march=native", "-shared", "-fPIC", "-pthread")
# With OpenMP the kernel runs on torch's own OpenMP threads instead of competing with them
# (torch's idle workers spin for a while); compilers without it (Apple clang) build without.
OPENMP = "-fopenmp"
BUILD_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class KernelLibrary:
    """A loaded kernel library, or why there is none (``library is None``)."""

    library: ctypes.CDLL | None
    reason: str = ""
    path: Path | None = None


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("hrm-studio")) / "kernels"


def find_compiler() -> list[str] | None:
    """The compiler command: ``$CC`` if set (it may carry arguments, as in ``ccache gcc``), else
    the first of cc, gcc, clang on PATH."""
    named = shlex.split(os.environ.get("CC", ""))
    if named:
        found = shutil.which(named[0])
        return [found, *named[1:]] if found else None
    return next(([found] for name in ("cc", "gcc", "clang") if (found := shutil.which(name))), None)


def _cpu_signature() -> str:
    """What -march=native depends on: the CPU's model and feature flags (Linux), else the platform."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            lines = [line for line in info if line.startswith(("model name", "flags", "Features", "CPU part"))]
        return "".join(sorted(set(lines)))
    except OSError:
        return f"{platform.machine()} {platform.processor()}"


def library_name(source: bytes, compiler: list[str]) -> str:
    key = hashlib.sha256(b"\0".join([source, " ".join(compiler).encode(), " ".join(FLAGS).encode(),
                                     _cpu_signature().encode()])).hexdigest()[:16]
    return f"attention-{key}.so"


def _compile(compiler: list[str], target: Path) -> str:
    """Compile SOURCE into ``target`` (atomically); '' on success, else the compiler's first error line."""
    # Build beside the target and rename: two processes building at once each get a whole file.
    fd, tmp_name = tempfile.mkstemp(prefix=".building-", suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        error = ""
        for extra in ([OPENMP], []):
            done = subprocess.run([*compiler, *FLAGS, *extra, "-o", tmp_name, str(SOURCE), "-lm"],
                                  capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
            if done.returncode == 0:
                os.replace(tmp_name, target)
                return ""
            lines = (done.stderr or done.stdout).strip().splitlines()
            error = error or (lines[0] if lines else f"it exited with status {done.returncode} and no output")
        return error
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def _unload(library: ctypes.CDLL) -> None:
    """dlclose a library that failed its ABI check, so that loading the rebuilt file at the same
    path gets the new one (the dynamic loader hands back an already loaded library by its path)."""
    close = getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary", None)
    if close is not None:
        try:
            close(library._handle)
        except OSError:
            pass


def _open(target: Path) -> tuple[ctypes.CDLL | None, str]:
    """The library at ``target`` if it loads and its ABI is the one :mod:`.abi` declares, else
    (None, why); a library with the wrong ABI is unloaded again."""
    try:
        library = ctypes.CDLL(str(target))
    except OSError as exc:
        return None, f"the built kernel could not be loaded ({exc})"
    mismatch = abi.problem(library)
    if not mismatch:
        return library, ""
    _unload(library)
    return None, f"{mismatch}, even after rebuilding it from {SOURCE.name}"


def build(cache_dir: Path) -> KernelLibrary:
    """The attention kernel library, compiled into ``cache_dir`` if it is not there yet, and
    compiled once more if the cached file cannot be loaded (a build cut short, a disk error) or
    reports another ABI version than :data:`.abi.ABI_VERSION` (a copied cache, a hand-built file)."""
    compiler = find_compiler()
    if compiler is None:
        named = os.environ.get("CC")
        return KernelLibrary(None, f"$CC ({named!r}) is not a program on PATH" if named
                             else "no C compiler (cc, gcc or clang) was found on PATH")
    try:
        source = SOURCE.read_bytes()
    except OSError as exc:
        return KernelLibrary(None, f"the kernel source {SOURCE} could not be read ({exc.strerror})")
    target = cache_dir / library_name(source, compiler)
    reason = ""
    for attempt in range(2):
        if attempt or not target.is_file():
            try:
                cache_dir.mkdir(parents=True, exist_ok=True)
                error = _compile(compiler, target)
            except subprocess.TimeoutExpired:
                return KernelLibrary(None, f"the C compiler took longer than {BUILD_TIMEOUT_S:g} s")
            except OSError as exc:
                return KernelLibrary(None, f"the kernel could not be built in {cache_dir} ({exc})")
            if error:
                return KernelLibrary(None, f"the C compiler failed: {error}")
        library, reason = _open(target)
        if library is not None:
            return KernelLibrary(library, path=target)
    return KernelLibrary(None, reason)


@functools.lru_cache(maxsize=None)
def load(cache_dir: Path | None = None) -> KernelLibrary:
    """:func:`build` once per process and cache folder (a loaded library cannot be unloaded anyway)."""
    return build(cache_dir if cache_dir is not None else default_cache_dir())
