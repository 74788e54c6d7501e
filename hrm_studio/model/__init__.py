"""The HRM ACT v1 model in pure torch (no Qt, no file I/O), official-checkpoint compatible."""

from .hrm import HRM, HRMConfig, count_parameters
from .losses import ACTLossHead, ACTStepResult

__all__ = ["HRMConfig", "HRM", "ACTLossHead", "ACTStepResult", "count_parameters"]
