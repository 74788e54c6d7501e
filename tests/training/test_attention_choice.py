"""The attention_kernel setting: what each choice builds, the note when 'auto' falls back,
the error when 'native' cannot be had, and how a run reports both."""

from __future__ import annotations

import pytest

from hrm_studio.config import RunConfig
from hrm_studio.errors import ConfigError
from hrm_studio.kernels.build import KernelLibrary
from hrm_studio.model.fused_attention import FusedAttention
from hrm_studio.model.layers import Attention
from hrm_studio.training import model_factory
from hrm_studio.training.data_source import load_data
from hrm_studio.events import Failed, Finished, Notice, Started
from hrm_studio.training.model_factory import attention_kernel, build_head
from hrm_studio.training.trainer import Trainer

REASON = "no C compiler (cc, gcc or clang) was found on PATH"
KIND = "attention_kernel_unavailable"


@pytest.fixture(scope="module")
def built(built_kernel) -> KernelLibrary:
    result = built_kernel  # compiled once per test run (tests/conftest.py)
    if result.library is None:
        pytest.skip(f"the fused attention kernel cannot be built here: {result.reason}")
    return result


@pytest.fixture
def fast_cpu(monkeypatch) -> None:
    """A CPU where the kernel beats PyTorch's attention (AVX-512 or AVX2), whatever this one is."""
    monkeypatch.setattr(model_factory, "native_is_faster", lambda: True)


@pytest.fixture
def available(built, monkeypatch, fast_cpu) -> KernelLibrary:
    """The kernel loads (from a private cache folder, not the user's)."""
    monkeypatch.setattr(model_factory.kernel_build, "load", lambda: built)
    return built


@pytest.fixture
def unavailable(monkeypatch, fast_cpu) -> None:
    def load():
        return KernelLibrary(None, REASON)

    monkeypatch.setattr(model_factory.kernel_build, "load", load)


def test_auto_on_a_cpu_where_the_kernel_is_slower_uses_torch_without_building(monkeypatch):
    monkeypatch.setattr(model_factory, "native_is_faster", lambda: False)
    monkeypatch.setattr(model_factory.kernel_build, "load", lambda: pytest.fail("auto must not build it here"))
    assert attention_kernel("auto") == (None, "")


def test_avx512_and_avx2_count_as_cpus_where_the_kernel_is_faster(monkeypatch):
    for capability, faster in (("AVX512", True), ("AVX512_BF16", True), ("AVX2", True), ("DEFAULT", False),
                               ("SVE256", False), ("ZVECTOR", False)):
        monkeypatch.setattr(model_factory.torch.backends.cpu, "get_cpu_capability", lambda c=capability: c)
        assert model_factory.native_is_faster() is faster


def _attention_layers(head):
    layers = [m for m in head.model.modules() if isinstance(m, Attention)]
    assert layers
    return layers


def test_torch_never_builds_the_kernel(monkeypatch):
    monkeypatch.setattr(model_factory.kernel_build, "load", lambda: pytest.fail("torch must not build the kernel"))
    assert attention_kernel("torch") == (None, "")


@pytest.mark.parametrize("setting", ["auto", "native"])
def test_auto_and_native_use_the_kernel_when_it_loads(available, setting):
    kernel, note = attention_kernel(setting)
    assert isinstance(kernel, FusedAttention)
    assert note == ""


def test_auto_without_the_kernel_falls_back_with_a_note(unavailable):
    kernel, note = attention_kernel("auto")
    assert kernel is None
    assert REASON in note
    assert "same results" in note and "PyTorch" in note
    assert "C compiler" in note  # what would make it available


def test_native_without_the_kernel_is_a_config_error_that_says_what_to_do(unavailable):
    with pytest.raises(ConfigError) as caught:
        attention_kernel("native")
    message = str(caught.value)
    assert REASON in message
    assert "install" in message.lower() and "C compiler" in message
    assert "'auto'" in message and "'torch'" in message


@pytest.mark.parametrize("reason,says", [
    ("the compiled library reports ABI version 1 but this HRM Studio needs version 2, even after rebuilding "
     "it from attention.c", "reinstalling HRM Studio"),
    ("the built kernel could not be loaded (bad ELF), even after rebuilding it", "cache folder"),
    ("$CC ('nope') is not a program on PATH", "$CC"),
    ("the C compiler failed: error: bad flag", "another C compiler"),
    ("the kernel could not be built in /x (Permission denied)", "writable"),
], ids=["abi", "unloadable", "cc-unset", "compiler-failed", "cache-unwritable"])
def test_the_fix_fits_the_reason_and_only_a_missing_compiler_asks_to_install_one(monkeypatch, fast_cpu, reason,
                                                                               says):
    monkeypatch.setattr(model_factory.kernel_build, "load", lambda: KernelLibrary(None, reason))
    note = attention_kernel("auto")[1]
    assert reason in note and says in note
    assert "apt install" not in note


