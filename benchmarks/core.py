"""Benchmarks of the training core: time to solve, and the seed presets' speed and memory."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

Figure = dict


def figure(name: str, value: float | None, unit: str, target: str = "", met: bool | None = None,
           config: str = "") -> Figure:
    return {"name": name, "value": value, "unit": unit, "target": target, "met": met, "config": config}


def _train_command(args: list[str], out: Path) -> tuple[float, list[dict]]:
    """Run the real `hrm-studio train` command; wall seconds for the whole command + history."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "hrm_studio", "train", *args, "--out", str(out), "--quiet"],
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"train failed: {done.stderr.strip()}")
    return wall, json.loads((out / "history.json").read_text())


def _first(history: list[dict], key: str, threshold: float) -> dict | None:
    return next((r for r in history if (r.get(key) or 0) >= threshold), None)


def time_to_solve() -> Iterator[Figure]:
    """Default copy-increment: whole command, and training time until held-out exact = 100 %."""
    with tempfile.TemporaryDirectory() as tmp:
        wall, history = _train_command(["--task", "copy-increment", "--set", "num_threads=2"], Path(tmp) / "r")
    solved = _first(history, "val_exact_match_accuracy", 1.0)
    cfg = "copy-increment defaults (1000 train / 200 held-out, tight 6×6), 2 threads"
    yield figure("copy-increment: whole `hrm-studio train` command", wall, "s", "≤ 30 s",
                 solved is not None and wall <= 30, cfg)
    yield figure("copy-increment: training time to 100 % held-out exact",
                 solved["wall_seconds"] if solved else None, "s", "≤ 10 s (issue 6)",
                 solved is not None and solved["wall_seconds"] <= 10, cfg)
    yield figure("copy-increment: epochs to 100 % held-out exact", solved["epoch"] if solved else None,
                 "epochs", "", None, cfg)


def shared_identifier() -> Iterator[Figure]:
    """The seed's ambiguity: one identifier for both patterns; ceiling ~96 %."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r"
        wall, history = _train_command(["--task", "copy-increment", "--set", "shared_identifier=true",
                                        "--set", "stop_at_exact=0.95", "--set", "epochs=30",
                                        "--set", "num_threads=2"], out)
        ceiling = json.loads((out / "task.json").read_text()).get("ceiling")
    best = max((r.get("val_exact_match_accuracy") or 0) for r in history)
    cfg = "copy-increment, shared_identifier=true"
    yield figure("copy-increment shared identifier: best held-out exact", best, "fraction", "≥ 0.95",
                 best >= 0.95, cfg)
    yield figure("copy-increment shared identifier: accuracy ceiling", ceiling, "fraction", "", None, cfg)
    yield figure("copy-increment shared identifier: whole command", wall, "s", "", None, cfg)


def _steps_per_second(preset: str, steps: int = 12) -> tuple[float, float, float]:
    """Training samples/s (rows × segments per second) and peak RSS for a preset's model."""
    import numpy as np
    import torch

    from hrm_studio.presets import preset_config
    from hrm_studio.training.data_source import load_data
    from hrm_studio.training.model_factory import build_head, hrm_config
    from hrm_studio.training.schedule import build_optimizer

    torch.set_num_threads(2)
    config = preset_config(preset)
    data = load_data(config)
    torch.manual_seed(0)
    head = build_head(config, hrm_config(config, data.info))
    opt = build_optimizer(head.model, config.train)
    b = config.train.batch_size
    idx = np.arange(b) % len(data.train)
    batch = {"inputs": torch.from_numpy(data.train.inputs[idx].astype(np.int32)),
             "labels": torch.from_numpy(data.train.labels[idx].astype(np.int64)),
             "puzzle_identifiers": torch.from_numpy(data.train.puzzle_identifiers[idx].astype(np.int32))}
    head.train()
    carry = head.initial_carry(batch)
    times = []
    for i in range(steps + 2):
        t0 = time.perf_counter()
        result = head(carry, batch)
        (result.loss / b).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        carry = result.carry
        if i >= 2:
            times.append(time.perf_counter() - t0)
    step = float(np.median(times))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return b / step, step * 1000, rss_mb


def seed_presets() -> Iterator[Figure]:
    for preset, target in (("seed", 20.0), ("seed-improved", 3.0)):
        code = (f"from benchmarks.core import _steps_per_second; import json; "
                f"print(json.dumps(_steps_per_second('{preset}')))")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        sps, ms, rss = json.loads(done.stdout.strip().splitlines()[-1])
        cfg = f"preset {preset}, 30×30 canvas, float32, 2 threads, median of 12 steps"
        yield figure(f"{preset}: training samples/s", sps, "samples/s", f"≥ {target:g} (issue 6)",
                     sps >= target, cfg)
        yield figure(f"{preset}: ms per ACT step", ms, "ms", "", None, cfg)
        yield figure(f"{preset}: peak RSS", rss, "MiB", "", None, cfg)


BENCHMARKS: dict[str, Callable[[], Iterator[Figure]]] = {
    "solve": time_to_solve,
    "shared": shared_identifier,
    "seed": seed_presets,
    "gui": lambda: __import__("benchmarks.gui", fromlist=["gui_figures"]).gui_figures(),  # Studio window
    "viewer": lambda: __import__("benchmarks.viewer", fromlist=["viewer_figures"]).viewer_figures(),
}
