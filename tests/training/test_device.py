"""The `device` setting: resolved against the machine, refused in one sentence when absent, and
checkpoints that do not depend on it."""

from __future__ import annotations

import pytest
import torch

from hrm_studio.config import RunConfig
from hrm_studio.errors import ConfigError
from hrm_studio.training import checkpoint as ckpt
from hrm_studio.training.device import resolve_device


def _machine(monkeypatch: pytest.MonkeyPatch, gpus: int, mps: bool = False) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    _machine(monkeypatch, gpus=2, mps=True)
    assert resolve_device("auto") == torch.device("cuda", 0)
    assert resolve_device("auto", local_rank=3) == torch.device("cuda", 1)  # each process its own GPU
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    _machine(monkeypatch, gpus=0, mps=True)
    assert resolve_device("auto") == torch.device("mps")
    _machine(monkeypatch, gpus=0)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("setting, words", [("cuda", "no CUDA GPU"), ("cuda:0", "no CUDA GPU"),
                                            ("mps", "no Apple GPU")])
def test_a_device_that_is_not_there_is_one_sentence(monkeypatch: pytest.MonkeyPatch, setting: str,
                                                    words: str) -> None:
    _machine(monkeypatch, gpus=0)
    with pytest.raises(ConfigError, match=words) as caught:
        resolve_device(setting)
    assert "'auto'" in str(caught.value) and "\n" not in str(caught.value)


def test_a_gpu_number_past_the_last_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _machine(monkeypatch, gpus=1)
    with pytest.raises(ConfigError, match="has 1 CUDA GPU "):
        resolve_device("cuda:1")


def test_the_setting_is_checked_with_the_others() -> None:
    config = RunConfig()
    config.set("device", "gpu")
    assert "device" in config.problems()
    config.set("device", "cuda:2")
    assert "device" not in config.problems()
    assert config.to_dict()["train"]["device"] == "cuda:2"  # kept in the run's config.json


def test_a_checkpoint_saved_from_a_gpu_loads_on_the_cpu(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose tensors are tagged cuda:0 (as a GPU run's file would be, made here without a GPU
    by a storage tagger that says so) loads on the CPU."""
    import torch.serialization as ser

    registry = list(ser._package_registry)
    monkeypatch.setattr(ser, "_package_registry", sorted(registry + [(1, lambda obj: "cuda:0",
                                                                      lambda obj, where: None)],
                                                         key=lambda entry: entry[0]))
    path = tmp_path / "gpu.pt"
    torch.save({"w": torch.ones(2, 3)}, path)
    monkeypatch.setattr(ser, "_package_registry", registry)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(path, weights_only=True)  # the file really claims a GPU
    loaded = ckpt.torch_load_safely(path)   # what every checkpoint reader (resume, weights, eval) opens with
    assert loaded["w"].device.type == "cpu" and float(loaded["w"].sum()) == 6.0


def test_checkpoints_are_saved_device_free(tmp_path) -> None:
    """Every tensor of a payload goes to the CPU before it is written (a GPU run's included)."""
    class OnGpu(torch.Tensor):
        """A CPU tensor that says where a GPU run's tensor would be, and moves like one."""

        moved = 0

        def cpu(self, *a, **kw):  # noqa: ANN001
            OnGpu.moved += 1
            return torch.Tensor.cpu(self.as_subclass(torch.Tensor))

    gpu_tensor = torch.ones(2).as_subclass(OnGpu)
    saved = ckpt.on_cpu({"model": {"w": gpu_tensor}, "optimizer": {"state": {0: {"exp_avg": gpu_tensor}}},
                         "history": [1, 2]})
    assert OnGpu.moved == 2 and type(saved["model"]["w"]) is torch.Tensor
    assert type(saved["optimizer"]["state"][0]["exp_avg"]) is torch.Tensor and saved["history"] == [1, 2]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_cuda_checkpoint_loads_on_the_cpu(tmp_path) -> None:
    path = tmp_path / "cuda.pt"
    torch.save({"w": torch.ones(2, device="cuda")}, path)
    assert ckpt.torch_load_safely(path)["w"].device.type == "cpu"


@pytest.mark.parametrize("has_bf16", [False, True])
def test_a_bfloat16_run_on_a_cpu_without_bf16_instructions_is_told_why_it_is_slow(
        tiny_config, tmp_path, monkeypatch: pytest.MonkeyPatch, has_bf16: bool) -> None:
    from hrm_studio.events import Notice
    from hrm_studio.training.trainer import Trainer

    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: has_bf16)
    config = tiny_config.copy()
    config.train.epochs = 1
    config.model.forward_dtype = "bfloat16"
    notices: list[Notice] = []
    Trainer(config, tmp_path / "run", on_event=lambda e: notices.append(e) if isinstance(e, Notice) else None).fit()
    emulated = [n for n in notices if n.kind == "bfloat16_emulated"]
    assert len(emulated) == (0 if has_bf16 else 1)
    if emulated:
        assert "float32" in emulated[0].message and "slower" in emulated[0].message
