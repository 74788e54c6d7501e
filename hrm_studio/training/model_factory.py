"""From a RunConfig and the data's shape to a ready HRM with its loss head."""

from __future__ import annotations

from hrm_studio.config import RunConfig
from hrm_studio.data import TaskInfo
from hrm_studio.errors import ConfigError
from hrm_studio.kernels import build as kernel_build
from hrm_studio.model import ACTLossHead, HRM, HRMConfig
from hrm_studio.model.fused_attention import FusedAttention


def hrm_config(config: RunConfig, info: TaskInfo, *, vocab_size: int | None = None,
               num_puzzle_identifiers: int | None = None) -> HRMConfig:
    """The official-named model config; vocabulary and identifiers may come from weights."""
    m = config.model
    return HRMConfig(
        batch_size=config.train.batch_size,
        seq_len=info.seq_len,
        vocab_size=vocab_size if vocab_size is not None else info.vocab_size,
        num_puzzle_identifiers=(num_puzzle_identifiers if num_puzzle_identifiers is not None
                                else info.num_puzzle_identifiers),
        puzzle_emb_ndim=m.puzzle_emb_ndim,
        H_cycles=m.H_cycles, L_cycles=m.L_cycles, H_layers=m.H_layers, L_layers=m.L_layers,
        hidden_size=m.hidden_size, expansion=m.expansion, num_heads=m.num_heads,
        pos_encodings=m.pos_encodings, rms_norm_eps=m.rms_norm_eps, rope_theta=m.rope_theta,
        halt_max_steps=m.halt_max_steps, halt_exploration_prob=m.halt_exploration_prob,
        forward_dtype=m.forward_dtype,
    )


def attention_kernel(setting: str) -> tuple[FusedAttention | None, str]:
    """The attention kernel a run's ``attention_kernel`` setting asks for, and a note for the
    person when 'auto' had to fall back to torch ('' otherwise). 'native' without a kernel is
    an error: the person asked for it by name."""
    if setting == "torch":
        return None, ""
    loaded = kernel_build.load()
    if loaded.library is None:
        missing = f"HRM Studio's fused attention kernel is not available: {loaded.reason}."
        fix = "Installing a C compiler (for example 'apt install gcc') makes it available."
        if setting == "native":
            raise ConfigError(f"{missing} {fix} Or set attention_kernel to 'auto' or 'torch' to use "
                              f"PyTorch's attention, which gives the same results more slowly.")
        return None, (f"{missing} Training uses PyTorch's attention instead, which gives the same results "
                      f"more slowly. {fix}")
    return FusedAttention(loaded.library), ""


def build_head(config: RunConfig, hrm_cfg: HRMConfig) -> ACTLossHead:
    """The model and its loss head, with HRM Studio's attention kernel where the
    ``attention_kernel`` setting and the machine allow."""
    model = HRM(hrm_cfg)
    model.use_attention_kernel(attention_kernel(config.train.attention_kernel)[0])
    return ACTLossHead(model, config.model.loss_type)
