"""The folder a data-set builder writes into: one rule for every builder (ARC, CSV imports)."""

from __future__ import annotations

from pathlib import Path

from hrm_studio.errors import DatasetError


def prepare_out_dir(out: Path, overwrite: bool, what: str = "the data set") -> Path:
    """`out`, created if needed; refused when it is a file or a non-empty folder (unless
    `overwrite`), so a builder never mixes its files into someone else's."""
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} is a file; choose a folder for {what}.")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise DatasetError(f"The folder {out} is not empty; choose a new folder or allow overwriting.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"Cannot create the folder {out}: {exc.strerror or exc}.") from exc
    return out
