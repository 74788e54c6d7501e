"""Benchmark of the reasoning inspector's core (issue 20): one puzzle recomputed with every state recorded.

What the window waits for when a person picks a puzzle (or edits one): `trace_puzzle` on the
`seed` preset's model (30×30 canvas, 900 cells, hidden 64, 2 H × 2 L cycles) over its
6 segments — 12 high-level and 24 low-level updates, each decoded, residuals and PCA
computed. Issue 20 aims at ≤ 150 ms. The reference, timed in the same process and
alternated with it, is the same 6 segments run plainly through the ACT model (no recorder),
so the ratio is what recording and decoding add. Weights are random: the cost depends on
the shapes, not on what the model learned. Runs in a fresh process on ONE thread: on a
shared machine several threads spin-wait for each other and the figures say more about the
neighbours than about the code (CPU time is reported beside wall time for the same reason).
"""

from __future__ import annotations

import json
import time
from typing import Iterator

from benchmarks.core import Figure, _child, figure

PRESET = "seed"
REPEATS = 7
TARGET_MS = 150.0
TARGET_RATIO = 1.5
KEPT_TARGET_MS = 50.0


def _timed(fn) -> tuple[float, float]:  # noqa: ANN001 - a no-argument callable
    """(wall seconds, this process's CPU seconds, all threads): CPU time shows the work itself
    when other processes share the cores and stretch the wall time."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def _inspector_child(threads: int = 1) -> None:
    """In a fresh process: median seconds of the trace, the plain segments and one attention map; prints JSON."""
    import numpy as np
    import torch

    from hrm_studio.analysis import AttentionReplay, attention_map, trace_puzzle
    from hrm_studio.presets import preset_config
    from hrm_studio.training.data_source import load_data
    from hrm_studio.training.model_factory import build_head, model_config

    torch.set_num_threads(threads)
    config = preset_config(PRESET)
    data = load_data(config)
    torch.manual_seed(0)
    head = build_head(config, model_config(config, data.info))
    model = head.model.eval()
    puzzle = data.test
    inputs, ident, labels = puzzle.inputs[0], int(puzzle.puzzle_identifiers[0]), puzzle.labels[0]
    segments = int(model.config.halt_max_steps)
    batch = {"inputs": torch.from_numpy(puzzle.inputs[:1].astype(np.int32)),
             "labels": torch.from_numpy(puzzle.labels[:1].astype(np.int64)),
             "puzzle_identifiers": torch.from_numpy(puzzle.puzzle_identifiers[:1].astype(np.int32))}

    @torch.inference_mode()
    def plain() -> None:
        carry = model.initial_carry(batch)
        for _ in range(segments):
            carry, _ = model(carry, batch)

    def trace() -> None:
        trace_puzzle(model, inputs, ident, labels, segments=segments)

    def attention() -> None:
        attention_map(model, inputs, ident, step=2 * segments - 1, level="H", layer=0, head=0, cell=0)

    replay = AttentionReplay(model, inputs, ident, segments=segments)
    layers = [(step, level) for step in range(2 * segments) for level in ("H", "L")]

    def kept_attention() -> None:  # another update each time, so nothing comes from the kept weights
        step, level = layers.pop()
        replay.map(step=step, level=level, layer=0, head=1, cell=5)

    runs = {"trace": (trace, []), "plain": (plain, []), "attention": (attention, []), "kept": (kept_attention, [])}
    for fn, _ in runs.values():
        fn()  # warm-up
    for _ in range(REPEATS):
        for fn, times in runs.values():
            times.append(_timed(fn))
    print(json.dumps({"steps": segments * int(model.config.H_cycles), "seq_len": int(model.config.seq_len),
                      **{name: float(np.median([w for w, _ in times])) for name, (_, times) in runs.items()},
                      **{f"{name}_cpu": float(np.median([c for _, c in times])) for name, (_, times) in runs.items()}}))


def inspector_figures() -> Iterator[Figure]:
    r = _child("from benchmarks.inspector import _inspector_child; _inspector_child()", 600)
    cfg = (f"`{PRESET}` preset's model (seq {r['seq_len']}, random weights), 1 puzzle, "
           f"{r['steps']} high-level updates, 1 thread, median of {REPEATS}")
    trace_ms = 1000 * r["trace"]
    yield figure("inspector: recompute one puzzle, every state recorded", trace_ms, "ms", f"≤ {TARGET_MS:.0f} ms",
                 trace_ms <= TARGET_MS, cfg)
    yield figure("inspector: recompute one puzzle, CPU time", 1000 * r["trace_cpu"], "ms", "", None,
                 cfg)
    ratio = r["trace_cpu"] / r["plain_cpu"]
    yield figure("inspector: recorded trace ÷ the same segments run plainly (CPU time)", ratio, "×", f"≤ {TARGET_RATIO}",
                 ratio <= TARGET_RATIO, cfg)
    attention_ms = 1000 * r["attention"]
    yield figure("inspector: one attention map from scratch (last step, H level)", attention_ms, "ms", "", None, cfg)
    kept_ms = 1000 * r["kept"]
    yield figure("inspector: attention map of another update, replay kept", kept_ms, "ms",
                 f"≤ {KEPT_TARGET_MS:.0f} ms", kept_ms <= KEPT_TARGET_MS, cfg)
