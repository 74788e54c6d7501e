"""`python -m benchmarks [NAME …]`: run the benchmarks, print a table, write results/latest.json.

Each figure is {"name", "value", "unit", "target", "met", "config"}; absolute figures are
for the machine they ran on, ratios travel.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from benchmarks.core import BENCHMARKS

RESULTS = Path(__file__).parent / "results" / "latest.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help=f"subset to run: {', '.join(BENCHMARKS)}")
    parser.add_argument("--markdown", action="store_true",
                        help="print results/latest.json as the README's Markdown table and exit (runs nothing)")
    args = parser.parse_args(argv)
    if args.markdown:
        print(markdown(json.loads(RESULTS.read_text())))
        return 0
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    figures = []
    started = time.perf_counter()
    load_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    for name, run in BENCHMARKS.items():
        if args.names and name not in args.names:
            continue
        print(f"running {name} …", flush=True)
        for figure in run():
            figures.append(figure)
            print(_line(figure), flush=True)
    print("\n" + _table(figures))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    machine = _machine()
    machine["load_average_at_start"] = load_start
    seconds = time.perf_counter() - started
    full = not args.names
    if not full and RESULTS.is_file():  # a subset: refresh its figures in place, keep the others
        previous = json.loads(RESULTS.read_text())
        fresh = {f["name"]: f for f in figures}
        kept = [fresh.pop(f["name"], f) for f in previous.get("figures", [])]
        figures = kept + list(fresh.values())
    RESULTS.write_text(json.dumps({"machine": machine, "seconds": seconds, "full_run": full, "figures": figures},
                                  indent=2) + "\n")
    print(f"\nwrote {RESULTS}")
    return 0


def _machine() -> dict:
    import torch

    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_model": _cpu_model(), "cpus": os.cpu_count(), "python": sys.version.split()[0],
            "torch": torch.__version__, "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "load_average_at_end": os.getloadavg() if hasattr(os, "getloadavg") else None}


def _cpu_model() -> str:
    """`lscpu`'s model name (Linux); the figures only mean something next to it."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def markdown(results: dict) -> str:
    """The README's Performance table (figure | value | target) and the machine line above it."""
    m = results["machine"]
    took = (f"; `make bench` took {results['seconds'] / 60:.1f} min" if results.get("full_run")
            else "; figures from more than one `python -m benchmarks` run")
    lines = [f"Measured on {m.get('cpu_model', m['processor'])}, {m['cpus']} cores, Python {m['python']}, "
             f"torch {m['torch']}{took}.", "",
             "| figure | value | target |", "|---|---|---|"]
    for f in results["figures"]:
        value = f"{_fmt(f['value'])} {f['unit']}"
        if f["value"] is None:
            best = f["config"].partition("best held-out exact ")[2]
            value = f"not reached (best {best})" if best else "not reached"
        mark = "" if f["met"] is None else (" ✓" if f["met"] else " ✗")
        lines.append(f"| {f['name']} | {value} | {f['target'] or '–'}{mark} |")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _line(f: dict) -> str:
    met = "" if f["met"] is None else ("  ✓" if f["met"] else "  ✗ (target missed)")
    target = f"  target {f['target']}" if f["target"] else ""
    return f"  {f['name']}: {_fmt(f['value'])} {f['unit']}{target}{met}"


def _table(figures: list[dict]) -> str:
    rows = [("figure", "value", "unit", "target", "met")]
    for f in figures:
        rows.append((f["name"], _fmt(f["value"]), f["unit"], f["target"] or "",
                     "" if f["met"] is None else ("yes" if f["met"] else "NO")))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows)


if __name__ == "__main__":
    raise SystemExit(main())
