"""Which torch device a run uses: the `device` setting resolved against this machine.

The setting is text (auto, cpu, cuda, cuda:N, mps) so one settings file travels from a laptop
to a GPU server; it is resolved here, once per run, and a device the machine does not have is
refused with one sentence before anything is built or written.
"""

from __future__ import annotations

import torch

from hrm_studio.config import DEVICE_SETTINGS
from hrm_studio.errors import ConfigError

__all__ = ["DEVICE_SETTINGS", "resolve_device", "evaluation_device", "describe_device", "to_device"]


def _cuda_count() -> int:
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _refuse(setting: str, why: str) -> ConfigError:
    return ConfigError(f"The device setting is '{setting}', but {why}. Set device to 'auto' (the best this "
                       f"machine has) or 'cpu', then start again.")


def resolve_device(setting: str, *, local_rank: int | None = None) -> torch.device:
    """The device `setting` names on this machine. auto: a CUDA GPU, else Apple's MPS, else the
    CPU. In a multi-process run `local_rank` picks each process's own GPU for 'auto' and 'cuda'."""
    setting = setting.strip().lower()
    gpus = _cuda_count()
    if setting == "auto":
        if gpus:
            return torch.device("cuda", (local_rank or 0) % gpus)
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if setting == "cpu":
        return torch.device("cpu")
    if setting == "mps":
        if not _mps_available():
            raise _refuse(setting, "PyTorch finds no Apple GPU (MPS) on this machine")
        return torch.device("mps")
    if setting == "cuda" or setting.startswith("cuda:"):
        if not gpus:
            raise _refuse(setting, "PyTorch finds no CUDA GPU on this machine (or this PyTorch was built "
                                   "without CUDA)")
        if setting == "cuda":
            return torch.device("cuda", (local_rank or 0) % gpus)
        index = int(setting.split(":", 1)[1])
        if local_rank is not None:
            raise ConfigError(f"The device setting is '{setting}', but a run over several processes gives "
                              f"each process its own GPU. Set device to 'cuda' or 'auto' for it.")
        if index >= gpus:
            raise _refuse(setting, f"this machine has {gpus} CUDA GPU{'s' if gpus != 1 else ''} "
                                   f"(numbered from 0)")
        return torch.device("cuda", index)
    raise ConfigError(f"The device setting must be one of {', '.join(DEVICE_SETTINGS)}, not '{setting}'.")


def evaluation_device(setting: str) -> torch.device:
    """Where to score weights: the setting's device when this machine has it, else the best it has
    (a checkpoint trained on a GPU server is evaluated on a laptop without being told to)."""
    try:
        return resolve_device(setting)
    except ConfigError:
        return resolve_device("auto")


def describe_device(device: torch.device) -> str:
    """A short name for people: 'CPU', 'CUDA 0 (NVIDIA H100 80GB HBM3)', 'MPS'."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"CUDA {index} ({torch.cuda.get_device_name(index)})"
    return device.type.upper()


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    """The batch's tensors on `device` (the same dict's tensors when they are there already)."""
    if device.type == "cpu":
        return batch
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def bfloat16_note(forward_dtype: str, device: torch.device) -> str:
    """A warning for a bfloat16 run on a CPU without bfloat16 instructions, where torch emulates
    them: measured 5x slower than float32 on an AVX2 CPU (README, Performance); '' otherwise."""
    if forward_dtype != "bfloat16" or device.type != "cpu" or torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return ""
    return ("This CPU has no bfloat16 instructions, so torch emulates bfloat16 and training runs several "
            "times slower than in float32 (measured 5x on an AVX2 CPU). Set forward_dtype to float32 for "
            "speed; bfloat16 pays on GPUs and on CPUs with AVX512-BF16 or AMX.")
