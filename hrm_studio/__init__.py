"""HRM Studio: train a Hierarchical Reasoning Model on a CPU and watch it learn."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hrm-studio")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

