"""Export a checkpoint's weights as .pt, .safetensors (+ config JSON) or an official HRM folder.

Runs on a JobRunner thread (it imports torch and may write a large file); the same
`export_weights` the `hrm-studio export` command uses does the writing.
"""

from __future__ import annotations

from pathlib import Path

from hrm_studio.config import RunConfig

MODEL_FORMATS = {
    "pt": "HRM Studio checkpoint (*.pt)",
    "safetensors": "safetensors weights + config JSON (*.safetensors)",
    "hrm": "Official HRM folder (step_N + all_config.yaml)",
}


def format_for_filter(selected_filter: str) -> str:
    return next((fmt for fmt, text in MODEL_FORMATS.items() if text == selected_filter), "pt")


def normalise_target(path: str | Path, fmt: str) -> Path:
    """Add the format's extension when the name has none (a folder for 'hrm')."""
    path = Path(path)
    if fmt in ("pt", "safetensors") and path.suffix.lower() != f".{fmt}":
        path = path.with_name(path.name + f".{fmt}")
    return path


def export_model(checkpoint: Path, fmt: str, out: Path, fallback: RunConfig) -> list[Path]:
    """Write the weights in `checkpoint` as `fmt` to `out`; returns the files written."""
    from hrm_studio.training import checkpoint as ckpt

    loaded = ckpt.read_weights(checkpoint)
    config = RunConfig.from_dict(loaded.config, base=fallback) if loaded.config else fallback.copy()
    ckpt.check_config_against_weights(config, loaded.state_dict, checkpoint)
    payload = {k: v for k, v in (loaded.payload or {}).items() if k not in ("format", "version")}
    step = int(payload.get("global_step", 0))
    return ckpt.export_weights(loaded.state_dict, config, fmt, normalise_target(out, fmt), step=step,
                               payload=payload)
