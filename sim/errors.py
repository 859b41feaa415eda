"""Errors that reach the user as one line and a non-zero exit code."""

from __future__ import annotations


class RongheError(Exception):
    """Base class: the message is a complete one-line explanation for the user."""

    exit_code = 2


class ConfigError(RongheError):
    """A configuration key has an unknown name or a value outside its allowed range."""


class DataError(RongheError):
    """A data file is missing or malformed."""


class ScenarioError(RongheError):
    """A scenario file is missing, malformed or sets an unknown or out-of-range lever."""


class InvariantError(RongheError):
    """A conservation check (persons, land, money) failed during a run."""

    exit_code = 3


class ResultsError(RongheError):
    """A run's results are missing, corrupt, or could not be written."""
