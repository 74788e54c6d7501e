"""Kernel test helpers: a stand-in for attention.c that compiles in milliseconds.

Compiling the real kernel takes 10-30 s on a small machine; the cache, rebuild and ABI tests
only need *a* source with the current ABI, so they build this one. The real kernel is built
once per test session (the shared cache folder, tests/conftest.py) by the tests that use it.
"""

from __future__ import annotations

import pytest

from hrm_studio.kernels import abi
from hrm_studio.kernels import build as kernel_build

NO_VERSION_C = "int hrm_attention_has_bf16(void) { return 0; }\n"
# The current version and every entry point (each refusing every shape).
CURRENT_STUB_C = (f"int hrm_attention_abi_version(void) {{ return {abi.ABI_VERSION}; }}\n{NO_VERSION_C}"
                  "int hrm_attention_forward(void) { return 1; }\nint hrm_attention_backward(void) { return 1; }\n")


@pytest.fixture
def stub_source(tmp_path, monkeypatch):
    """`build()` compiles the stand-in instead of attention.c; returns its path."""
    source = tmp_path / "src" / "attention.c"
    source.parent.mkdir()
    source.write_text(CURRENT_STUB_C)
    monkeypatch.setattr(kernel_build, "SOURCE", source)
    return source
