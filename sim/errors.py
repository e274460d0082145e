"""The one exception type for user mistakes, caught once at the command line.

>>> str(ConfigError("n_runs: must be a positive integer, got 0"))
'n_runs: must be a positive integer, got 0'
"""

__all__ = ["ConfigError", "ResultsError"]


class ConfigError(ValueError):
    """A user mistake: bad config, impossible value, unknown name. Message is one line."""


class ResultsError(ConfigError):
    """A results folder or file that is missing, corrupt or foreign."""
