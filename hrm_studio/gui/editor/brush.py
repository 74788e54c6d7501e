"""What the puzzle editor may paint, where, and which key means which token (no Qt).

The palette is the set of tokens the task's own inputs use (ARC colours, Sudoku's blank and
digits, a maze's walls, floor, S and G), never PAD or an ARC grid's EOS frame: those are not
puzzle content, and a model never saw them inside a grid. A key types the token whose label it
is ("3" is the digit 3 in a Sudoku, colour 3 in an ARC grid, "#" a maze wall); other digits pick
the palette's n-th entry, and Delete or Backspace the first (a Sudoku blank, colour 0).
"""

from __future__ import annotations

import numpy as np

from hrm_studio.data.grid import EOS, PAD
from hrm_studio.data.puzzle_set import PuzzleSet


def palette_tokens(task: dict, splits: dict[str, PuzzleSet]) -> list[int]:
    """Tokens the task's inputs use, PAD and an ARC frame's EOS left out, in id order."""
    seen: set[int] = set()
    for puzzles in splits.values():
        if len(puzzles):
            seen.update(int(t) for t in np.unique(puzzles.inputs))
    seen.discard(PAD)
    if task.get("display") == "colour":
        seen.discard(EOS)
    if not seen:   # a split with no puzzles: every token but PAD
        seen = set(range(1, len(task.get("vocab_labels") or [])))
    return sorted(seen)


def editable_cells(task: dict, inputs: np.ndarray) -> np.ndarray:
    """bool [S]: cells that are puzzle content (not PAD, not an ARC grid's EOS frame)."""
    inputs = np.asarray(inputs)
    editable = inputs != PAD
    if task.get("display") == "colour":
        editable &= inputs != EOS
    return editable


def token_for_key(text: str, tokens: list[int], labels: list[str]) -> int | None:
    """The token a typed key means (see the module docstring), None when it means none."""
    if not text or not tokens:
        return None
    if text == "\b":
        return tokens[0]
    for token in tokens:
        if token < len(labels) and labels[token] == text:
            return token
    if text.isdigit() and 1 <= int(text) <= len(tokens):
        return tokens[int(text) - 1]
    return None


def blank_inputs(task: dict, template: np.ndarray, tokens: list[int]) -> np.ndarray:
    """`template` with every editable cell set to the first palette token (a blank Sudoku, colour 0,
    all walls), keeping its frame and size."""
    out = np.array(template, copy=True)
    out[editable_cells(task, template)] = tokens[0]
    return out
