"""The HRM and TRM ACT v1 models in pure torch (no Qt, no file I/O), official-checkpoint compatible."""

from .hrm import HRM, HRMConfig, count_parameters
from .losses import ACTLossHead, ACTStepResult
from .trm import TRM, TRMConfig

__all__ = ["HRMConfig", "HRM", "TRMConfig", "TRM", "ACTLossHead", "ACTStepResult", "count_parameters"]
