"""Observed moments against simulated ones: what a calibration measures a run by.

An observed moment (``observations.csv``, :class:`sim.data.Observation`) is a level or a
share of a total in a year, or an annual change between two years. The model starts at the end of
``start_year`` (its first row is the start state) and simulates the years after it, so:

- a moment whose years the model simulates is compared over the same years;
- a change or growth that ends at or before the start is compared with the model's
  first :data:`PERSISTENCE_YEARS` years, annualised: the recent trend is taken to go on
  for a while, and the row's ``sd_discrepancy`` says how sure that is. Only the first
  years are compared, so the projection to 2027 follows from the rules, not from the
  trend;
- a level of a rate (births or deaths per resident) in a year before the start is
  compared with the model's first simulated year, with the same reading;
- a share is compared in its year, as a level is;
- a level of a stock (persons, incomes, shares) in a year before the start is not
  comparable: such a row can only be ``input`` or ``context``.

Derived indicators: ``birth_rate`` and ``death_rate`` are the year's births or deaths
over its resident population.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from sim.data import Observation
from sim.errors import ConfigError

PERSISTENCE_YEARS = 2
RATE_INDICATORS = {"birth_rate": "births", "death_rate": "deaths"}
COMPARED_USES = ("fit", "holdout")


def model_years(obs: Observation, start_year: int) -> tuple[int | None, int]:
    """The model's years ``(from, to)`` that ``obs`` is compared with (``from`` None: a level).

    Raises:
        ConfigError: A level of a stock in a year before the model's start.
    """
    if obs.statistic in ("level", "share"):
        if obs.year >= start_year:
            return None, obs.year
        if obs.indicator in RATE_INDICATORS:
            return None, start_year + 1
        raise ConfigError(
            f"observation {obs.moment}: a level of {obs.indicator} in {obs.year}, before the "
            f"model's start ({start_year}), cannot be compared; allowed use: input or context"
        )
    assert obs.year_from is not None
    if obs.year_from >= start_year:
        return obs.year_from, obs.year
    return start_year, start_year + PERSISTENCE_YEARS


def compared(observations: Iterable[Observation], uses=COMPARED_USES) -> list[Observation]:
    """The observations with a use in ``uses`` (fit and holdout by default)."""
    return [o for o in observations if o.use in uses]


def _series(table: pd.DataFrame, unit: str, indicator: str) -> pd.Series:
    rows = table[(table.unit == unit)]
    if indicator in RATE_INDICATORS:
        wide = rows.pivot_table(index="year", columns="indicator", values="value")
        events = RATE_INDICATORS[indicator]
        for name in (events, "resident_population"):
            if name not in wide:
                raise ConfigError(f"indicator table: no {name!r} for unit {unit!r}")
        return wide[events] / wide["resident_population"]
    series = rows[rows.indicator == indicator].set_index("year")["value"]
    if series.empty:
        raise ConfigError(f"indicator table: no {indicator!r} for unit {unit!r}")
    return series


def simulated_value(table: pd.DataFrame, obs: Observation, start_year: int) -> float:
    """The model's value of ``obs``'s statistic in one run's indicator table."""
    first, last = model_years(obs, start_year)
    series = _series(table, obs.unit, obs.indicator)
    years = [y for y in (first, last) if y is not None]
    missing = [y for y in years if y not in series.index]
    if missing:
        raise ConfigError(
            f"observation {obs.moment}: the run has no {obs.indicator} for {obs.unit} in "
            f"{missing[0]}; allowed: runs from {start_year} to at least {max(years)}"
        )
    end = float(series.loc[last])
    if obs.statistic == "share":
        total = _series(table, obs.unit, obs.of)
        return end / float(total.loc[last])
    if first is None:
        return end
    begin = float(series.loc[first])
    span = last - first
    if obs.statistic == "change":
        return (end - begin) / span
    return (end / begin) ** (1 / span) - 1


def moments_of(
    table: pd.DataFrame, observations: Iterable[Observation], start_year: int
) -> pd.Series:
    """The simulated value of each observation, indexed by moment, for one run's table."""
    observations = list(observations)
    return pd.Series(
        [simulated_value(table, o, start_year) for o in observations],
        index=[o.moment for o in observations],
        name="simulated",
        dtype=float,
    )


def comparison(observations: Iterable[Observation], simulated: pd.Series) -> pd.DataFrame:
    """Observed against simulated, with the standardised residual of each moment.

    Returns:
        One row per moment: use, observed, simulated, sd (observation and discrepancy)
        and ``z = (simulated - observed) / sd``.
    """
    rows = []
    for o in observations:
        value = float(simulated[o.moment])
        rows.append(
            {
                "moment": o.moment,
                "use": o.use,
                "observed": o.value,
                "simulated": value,
                "sd": o.sd,
                "z": (value - o.value) / o.sd,
            }
        )
    return pd.DataFrame(rows).set_index("moment")


def log_likelihood(observations: Iterable[Observation], simulated: pd.Series) -> float:
    """Gaussian log-likelihood of the observations given one run's moments.

    Errors are taken as independent; the constant terms are included, so values of
    different observation sets are comparable.
    """
    table = comparison(observations, simulated)
    return float(-0.5 * np.sum(table.z**2) - np.sum(np.log(table.sd * np.sqrt(2 * np.pi))))


__all__ = [
    "COMPARED_USES",
    "PERSISTENCE_YEARS",
    "compared",
    "comparison",
    "log_likelihood",
    "model_years",
    "moments_of",
    "simulated_value",
]
