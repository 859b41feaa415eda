"""What the results say, in sentences: the written summary at the top of the report.

From the long indicator table of one or more scenarios (runs told apart by ``seed``,
the baseline paired with every scenario on the same seeds) this module works out, per
scenario: each target met or not in 2027 and 2035, by what margin against the spread
over runs, and the first year; the lever spending and the extra over the baseline; the
effect per 100 million yuan (亿元) of extra spending a year; where an advantage over the
baseline reverses later in the run; counties that end worse off than under the
baseline; and the caveats that apply. :func:`summary_items` writes them in Chinese or
English. It reads results only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.indicators import TARGET_INDICATORS

AGGREGATES = ("city", "county_area")  # the units that are not counties
# A county trade-off is reported when most pairs agree on its sign (not seed noise) and
# its median is large enough to matter: a tenth of a point of urbanisation, half a
# hundredth of the income ratio.
AGREEMENT = 0.75
MATERIAL = {"resident_urbanisation_rate": 0.001, "income_ratio": 0.005}
YUAN_100M = 1e8


@dataclass(frozen=True)
class TargetFinding:
    """One target of one scenario in one year, over the scenario's runs."""

    scenario: str
    unit: str
    indicator: str
    year: int
    target: float
    direction: str
    median: float
    low: float  # 5% quantile over runs
    high: float  # 95% quantile over runs
    p_met: float
    first_year: float  # median first simulated year met; NaN if most runs never meet it
    runs: int

    @property
    def margin(self) -> float:
        """How far the median is on the right side of the target (negative: short)."""
        gap = self.median - self.target
        return -gap if self.direction == "at_most" else gap


def _values(table: pd.DataFrame, unit: str, indicator: str) -> pd.DataFrame:
    return table[(table.unit == unit) & (table.indicator == indicator)]


def target_findings(table: pd.DataFrame, targets, years=(2027, 2035)) -> list[TargetFinding]:
    """Each scenario's targets in each of ``years`` the results reach."""
    out = []
    start = int(table.year.min())
    by_key = {(t.unit, t.indicator, t.year): t for t in targets}
    for scenario, runs in table.groupby("scenario", sort=False):
        for year in years:
            if not start < year <= int(runs.year.max()):
                continue
            for unit, indicator in TARGET_INDICATORS:
                target = by_key.get((unit, indicator, year))
                if target is None:
                    continue
                rows = _values(runs, unit, indicator)
                rows = rows[rows.year > start]
                now = rows[rows.year == year].groupby("seed")["value"].first()
                met = rows.assign(met=target.met(rows.value))
                first = met[met.met].groupby("seed")["year"].min().reindex(now.index)
                first_year = float(np.nanmedian(first.fillna(np.inf)))
                low, mid, high = np.quantile(now, [0.05, 0.5, 0.95])
                out.append(
                    TargetFinding(
                        scenario=str(scenario),
                        unit=unit,
                        indicator=indicator,
                        year=year,
                        target=target.value,
                        direction=target.direction,
                        median=float(mid),
                        low=float(low),
                        high=float(high),
                        p_met=float(target.met(now).mean()),
                        first_year=first_year if np.isfinite(first_year) else float("nan"),
                        runs=len(now),
                    )
                )
    return out


def paired(table: pd.DataFrame, unit: str, indicator: str, baseline: str = "baseline"):
    """Scenario minus baseline on the same seed: a frame of scenario, seed, year, value."""
    rows = _values(table, unit, indicator)
    base = rows[rows.scenario == baseline].set_index(["seed", "year"])["value"]
    out = []
    for scenario, part in rows[rows.scenario != baseline].groupby("scenario", sort=False):
        own = part.set_index(["seed", "year"])["value"]
        shared = own.index.intersection(base.index)
        if shared.empty:
            continue
        diff = (own.loc[shared] - base.loc[shared]).rename("value").reset_index()
        diff["scenario"] = scenario
        out.append(diff)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


@dataclass(frozen=True)
class Cost:
    """A scenario's lever spending in a year and the extra over the baseline.

    Both in yuan a year for the city; ``extra`` is the mean paired difference (NaN for
    the baseline, or without one).
    """

    scenario: str
    year: int
    spending: float
    extra: float