def test_build_head_with_torch_leaves_every_attention_on_sdpa(tiny_config, available):
    config = tiny_config.copy()
    config.train.attention_kernel = "torch"
    head = build_head(config, _hrm_config(config))
    assert all(layer.kernel is None for layer in _attention_layers(head))


def test_build_head_with_auto_puts_one_kernel_in_every_attention(tiny_config, available):
    config = tiny_config.copy()
    assert config.train.attention_kernel == "auto"  # the default
    head = build_head(config, _hrm_config(config))
    kernels = {id(layer.kernel) for layer in _attention_layers(head)}
    assert len(kernels) == 1
    assert isinstance(_attention_layers(head)[0].kernel, FusedAttention)


def test_build_head_with_auto_and_no_kernel_uses_sdpa(tiny_config, unavailable):
    head = build_head(tiny_config, _hrm_config(tiny_config))
    assert all(layer.kernel is None for layer in _attention_layers(head))


def _hrm_config(config: RunConfig):
    return model_factory.model_config(config, load_data(config).info)


def _fit(config, run_dir):
    events = []
    trainer = Trainer(config, run_dir, events.append)
    return trainer, trainer.fit(), events


def test_a_run_with_auto_and_no_kernel_says_so_once_and_finishes(tiny_config, tmp_path, unavailable):
    config = tiny_config.copy()
    config.train.epochs = 1
    trainer, result, events = _fit(config, tmp_path / "run")
    assert result.reason == "completed" and isinstance(events[-1], Finished)
    notices = [e for e in events if isinstance(e, Notice) and e.kind == KIND]
    assert len(notices) == 1
    notice = notices[0]
    assert REASON in notice.message and "same results" in notice.message
    assert notice.run_dir == str(tmp_path / "run")
    started = next(i for i, e in enumerate(events) if isinstance(e, Started))
    assert started < events.index(notice)
    assert all(layer.kernel is None for layer in _attention_layers(trainer.head))


def test_a_run_with_the_kernel_gives_no_notice_and_uses_it(tiny_config, tmp_path, available):
    config = tiny_config.copy()
    config.train.epochs = 1
    trainer, result, events = _fit(config, tmp_path / "run")
    assert result.reason == "completed"
    assert not [e for e in events if isinstance(e, Notice) and e.kind == KIND]
    assert all(isinstance(layer.kernel, FusedAttention) for layer in _attention_layers(trainer.head))


def test_a_run_asking_for_native_without_the_kernel_fails_with_the_config_error(tiny_config, tmp_path,
                                                                               unavailable):
    config = tiny_config.copy()
    config.train.epochs = 1
    config.train.attention_kernel = "native"
    events = []
    trainer = Trainer(config, tmp_path / "run", events.append)
    with pytest.raises(ConfigError) as caught:
        trainer.fit()
    failed = [e for e in events if isinstance(e, Failed)]
    assert len(failed) == 1
    # A person's mistake: shown as it is, not as a crash of HRM Studio.
    assert failed[0].message == str(caught.value)
    assert "Training crashed" not in failed[0].message
    assert REASON in failed[0].message and "'torch'" in failed[0].message
    assert not [e for e in events if isinstance(e, (Started, Finished))]


@pytest.mark.parametrize("value", ["auto", "native", "torch"])
def test_config_accepts_the_three_choices(value):
    config = RunConfig()
    config.set("attention_kernel", value)
    assert config.train.attention_kernel == value
    assert "attention_kernel" not in config.problems()
    config.validate()
    again = RunConfig()
    again.apply_overrides([f"attention_kernel={value}"])
    assert RunConfig.from_dict(again.to_dict()).train.attention_kernel == value


def test_config_rejects_other_choices_and_names_the_valid_ones():
    config = RunConfig()
    assert config.train.attention_kernel == "auto"
    config.set("attention_kernel", "fast")
    reason = config.problems()["attention_kernel"]
    assert "attention_kernel must be one of auto, native, torch" in reason and "'fast'" in reason
    with pytest.raises(ConfigError, match="attention_kernel must be one of auto, native, torch"):
        config.validate()
