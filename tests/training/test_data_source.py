"""A preset's ARC data set: the preset resolves to its folder, the run's first data load builds it."""

from __future__ import annotations

import pytest

from hrm_studio.costs import check_memory
from hrm_studio.data.arc import prepared
from hrm_studio.data.arc.prepared import datasets_root
from hrm_studio.errors import DatasetError
from hrm_studio.presets import ARC_MINI, preset_config
from hrm_studio.training.data_source import load_data, shape_of
from hrm_studio.validation import validate


def test_the_arc_preset_builds_its_data_on_first_load_and_reuses_it_after(monkeypatch):
    config = validate(preset_config("arc-agi-1-mini"))
    folder = ARC_MINI.folder()
    assert config.data.dataset_dir == str(folder) and folder.parent == datasets_root()  # the (test) user's data
    assert not folder.exists()
    data = load_data(config, check=True)
    assert (len(data.train), len(data.test), data.info.seq_len) == (144, 54, 900)  # 16 demos and 6 tests × 9
    assert data.info.num_puzzle_identifiers == 1 + 6 * 9
    check_memory(config, shape_of(data), available=4 * 2**30)   # fits a laptop with 4 GiB free

    def no_build(*args, **kwargs):
        raise AssertionError("the preset's folder is built once")

    monkeypatch.setattr(prepared, "build_arc_dataset", no_build)
    assert len(load_data(config).test) == 54


def test_a_folder_no_preset_names_is_never_built(tmp_path):
    config = preset_config("arc-agi-1-mini")
    config.set("dataset_dir", str(tmp_path / "missing"))
    with pytest.raises(DatasetError):
        load_data(config)
    assert not (tmp_path / "missing").exists()
