"""Our training step against the official code's, timed in one process (issues 18 and 21).

The official-code step (``reference_hrm.py``, ``reference_trm.py``: plain PyTorch written from the
specs, SDPA attention, the Q-target forward as upstream runs it) and ours start from the SAME weights
(the reference loads our model's state dict) and the same batch; first each runs two steps from the
same RNG state and their losses are compared (step 2 comes after an optimiser update, so it also checks
the gradients): the ratio below is between two computations of the same numbers. Then their steps are
timed alternately, so a busy machine slows both alike, in a fresh child process (clean threads).
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable, Iterator

from benchmarks.core import Figure, _child, figure, fixed_batch


def _our_step(config: Any) -> tuple[Callable[[], float], Any, dict, Any]:
    """Our model, optimiser and step on a fixed batch (the trainer's step: forward, loss ÷ batch,
    backward, optimiser, puzzle-embedding sign-SGD; the ACT carry kept). Also returns the loss head,
    the batch and the model config, for the reference."""
    import torch

    from hrm_studio.training.data_source import load_data
    from hrm_studio.training.model_factory import build_head, model_config
    from hrm_studio.training.schedule import build_optimizer

    data = load_data(config)
    torch.manual_seed(0)
    cfg = model_config(config, data.info)
    head = build_head(config, cfg)
    opt = build_optimizer(head.model, config.train)
    t, b = config.train, config.train.batch_size
    batch = fixed_batch(data.train, b)
    emb = head.model.puzzle_emb
    head.train()
    state = {"carry": head.initial_carry(batch)}

    def step() -> float:
        result = head(state["carry"], batch)
        (result.loss / b).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if emb is not None:
            emb.sign_sgd_step(t.puzzle_emb_lr, t.puzzle_emb_weight_decay)
        state["carry"] = result.carry
        return float(result.loss.detach())

    return step, head, batch, cfg


def _config(preset: str | None, settings: dict) -> Any:
    from hrm_studio.config import RunConfig
    from hrm_studio.presets import preset_config

    config = preset_config(preset) if preset else RunConfig()
    for name, value in settings.items():
        config.set(name, value)
    return config


def race_child(preset: str | None, settings: dict, steps: int = 6, threads: int = 2) -> None:
    """Prints JSON: batch, both losses for two steps from the same start, median step seconds of ours
    and the reference (steps alternated, the order swapped every round), and which attention ran."""
    import numpy as np
    import torch

    from benchmarks.reference_hrm import hrm_reference, reference_step
    from benchmarks.reference_trm import trm_reference
    from benchmarks.core import _timed
    from hrm_studio.training.model_factory import attention_kernel

    torch.set_num_threads(threads)
    config = _config(preset, settings)
    ours, head, batch, cfg = _our_step(config)
    weights = {k: v.clone() for k, v in head.model.state_dict().items()}
    build = trm_reference if config.model.arch == "trm" else hrm_reference
    ref = reference_step(build(cfg, config.model.loss_type, weights), config.train, batch)
    losses: dict[str, list[float]] = {"ours": [], "reference": []}
    for seed in (1, 2):  # the same exploration draws on both sides
        for name, step in (("ours", ours), ("reference", ref)):
            torch.manual_seed(seed)
            losses[name].append(step())
    times: dict[str, list[float]] = {"ours": [], "reference": []}
    for i in range(steps):
        order = (("ours", ours), ("reference", ref)) if i % 2 == 0 else (("reference", ref), ("ours", ours))
        for name, step in order:
            times[name].append(_timed(step))
    native = attention_kernel(config.train.attention_kernel)[0] is not None
    print(json.dumps({"batch": config.train.batch_size, "losses": losses,
                      "step_s": {k: float(np.median(v)) for k, v in times.items()},
                      "attention": "HRM Studio's fused kernel" if native else "torch SDPA"}))


def race(label: str, preset: str | None, settings: dict, target: float, steps: int, what: str,
         issue: str, threads: int = 2) -> Iterator[Figure]:
    """Figures of one race: our samples/s, the reference's, the ratio against `target`, and the loss check."""
    r = _child(f"from benchmarks.official import race_child; "
               f"race_child({preset!r}, {settings!r}, {steps!r}, {threads!r})", 1800)
    b, step = r["batch"], r["step_s"]
    ratio = step["reference"] / step["ours"]
    ours, ref = r["losses"]["ours"], r["losses"]["reference"]
    diff = max(abs(a - c) / max(abs(c), 1e-12) for a, c in zip(ours, ref))
    cfg = (f"{what}; batch {b}, float32, {threads} thread{'s' if threads > 1 else ''}, median of {steps} steps each, alternated in one process; "
           f"ours with {r['attention']}, the reference with torch SDPA")
    yield figure(f"{label}: training samples/s", b / step["ours"], "samples/s", "", None, cfg)
    yield figure(f"{label}: official-code step samples/s", b / step["reference"], "samples/s", "", None, cfg)
    yield figure(f"{label}: samples/s ÷ official-code step", ratio, "ratio", f"≥ {target:g} ({issue})",
                 ratio >= target, cfg)
    yield figure(f"{label}: loss, ours vs official-code step (relative difference)", diff, "ratio", "≤ 1e-05",
                 diff <= 1e-5, f"largest of steps 1 and 2 from the same weights and RNG state: ours "
                 f"{', '.join(f'{x:.7g}' for x in ours)}, reference {', '.join(f'{x:.7g}' for x in ref)}")


