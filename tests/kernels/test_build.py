"""Kernel build: compiled once into the cache folder and reused; every failure is a reason, not a crash."""

from __future__ import annotations

import os
import re
import stat

import pytest

from hrm_studio.kernels import build as kernel_build
from hrm_studio.kernels.build import KernelLibrary, build, find_compiler, library_name

needs_compiler = pytest.mark.skipif(find_compiler() is None, reason="no C compiler on this machine")


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def _script(path, body: str):
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@needs_compiler
def test_build_compiles_into_the_cache_folder_and_a_second_build_reuses_the_file(tmp_path, stub_source):
    cache = tmp_path / "cache" / "kernels"  # not there yet: build makes it
    first = build(cache)
    assert first.library is not None, first.reason
    assert first.reason == ""
    assert first.path is not None and first.path.parent == cache and first.path.is_file()
    assert re.fullmatch(r"attention-[0-9a-f]{16}\.so", first.path.name)
    assert first.library.hrm_attention_forward and first.library.hrm_attention_backward
    assert _files(cache) == [first.path.name]  # no ".building-" leftovers
    mtime = first.path.stat().st_mtime_ns

    second = build(cache)
    assert second.library is not None
    assert second.path == first.path
    assert first.path.stat().st_mtime_ns == mtime  # loaded, not compiled again
    assert _files(cache) == [first.path.name]


@needs_compiler
def test_a_changed_source_is_built_under_a_new_name(tmp_path, monkeypatch, stub_source):
    cache = tmp_path / "cache"
    original = build(cache)
    assert original.library is not None, original.reason
    edited = tmp_path / "attention.c"
    edited.write_bytes(stub_source.read_bytes() + b"\n/* edited */\n")
    monkeypatch.setattr(kernel_build, "SOURCE", edited)
    rebuilt = build(cache)
    assert rebuilt.library is not None, rebuilt.reason
    assert rebuilt.path != original.path
    assert _files(cache) == sorted([original.path.name, rebuilt.path.name])


def test_a_missing_compiler_gives_no_library_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    assert find_compiler() is None
    result = build(tmp_path / "cache")
    assert result.library is None and result.path is None
    assert "compiler" in result.reason
    assert not (tmp_path / "cache").exists()  # nothing written when there is nothing to build with


def test_a_failing_compiler_gives_no_library_and_its_first_error_line(tmp_path, monkeypatch):
    failing = _script(tmp_path / "broken-cc", 'echo "broken-cc: fatal error: no licence" >&2\n'
                                              'echo "second line" >&2\nexit 1')
    monkeypatch.setenv("CC", str(failing))
    assert find_compiler() == [str(failing)]
    cache = tmp_path / "cache"
    result = build(cache)
    assert result.library is None and result.path is None
    assert result.reason.startswith("the C compiler failed")
    assert "no licence" in result.reason and "second line" not in result.reason
    assert _files(cache) == []  # the half-built temporary file is removed


def test_a_silent_failing_compiler_still_gives_a_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("CC", str(_script(tmp_path / "quiet-cc", "exit 1")))
    result = build(tmp_path / "cache")
    assert result.library is None
    assert "the C compiler failed" in result.reason


@needs_compiler
def test_a_cache_folder_that_cannot_be_made_gives_a_reason_not_an_exception(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    cache = blocker / "kernels"
    result = build(cache)
    assert isinstance(result, KernelLibrary)
    assert result.library is None and result.path is None
    assert result.reason and str(cache) in result.reason


@needs_compiler
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_a_read_only_cache_folder_gives_a_reason_not_an_exception(tmp_path):
    cache = tmp_path / "read-only"
    cache.mkdir()
    cache.chmod(0o500)
    try:
        result = build(cache)
    finally:
        cache.chmod(0o700)
    assert result.library is None and "could not be built" in result.reason


def test_library_name_depends_on_the_source_bytes_and_the_compiler():
    source = b"int f(void) { return 1; }"
    name = library_name(source, ["/usr/bin/cc"])
    assert re.fullmatch(r"attention-[0-9a-f]{16}\.so", name)
    assert library_name(source, ["/usr/bin/cc"]) == name  # stable
    assert library_name(source + b" ", ["/usr/bin/cc"]) != name
    assert library_name(b"int f(void) { return 2; }", ["/usr/bin/cc"]) != name
    assert library_name(source, ["/usr/bin/clang"]) != name


def test_cc_may_carry_arguments_and_a_missing_one_is_named(tmp_path, monkeypatch):
    wrapper = _script(tmp_path / "wrap", 'exec "$@"')
    monkeypatch.setenv("CC", f"{wrapper} cc")
    assert find_compiler() == [str(wrapper), "cc"]
    monkeypatch.setenv("CC", "no-such-ccache gcc")
    result = build(tmp_path / "cache")
    assert result.library is None and "no-such-ccache" in result.reason


@needs_compiler
def test_a_compiler_without_openmp_still_builds_the_kernel(tmp_path, monkeypatch, stub_source):
    real = find_compiler()
    assert real is not None
    no_openmp = _script(tmp_path / "no-openmp-cc",
                        'for a in "$@"; do [ "$a" = "-fopenmp" ] && { echo "unsupported option -fopenmp" >&2; exit 1; }; done\n'
                        f'exec {" ".join(real)} "$@"')
    monkeypatch.setenv("CC", str(no_openmp))
    result = build(tmp_path / "cache")
    assert result.library is not None, result.reason


@needs_compiler
def test_a_damaged_cached_library_is_rebuilt(tmp_path, stub_source):
    cache = tmp_path / "cache"
    first = build(cache)
    assert first.library is not None and first.path is not None
    damaged = tmp_path / "cache2"
    damaged.mkdir()
    (damaged / first.path.name).write_bytes(b"")  # a build cut short left an empty file
    result = build(damaged)
    assert result.library is not None, result.reason
    assert (damaged / first.path.name).stat().st_size > 0