def costs(table: pd.DataFrame, year: int) -> list[Cost]:
    """Each scenario's lever spending and extra spending over the baseline in ``year``."""
    rows = _values(table, "city", "lever_spending")
    if rows.empty or year not in set(rows.year):
        return []
    diff = paired(table, "city", "lever_spending")
    extra = (
        diff[diff.year == year].groupby("scenario")["value"].mean()
        if not diff.empty
        else pd.Series(dtype=float)
    )
    means = rows[rows.year == year].groupby("scenario", sort=False)["value"].mean()
    return [
        Cost(str(s), year, float(v), float(extra.get(s, float("nan")))) for s, v in means.items()
    ]


@dataclass(frozen=True)
class Effect:
    """A scenario's paired effect on a target indicator in a year.

    ``per_100m`` is the effect per 亿元 a year of extra lever spending (NaN when the
    scenario spends no more than the baseline).
    """

    scenario: str
    unit: str
    indicator: str
    year: int
    median: float
    per_100m: float


def effects(table: pd.DataFrame, year: int) -> list[Effect]:
    """The paired effects on the three targets in ``year``, also per 亿元 of extra spending."""
    extra = {c.scenario: c.extra for c in costs(table, year)}
    out = []
    for unit, indicator in TARGET_INDICATORS:
        diff = paired(table, unit, indicator)
        if diff.empty:
            continue
        for scenario, part in diff[diff.year == year].groupby("scenario", sort=False):
            median = float(part.value.median())
            money = extra.get(scenario, float("nan")) / YUAN_100M
            per = median / money if money > 0.01 else float("nan")
            out.append(Effect(str(scenario), unit, indicator, year, median, per))
    return out


@dataclass(frozen=True)
class Reversal:
    """A target advantage over the baseline that turns into a disadvantage later."""

    scenario: str
    unit: str
    indicator: str
    best_year: int
    best: float  # median paired difference at its most favourable
    turns_after: int  # the last year still favourable
    end_year: int
    end: float


def reversals(table: pd.DataFrame, targets, from_year: int = 2027) -> list[Reversal]:
    """Advantages over the baseline that turn into disadvantages by the end of the run.

    An advantage is a favourable median paired difference in ``from_year`` or later.
    """
    direction = {(t.unit, t.indicator): t.direction for t in targets}
    out = []
    for unit, indicator in TARGET_INDICATORS:
        diff = paired(table, unit, indicator)
        if diff.empty:
            continue
        sign = -1.0 if direction.get((unit, indicator)) == "at_most" else 1.0
        for scenario, part in diff.groupby("scenario", sort=False):
            path = part[part.year >= from_year].groupby("year")["value"].median() * sign
            if len(path) < 2 or path.iloc[-1] >= 0 or path.max() <= 0:
                continue
            favourable = path[path > 0]
            out.append(
                Reversal(
                    scenario=str(scenario),
                    unit=unit,
                    indicator=indicator,
                    best_year=int(path.idxmax()),
                    best=float(path.max() * sign),
                    turns_after=int(favourable.index.max()),
                    end_year=int(path.index[-1]),
                    end=float(path.iloc[-1] * sign),
                )
            )
    return out


@dataclass(frozen=True)
class CountyTradeoff:
    """A county that ends worse off than under the baseline on a target indicator."""

    scenario: str
    county: str
    indicator: str
    year: int
    median: float
    agreement: float  # share of pairs with the unfavourable sign


def county_tradeoffs(table: pd.DataFrame, year: int) -> list[CountyTradeoff]:
    """Counties a scenario leaves worse off than the baseline in ``year``.

    Worse: urbanisation lower or the income ratio higher, in at least
    :data:`AGREEMENT` of the pairs and by at least :data:`MATERIAL`.
    """
    out = []
    counties = [u for u in table["unit"].unique() if u not in AGGREGATES]
    for indicator, worse in (("resident_urbanisation_rate", -1.0), ("income_ratio", 1.0)):
        for county in counties:
            diff = paired(table, county, indicator)
            if diff.empty:
                continue
            for scenario, part in diff[diff.year == year].groupby("scenario", sort=False):
                share = float((np.sign(part.value) == worse).mean())
                median = float(part.value.median())
                material = abs(median) >= MATERIAL[indicator]
                if share >= AGREEMENT and np.sign(median) == worse and material:
                    out.append(
                        CountyTradeoff(str(scenario), county, indicator, year, median, share)
                    )
    return out


__all__ = [
    "Cost",
    "CountyTradeoff",
    "Effect",
    "Reversal",
    "TargetFinding",
    "costs",
    "county_tradeoffs",
    "effects",
    "paired",
    "reversals",
    "target_findings",
]
