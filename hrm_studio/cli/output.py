"""How the commands print: one line per epoch, percentages, and a reader that went away."""

from __future__ import annotations

import os
import sys
from typing import Any

from hrm_studio.runstore.keys import HistoryKey


def pct(value: Any) -> str:
    return "  –  " if value is None else f"{100 * value:5.1f}%"


def format_epoch(row: dict[str, Any], epochs: int) -> str:
    """One readable line per epoch."""
    k = HistoryKey
    parts = [f"epoch {row[k.EPOCH]:>3}/{epochs}",
             f"loss {row[k.LOSS]:.4f}" if row.get(k.LOSS) is not None else "loss –",
             f"tok {pct(row.get(k.TOKEN_ACCURACY))}",
             f"exact {pct(row.get(k.EXACT))}"]
    if row.get(k.VAL_EXACT) is not None:
        parts.append(f"| held-out tok {pct(row.get(k.VAL_TOKEN_ACCURACY))} "
                     f"exact {pct(row.get(k.VAL_EXACT))} "
                     f"(at halt {pct(row.get(k.VAL_EXACT_AT_HALT))})")
    parts.append(f"| lr {row[k.LEARNING_RATE]:.2e} {row[k.EPOCH_SECONDS]:.1f}s "
                 f"{row[k.SAMPLES_PER_SECOND]:.0f} samples/s")
    return "  ".join(parts)


def reader_went_away() -> int:
    """stdout's reader closed the pipe (`hrm-studio presets | head`): what it wanted it has, so
    end quietly; stdout goes to /dev/null so that the flush at exit cannot fail once more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 0