def official_figures(threads: int = 2) -> Iterator[Figure]:
    """The seed presets (HRM) against the official hrm_act_v1 step (issue 21's headline ratios)."""
    yield from race("seed", "seed", {}, 1.8, 12,
                    "preset seed (h64, 1+1 layers, 2×2 cycles, 6 ACT steps, Adam), 30×30 canvas", "issue 21", threads)
    yield from race("seed-improved", "seed-improved", {}, 1.6, 8,
                    "preset seed-improved (h128, 2+2 layers, 3×3 cycles, 8 ACT steps, AdamW, no clipping on "
                    "either side), 30×30 canvas", "issue 21", threads)


# Op name fragments → what the README's "Where the time goes" calls them (first match wins).
_KINDS = (("attention", ("attention", "attn", "_flash")), ("linear layers", ("aten::mm", "aten::addmm", "aten::bmm")),
          ("norms", ("rms_norm", "rsqrt")), ("optimizer", ("_foreach", "lerp", "addcdiv", "addcmul", "sqrt")),
          ("loss", ("aten::log", "gather")))


def _kind(name: str) -> str:
    from hrm_studio.model.profiling import Q_TARGET_PASS  # torch only in the child processes

    if name == Q_TARGET_PASS:  # a named range: its self time is the Python and dispatch between its ops
        return "Python, dispatch (between ops)"
    lowered = name.lower()
    return next((kind for kind, parts in _KINDS if any(p in lowered for p in parts)), "elementwise, copies, other")


def profile_child(preset: str | None, settings: dict, steps: int = 1, threads: int = 2, rows: int = 20,
                  side: str = "ours") -> None:
    """Where one step of ours (or, with side="reference", of the official code) spends its time:
    torch.profiler's self CPU time summed by kind of op, the optimiser's share and the top ops; after
    one warm-up step."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from hrm_studio.model.profiling import Q_TARGET_PASS

    torch.set_num_threads(threads)
    config = _config(preset, settings)
    ours, head, batch, cfg = _our_step(config)
    if side == "reference":
        from benchmarks.reference_hrm import hrm_reference, reference_step
        from benchmarks.reference_trm import trm_reference

        build = trm_reference if config.model.arch == "trm" else hrm_reference
        ours = reference_step(build(cfg, config.model.loss_type, dict(head.model.state_dict())), config.train, batch)
    ours()
    started = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            ours()
    wall = time.perf_counter() - started
    events = [e for e in prof.key_averages() if not e.key.startswith(("Optimizer.", "ProfilerStep", "autograd::"))]
    total = sum(e.self_cpu_time_total for e in events)
    kinds: dict[str, float] = {}
    for e in events:
        kinds[_kind(e.key)] = kinds.get(_kind(e.key), 0.0) + e.self_cpu_time_total
    whole = {e.key: e.cpu_time_total for e in prof.key_averages()}
    step_total = sum(t for k, t in whole.items() if k.startswith("Optimizer.step"))
    outside = max(wall * 1e6 - total, 0.0)  # µs of the wall time spent in no op (the profiler's own included)
    kinds["Python, dispatch (between ops)"] = kinds.get("Python, dispatch (between ops)", 0.0) + outside
    total += outside
    print(f"{steps} step(s) in {wall:.2f} s under the profiler; shares of the wall time; optimiser step (whole) "
          f"{step_total / total:.1%}; Q-target pass (whole) {whole.get(Q_TARGET_PASS, 0.0) / total:.1%}")
    for kind, spent in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print(f"  {kind:28} {spent / total:6.1%}")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))
