"""Errors a person can fix: front ends show the message as it is, without a traceback.

Anything that is *not* a UserError is a bug in HRM Studio and is reported as one.
"""


class UserError(Exception):
    """A mistake in something the user gave us (a file, a setting, a command line)."""


class ConfigError(UserError):
    """A setting is missing, of the wrong type or outside its allowed range."""


class DatasetError(UserError):
    """A dataset folder or file cannot be read or does not hold what it should."""


class CheckpointError(UserError):
    """A checkpoint file cannot be read, is not trusted, or does not fit the model."""
