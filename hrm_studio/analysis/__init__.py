"""Qt-free analysis of what a model does inside its ACT segments (issue #20).

The dataclasses (trace.py) are plain numpy and import no torch, so the window can import them
at start-up; the functions that run a model (they import torch) load on first use.
"""

from __future__ import annotations

from typing import Any

from hrm_studio.analysis.trace import AttentionMap, ReasoningTrace, StepCurve

__all__ = ["AnalysisCancelled", "AttentionMap", "AttentionReplay", "ReasoningTrace", "StepCurve", "attention_map", "step_curve",
           "trace_puzzle"]

_LAZY = {
    "trace_puzzle": "hrm_studio.analysis.timeline",
    "attention_map": "hrm_studio.analysis.attention",
    "AttentionReplay": "hrm_studio.analysis.attention",
    "step_curve": "hrm_studio.analysis.curve",
    "AnalysisCancelled": "hrm_studio.analysis.recording",
}


def __getattr__(name: str) -> Any:
    """The torch-using functions, imported when first asked for (keeps ``import`` torch-free)."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
