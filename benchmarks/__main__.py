"""`python -m benchmarks [NAME …]`: run the benchmarks, print a table, write results/latest.json.

Each figure is {"name", "value", "unit", "target", "met", "config"}; absolute figures are
for the machine they ran on, ratios travel.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from benchmarks.core import BENCHMARKS

RESULTS = Path(__file__).parent / "results" / "latest.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help=f"subset to run: {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    figures = []
    started = time.perf_counter()
    for name, run in BENCHMARKS.items():
        if args.names and name not in args.names:
            continue
        print(f"running {name} …", flush=True)
        for figure in run():
            figures.append(figure)
            print(_line(figure), flush=True)
    print("\n" + _table(figures))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": _machine(), "seconds": time.perf_counter() - started,
                                   "figures": figures}, indent=2) + "\n")
    print(f"\nwrote {RESULTS}")
    return 0


def _machine() -> dict:
    import os

    import torch

    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "python": sys.version.split()[0], "torch": torch.__version__}


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
