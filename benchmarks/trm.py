"""TRM's training speed against upstream's step (issue 18): a TRM-sized model (upstream's
config/arch/trm.yaml: hidden 512, 8 heads, expansion 4, 2 layers, H_cycles 3, L_cycles 6, 16 prefix
positions, 16 ACT steps, stablemax; float32 on a CPU) on the 30×30 canvas and on Sudoku 9×9, ours and
the plain-PyTorch reference (``reference_trm.py``, SDPA attention) timed alternately in one process
from the same weights, after a check that both compute the same loss (see official.py)."""

from __future__ import annotations

from typing import Iterator

from benchmarks.core import Figure
from benchmarks.official import race

# Upstream's TRM (trm-spec.md "Defaults") with upstream's optimiser settings, AdamW for AdamATan2.
TRM_SIZED = {"arch": "trm", "hidden_size": 512, "num_heads": 8, "expansion": 4.0, "L_layers": 2, "H_cycles": 3,
             "L_cycles": 6, "puzzle_emb_ndim": 512, "puzzle_emb_len": 16, "halt_max_steps": 16,
             "halt_exploration_prob": 0.1, "pos_encodings": "rope", "loss_type": "stablemax_cross_entropy",
             "optimizer": "adamw", "lr": 1e-4, "beta2": 0.95, "weight_decay": 0.1}
CANVAS = {"task": "copy-increment", "encoding": "canvas", "grid_size": 5, "train_size": 8, "test_size": 2,
          "shared_identifier": True, "batch_size": 1}
SUDOKU = {"task": "sudoku-9x9", "train_size": 16, "test_size": 4, "batch_size": 4}
WHAT = "TRM-sized (h512, 8 heads, 2 layers, 3×6 cycles, 16 prefix positions, AdamW)"


def trm_figures(threads: int = 2) -> Iterator[Figure]:
    yield from race("TRM 30×30", None, {**TRM_SIZED, **CANVAS}, 1.3, 3,
                    f"{WHAT}, the seed's 30×30 canvas (916 positions)", "issue 18", threads)
    yield from race("TRM Sudoku 9×9", None, {**TRM_SIZED, **SUDOKU}, 1.3, 6,
                    f"{WHAT}, Sudoku 9×9 (97 positions)", "issue 18", threads)
