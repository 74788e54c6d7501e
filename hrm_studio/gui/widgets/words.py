"""Counted nouns for the window's sentences: "1 epoch", "2 epochs", "1 cell changed"."""

from __future__ import annotations

IRREGULAR = {"file or folder": "files or folders"}


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and `noun` in the number it takes ("1 run", "0 runs", "3 runs")."""
    n = int(n)
    many = plural or IRREGULAR.get(noun) or (noun + "es" if noun.endswith(("s", "sh", "x")) else noun + "s")
    return f"{n:,} {noun if n == 1 else many}"
