"""From a RunConfig and the data's shape to a ready model with its loss head.

The run's ``arch`` setting picks the architecture in :mod:`hrm_studio.model.registry`, which
fills the architecture's config by field name from the model settings and the data's shape.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import torch
from torch import nn

from hrm_studio.config import RunConfig
from hrm_studio.data import TaskInfo
from hrm_studio.errors import ConfigError
from hrm_studio.kernels import build as kernel_build
from hrm_studio.model.fused_attention import FusedAttention
from hrm_studio.model.registry import architecture, build_model, build_model_config


def data_shape(config: RunConfig, info: TaskInfo, *, vocab_size: int | None = None,
               num_puzzle_identifiers: int | None = None) -> dict[str, int]:
    """The model settings that come from the data and the batch rather than the model section;
    vocabulary and identifiers may come from weights instead of the puzzles."""
    return {
        "batch_size": config.train.batch_size,
        "seq_len": info.seq_len,
        "vocab_size": info.vocab_size if vocab_size is None else vocab_size,
        "num_puzzle_identifiers": (info.num_puzzle_identifiers if num_puzzle_identifiers is None
                                   else num_puzzle_identifiers),
    }


def model_config(config: RunConfig, info: TaskInfo, *, vocab_size: int | None = None,
                 num_puzzle_identifiers: int | None = None) -> Any:
    """The config of the run's architecture (official field names), filled by name from the
    model settings and the data's shape."""
    shape = data_shape(config, info, vocab_size=vocab_size, num_puzzle_identifiers=num_puzzle_identifiers)
    return build_model_config(config.model.arch, asdict(config.model), **shape)


def kernel_fix(reason: str) -> str:
    """What would make the kernel available, for the reason kernels.build gave: installing a
    compiler only helps when none was found, so each kind of failure gets its own advice."""
    if reason.startswith("no C compiler"):
        return "Installing a C compiler (for example 'apt install gcc') makes it available."
    if reason.startswith("$CC"):
        return "Setting $CC to a C compiler on PATH, or unsetting it to use cc, gcc or clang, makes it available."
    if reason.startswith("the C compiler"):
        return "Pointing $CC at another C compiler (for example gcc or clang) may build it."
    if reason.startswith("the kernel could not be built in"):
        return "Making room on that disk, or making that folder writable, lets HRM Studio build it."
    if reason.startswith("the kernel source") or "ABI version" in reason or "lacks" in reason:
        return ("The kernel source installed with HRM Studio is missing or does not match its Python side; "
                "reinstalling HRM Studio should fix that.")
    return (f"Deleting the kernel cache folder ({kernel_build.default_cache_dir()}) makes HRM Studio build "
            f"the kernel afresh on the next run; if that does not help, reinstalling HRM Studio may.")


def native_is_faster() -> bool:
    """Whether this CPU runs the fused kernel faster than PyTorch's attention. The kernel has a
    16-lane path for AVX-512 (measured 1.3x faster there) and an 8-lane path for AVX2 (on a Zen 3
    EPYC, 2 threads: forward + backward at the seed presets' shapes 1.45-1.7x faster, forward 1.4-2.4x:
    ``python -m benchmarks attention``). Other CPUs (ARM, x86 without AVX2) get its portable
    build, never measured faster, so 'auto' leaves those on PyTorch's attention."""
    return torch.backends.cpu.get_cpu_capability().startswith(("AVX512", "AVX2"))


def attention_kernel(setting: str) -> tuple[FusedAttention | None, str]:
    """The attention kernel a run's ``attention_kernel`` setting asks for, and a note for the
    person when 'auto' had to fall back to torch ('' otherwise). 'native' without a kernel is
    an error: the person asked for it by name."""
    if setting == "torch" or (setting == "auto" and not native_is_faster()):
        return None, ""
    loaded = kernel_build.load()
    if loaded.library is None:
        missing = f"HRM Studio's fused attention kernel is not available: {loaded.reason}."
        fix = kernel_fix(loaded.reason)
        if setting == "native":
            raise ConfigError(f"{missing} {fix} Or set attention_kernel to 'auto' or 'torch' to use "
                              f"PyTorch's attention, which gives the same results more slowly.")
        return None, (f"{missing} Training uses PyTorch's attention instead, which gives the same results "
                      f"more slowly. {fix}")
    return FusedAttention(loaded.library), ""


def build_head(config: RunConfig, model_cfg: Any, device: torch.device | None = None) -> nn.Module:
    """The run's model and its loss head on `device` (the CPU by default), with HRM Studio's
    attention kernel where the ``attention_kernel`` setting and the machine allow. The kernel is
    a CPU kernel: on a GPU attention is PyTorch's SDPA (flash attention where the GPU has it)."""
    model = build_model(config.model.arch, model_cfg)
    on_cpu = device is None or device.type == "cpu"
    if on_cpu:
        model.use_attention_kernel(attention_kernel(config.train.attention_kernel)[0])
    elif config.train.attention_kernel == "native":
        raise ConfigError(f"attention_kernel 'native' is HRM Studio's CPU kernel, but this run computes on "
                          f"{device}. Set attention_kernel to 'auto' or 'torch' (PyTorch's attention, the "
                          f"fast one on a GPU), or device to 'cpu'.")
    else:
        model.to(device)
    return architecture(config.model.arch).loss_head(model, config.model.loss_type)
