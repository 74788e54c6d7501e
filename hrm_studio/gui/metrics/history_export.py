"""Save a run's history (one row per epoch) as CSV or JSON, for a spreadsheet or a script.

CSV columns are every key any row has, `epoch` first and then in the order they first
appear; a list value (e.g. exact match per ACT segment) is written as JSON text in its cell.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Iterable

from hrm_studio.errors import UserError
from hrm_studio.runstore.atomic import atomic_write_text
from hrm_studio.runstore.keys import HistoryKey

HISTORY_FORMATS = {"csv": "History as CSV (*.csv)", "json": "History as JSON (*.json)"}


def columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {str(HistoryKey.EPOCH): None}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value)
    return value


def history_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    names = columns(rows)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        writer.writerow([_cell(row.get(name)) for name in names])
    return buffer.getvalue()


def save_history(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """By the file's extension: .csv or .json."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = history_csv(rows)
    elif suffix == ".json":
        text = json.dumps(rows, indent=2) + "\n"
    else:
        raise UserError(f"History can be saved as .csv or .json, not '{suffix or 'no extension'}'.")
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise UserError(f"Could not write {path}: {exc.strerror or exc}.") from None
    return path
