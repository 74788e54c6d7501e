"""The kernel's ABI: declared once in Python (kernels.abi), checked against attention.c's source and
against what a loaded library reports; a stale library is rebuilt, one that still mismatches is
refused with a reason that names both versions."""

from __future__ import annotations

import ctypes
import re
import subprocess

import pytest

from hrm_studio.errors import ConfigError
from hrm_studio.kernels import abi
from hrm_studio.kernels import build as kernel_build
from hrm_studio.kernels.build import build, find_compiler, library_name, load
from hrm_studio.training import model_factory
from tests.kernels.conftest import CURRENT_STUB_C, NO_VERSION_C

needs_compiler = pytest.mark.skipif(find_compiler() is None, reason="no C compiler on this machine")

C_SOURCE = kernel_build.SOURCE.read_text()
# An exported function: "int hrm_...(params) {" at the start of a line (static ones are not exported).
EXPORTED = re.compile(r"^int\s+(hrm_\w+)\s*\(([^)]*)\)\s*\{", re.M)
OTHER_VERSION = abi.ABI_VERSION + 6
OTHER_VERSION_C = f"int hrm_attention_abi_version(void) {{ return {OTHER_VERSION}; }}\n"


def _define(name: str) -> int:
    found = re.search(rf"^#define\s+{name}\s+(\d+)\b", C_SOURCE, re.M)
    assert found, f"attention.c does not #define {name}"
    return int(found.group(1))


def _ctype(param: str):
    """The ctypes type the table must use for one C parameter declaration."""
    kind = " ".join(param.split()[:-1]).replace("const ", "") + ("*" if "*" in param else "")
    if "*" in kind:
        return abi.Strides if kind.replace(" ", "") == "long*" else ctypes.c_void_p
    return {"long": ctypes.c_long, "float": ctypes.c_float, "int": ctypes.c_int}[kind]


def _c_signatures() -> dict[str, tuple]:
    signatures = {}
    for name, params in EXPORTED.findall(C_SOURCE):
        params = " ".join(params.split())
        signatures[name] = () if params == "void" else tuple(_ctype(p.strip()) for p in params.split(","))
    return signatures


def _write(path, text: str):
    path.write_text(text)
    return path


def _compile_tiny(source: str, target) -> None:
    """A small shared library from ``source``, built with the system C compiler."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = target.parent / "tiny.c"
    src.write_text(source)
    subprocess.run([*find_compiler(), "-shared", "-fPIC", "-o", str(target), str(src)], check=True)
    src.unlink()


def _count_compiles(monkeypatch) -> list:
    calls = []
    real = kernel_build._compile

    def counting(compiler, target):
        calls.append(target)
        return real(compiler, target)

    monkeypatch.setattr(kernel_build, "_compile", counting)
    return calls


def test_the_c_source_defines_the_version_and_status_codes_python_declares():
    assert _define("HRM_ATTENTION_ABI_VERSION") == abi.ABI_VERSION
    assert _define("HRM_OK") == abi.OK
    assert _define("HRM_UNSUPPORTED") == abi.UNSUPPORTED
    assert _define("HRM_NO_MEMORY") == abi.NO_MEMORY


def test_every_exported_function_has_its_c_signature_in_the_one_table():
    c_signatures = _c_signatures()
    assert abi.VERSION_FUNCTION in c_signatures and "hrm_attention_backward" in c_signatures
    assert set(c_signatures) == set(abi.SIGNATURES)
    for name, argtypes in c_signatures.items():
        assert abi.SIGNATURES[name].argtypes == argtypes, name
        assert abi.SIGNATURES[name].restype is ctypes.c_int, name
    assert len(re.findall(r"^int\s+hrm_\w+\s*\(", C_SOURCE, re.M)) == len(c_signatures)  # none missed


@needs_compiler
def test_the_built_library_reports_the_version_python_expects(built_kernel):
    built = load()  # the real kernel, built once per test run (built_kernel) and loaded from the cache
    assert built.library is not None, built.reason
    assert abi.bind(built.library, abi.VERSION_FUNCTION)() == abi.ABI_VERSION
    assert abi.problem(built.library) == ""


@needs_compiler
@pytest.mark.parametrize("stale", [OTHER_VERSION_C, NO_VERSION_C], ids=["other-version", "no-version"])
def test_a_stale_cached_library_is_rebuilt_once(tmp_path, monkeypatch, stale):
    """A copied cache or a hand-built file under the expected name: replaced by a fresh build."""
    monkeypatch.setattr(kernel_build, "SOURCE", _write(tmp_path / "attention.c", CURRENT_STUB_C))
    cache = tmp_path / "cache"
    target = cache / library_name(kernel_build.SOURCE.read_bytes(), find_compiler())
    _compile_tiny(stale, target)
    compiles = _count_compiles(monkeypatch)
    result = build(cache)
    assert result.library is not None, result.reason
    assert result.path == target and compiles == [target]
    assert abi.bind(result.library, abi.VERSION_FUNCTION)() == abi.ABI_VERSION


@needs_compiler
@pytest.mark.parametrize("source,says", [
    (OTHER_VERSION_C, f"reports ABI version {OTHER_VERSION} but this HRM Studio needs version {abi.ABI_VERSION}"),
    (NO_VERSION_C, f"does not report its ABI version (this HRM Studio needs version {abi.ABI_VERSION})"),
], ids=["other-version", "no-version"])
def test_a_library_that_still_mismatches_after_the_rebuild_is_refused_with_a_reason(tmp_path, monkeypatch,
                                                                                     source, says):
    """A source out of step with the Python side: rebuilt once, then 'not available' and why."""
    monkeypatch.setattr(kernel_build, "SOURCE", _write(tmp_path / "attention.c", source))
    compiles = _count_compiles(monkeypatch)
    result = load(tmp_path / "cache")
    assert result.library is None and result.path is None
    assert says in result.reason and "rebuilding" in result.reason
    assert len(compiles) == 2
    # What the person sees: the Notice for 'auto', the ConfigError for 'native'.
    monkeypatch.setattr(model_factory.kernel_build, "load", lambda: result)
    monkeypatch.setattr(model_factory, "native_is_faster", lambda: True)  # where 'auto' would use it
    kernel, note = model_factory.attention_kernel("auto")
    assert kernel is None
    assert f"HRM Studio's fused attention kernel is not available: {result.reason}." in note
    with pytest.raises(ConfigError, match=re.escape(says)):
        model_factory.attention_kernel("native")





@needs_compiler
def test_a_library_lacking_an_entry_point_is_refused_by_name(tmp_path):
    target = tmp_path / "partial.so"
    _compile_tiny(CURRENT_STUB_C.replace("hrm_attention_backward", "renamed_backward"), target)
    assert abi.problem(ctypes.CDLL(str(target))) == "the compiled library lacks hrm_attention_backward"
