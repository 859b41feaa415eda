"""Errors that reach the user as one line and a non-zero exit code.

Messages quote what a user gave (a value, a key, a path) through :func:`clip` or
:func:`shown`: one printable line of at most :data:`ECHO_CHARS` characters, so an error
never echoes a whole file of a hostile folder.
"""

from __future__ import annotations

ECHO_CHARS = 60


def clip(text: str, limit: int = ECHO_CHARS) -> str:
    """``text`` on one line (control characters escaped), cut to ``limit`` characters."""
    if not text.isprintable():
        text = repr(text)[1:-1]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown(value: object, limit: int = ECHO_CHARS) -> str:
    """``value`` quoted as Python shows it (``'x'``, ``1.5``), cut to ``limit`` characters."""
    return clip(repr(value) if isinstance(value, str) else str(value), limit)


class RongheError(Exception):
    """Base class: the message is a complete one-line explanation for the user."""

    exit_code = 2


class ConfigError(RongheError):
    """A configuration key has an unknown name or a value outside its allowed range."""


class DataError(RongheError):
    """A data file is missing or malformed."""


class ScenarioError(RongheError):
    """A scenario file is missing, malformed or sets an unknown or out-of-range lever."""


class FinishedError(RongheError):
    """A model was stepped past its ``end_year``."""


class InvariantError(RongheError):
    """A conservation check (persons, land, money) failed during a run."""

    exit_code = 3


class ResultsError(RongheError):
    """A run's results are missing, corrupt, or could not be written."""
