"""What the window remembers between sessions, in one JSON file in the user config folder.

Geometry, dock layout, the last settings, up to ten recent checkpoints / run folders and the
interrupted runs whose resume offer was dismissed.
A file that cannot be read is ignored (the window starts fresh), and recent entries
whose path has gone are pruned, so a stale file never stops the app from opening.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import platformdirs

from hrm_studio.runstore.atomic import atomic_write_text

MAX_RECENT = 10
RECENT_KINDS = ("checkpoint", "run")
MAX_DISMISSED = 100


def default_state_path() -> Path:
    return Path(platformdirs.user_config_dir("hrm-studio")) / "studio.json"


class UserState:
    """Load once, edit in memory, `save()` on close. `path=None` keeps it in memory only."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._data: dict[str, Any] = self._load()

    @classmethod
    def for_user(cls) -> "UserState":
        return cls(default_state_path())

    def _load(self) -> dict[str, Any]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def save(self) -> None:
        if self.path is None:
            return
        try:
            atomic_write_text(self.path, json.dumps(self._data, indent=2) + "\n")
        except OSError:
            pass  # remembering the layout is a convenience; never fail a close over it

    # ----- window layout ------------------------------------------------------------------
    def blob(self, key: str) -> bytes | None:
        text = self._data.get(key)
        if not isinstance(text, str):
            return None
        try:
            return base64.b64decode(text.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            return None

    def set_blob(self, key: str, value: bytes) -> None:
        self._data[key] = base64.b64encode(bytes(value)).decode("ascii")

    # ----- last settings --------------------------------------------------------------------
    @property
    def last_config(self) -> dict[str, Any] | None:
        value = self._data.get("last_config")
        return value if isinstance(value, dict) else None

    @last_config.setter
    def last_config(self, value: dict[str, Any]) -> None:
        self._data["last_config"] = value

    # ----- recent checkpoints and runs ------------------------------------------------------
    def recent(self) -> list[dict[str, str]]:
        """Newest first; entries whose file or folder no longer exists are dropped."""
        items = self._data.get("recent")
        if not isinstance(items, list):
            items = []
        kept = [item for item in items
                if isinstance(item, dict) and item.get("kind") in RECENT_KINDS
                and isinstance(item.get("path"), str) and Path(item["path"]).exists()]
        kept = kept[:MAX_RECENT]
        self._data["recent"] = kept
        return [dict(item) for item in kept]

    def add_recent(self, path: str | Path, kind: str) -> None:
        path = str(Path(path).resolve())
        items = [i for i in self.recent() if i["path"] != path]
        items.insert(0, {"path": path, "kind": kind, "time": time.strftime("%Y-%m-%d %H:%M")})
        self._data["recent"] = items[:MAX_RECENT]

    # ----- interrupted runs the user chose not to resume -------------------------------------
    def dismissed_epoch(self, run: str | Path) -> int | None:
        """The epoch a run was at when its resume offer was dismissed; None if never dismissed."""
        items = self._data.get("dismissed_runs")
        value = items.get(str(Path(run).resolve())) if isinstance(items, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def dismiss_run(self, run: str | Path, epoch: int) -> None:
        """Remember not to offer `run` again while it stays at `epoch` (a later interruption
        at another epoch is offered again). Runs whose folder has gone are forgotten."""
        items = self._data.get("dismissed_runs")
        kept = {path: value for path, value in items.items() if Path(path).exists()} \
            if isinstance(items, dict) else {}
        kept[str(Path(run).resolve())] = int(epoch)
        self._data["dismissed_runs"] = dict(list(kept.items())[-MAX_DISMISSED:])

    # ----- extra folders the run library lists (Runs tab → Add folder…) ---------------------
    def library_folders(self) -> list[str]:
        """Folders added to the run library, oldest first; ones that have gone are dropped."""
        items = self._data.get("library_folders")
        kept = [p for p in items if isinstance(p, str) and Path(p).is_dir()] if isinstance(items, list) else []
        self._data["library_folders"] = kept
        return list(kept)

    def add_library_folder(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        if path not in self.library_folders():
            self._data["library_folders"].append(path)

    def remove_library_folder(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        self._data["library_folders"] = [p for p in self.library_folders() if p != path]

    def rename_library_folder(self, old: str | Path, new: str | Path) -> None:
        """A listed run folder was renamed: list it under its new name."""
        old_text = str(Path(old).resolve())
        items = self._data.get("library_folders")
        if isinstance(items, list) and old_text in items:
            items[items.index(old_text)] = str(Path(new).resolve())
