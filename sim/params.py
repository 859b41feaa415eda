"""Behavioural parameters: the values of ``parameters.csv`` plus validated overrides."""

from __future__ import annotations

from collections.abc import Mapping

from sim.data import RegionData
from sim.errors import ConfigError


class Params:
    """Read-only bag of named float parameters (``params.beta_income``).

    Values come from the data folder's ``parameters.csv``; overrides are checked against
    the file's ranges, so an out-of-range value fails with the key, the value and the
    allowed range.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, float]):
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> float:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no parameter {name!r}") from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Params is read-only")

    def as_dict(self) -> dict[str, float]:
        """Return a copy of all values."""
        return dict(self._values)

    def names(self) -> list[str]:
        """Return the parameter names in file order."""
        return list(self._values)


def resolve_params(region: RegionData, overrides: Mapping[str, object] | None = None) -> Params:
    """Combine the file's values with overrides, validating names and ranges.

    Args:
        region: Loaded region data (its ``parameters`` table is the schema).
        overrides: Mapping of parameter name to value, e.g. from ``params.NAME=value``.

    Returns:
        The resolved :class:`Params`.

    Raises:
        ConfigError: Unknown name, non-numeric value or value outside the range.
    """
    values = {name: spec.value for name, spec in region.parameters.items()}
    for name, raw in (overrides or {}).items():
        spec = region.parameters.get(name)
        if spec is None:
            raise ConfigError(
                f"params.{name}: unknown parameter (see the table in docs/parameters.md)"
            )
        if spec.value == raw:
            continue
        try:
            value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ConfigError(
                f"params.{name}={raw!r}: not a number; allowed range [{spec.low:g}, {spec.high:g}]"
            ) from None
        if not spec.low <= value <= spec.high:
            raise ConfigError(
                f"params.{name}={raw!r}: outside the allowed range [{spec.low:g}, {spec.high:g}]"
            )
        values[name] = value
    return Params(values)
