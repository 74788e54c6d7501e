"""Export a checkpoint's weights as .pt, .safetensors (+ config JSON) or an official HRM or TRM folder.

Runs on a JobRunner thread (it imports torch and may write a large file); the same
`export_weights` the `hrm-studio export` command uses does the writing. Before that, the
window refuses an export that would replace a file the person did not name
(`unnamed_existing`): the JSON beside a .safetensors can be a run's config.json.
"""

from __future__ import annotations

from pathlib import Path

from hrm_studio.config import RunConfig
from hrm_studio.gui.widgets.words import count

def model_formats(arch: str) -> dict[str, str]:
    """The save dialog's formats (format → filter text) for a model of architecture `arch`: the official
    layout ('hrm', the format's name for either architecture) is named after the model it holds."""
    return {"pt": "HRM Studio checkpoint (*.pt)",
            "safetensors": "safetensors weights + config JSON (*.safetensors)",
            "hrm": f"Official {arch.upper()} folder (step_N + all_config.yaml)"}


def format_for_filter(selected_filter: str, arch: str) -> str:
    return next((fmt for fmt, text in model_formats(arch).items() if text == selected_filter), "pt")


def normalise_target(path: str | Path, fmt: str) -> Path:
    """Add the format's extension when the name has none (a folder for 'hrm')."""
    path = Path(path)
    if fmt in ("pt", "safetensors") and path.suffix.lower() != f".{fmt}":
        path = path.with_name(path.name + f".{fmt}")
    return path


def unnamed_existing(out: str | Path, fmt: str) -> list[Path]:
    """Files that exporting `fmt` to `out` would replace although `out` does not name them: the name
    with the format's extension added, the config JSON written beside a .safetensors, and whatever
    the folder of an official export (`hrm`: step_N + all_config.yaml) already holds. Mirrors
    `checkpoint.export_weights`, which imports torch, so the window can refuse before any work."""
    named = Path(out)
    target = normalise_target(named, fmt)
    if fmt == "hrm":
        return sorted(target.iterdir()) if target.is_dir() else []
    others = [target] if target != named else []
    if fmt == "safetensors":
        others.append(target.with_suffix(".json"))
    return [p for p in others if p.exists()]


def unnamed_refusal(out: str | Path, fmt: str, unnamed: list[Path]) -> str:
    """The banner's sentence when an export would replace files nobody chose."""
    if fmt == "hrm":
        return (f"Nothing was written: {out} is not empty ({count(len(unnamed), 'file or folder')}, e.g. "
                f"{unnamed[0].name}). "
                f"An official export goes into a new or empty folder: choose one.")
    names = ", ".join(p.name for p in unnamed)
    return (f"Nothing was written: saving to {out} would also replace {names}, which you did not choose. "
            f"Choose another name, or type the full name of the file to replace.")


def export_model(checkpoint: Path, fmt: str, out: Path, fallback: RunConfig) -> list[Path]:
    """Write the weights in `checkpoint` as `fmt` to `out`; returns the files written."""
    from hrm_studio.training import checkpoint as ckpt

    loaded = ckpt.read_weights(checkpoint)
    config = ckpt.settings_for(loaded, fallback)
    ckpt.check_config_against_weights(config, loaded.state_dict, checkpoint)
    payload = {k: v for k, v in (loaded.payload or {}).items() if k not in ("format", "version")}
    step = int(payload.get("global_step", 0))
    return ckpt.export_weights(loaded.state_dict, config, fmt, normalise_target(out, fmt), step=step,
                               payload=payload)
