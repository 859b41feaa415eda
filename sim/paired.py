"""Paired comparisons: two lever plans run on the same seeds (common random numbers).

Every draw is a hash of (seed, step, agent, purpose), so two runs with one seed share
their population and every random number; a difference between them is the effect of
the plans, not of sampling. These helpers run such pairs in one process (one synthetic
population per seed, copied for each plan) for lever tests and scenario studies.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.data import RegionData
from sim.ensemble import RunInputs, finish
from sim.model import RongheModel, RunSpec
from sim.params import Params
from sim.schedules import LeverPlan
from sim.world import World


@dataclass(frozen=True)
class PairedResult:
    """Paired differences ``high - low`` of one indicator over seeds.

    Attributes:
        indicator: Indicator name (city level).
        low: Values under the first plan, one per seed.
        high: Values under the second plan, one per seed.
    """

    indicator: str
    low: np.ndarray
    high: np.ndarray

    @property
    def differences(self) -> np.ndarray:
        """``high - low`` per seed."""
        return self.high - self.low

    def p_value(self, direction: int) -> float:
        """One-sided p-value of a paired t-test that the mean difference has ``direction``."""
        d = self.differences * direction
        if np.allclose(d, d[0], rtol=1e-9, atol=0.0):  # no spread: the sign decides
            return 0.0 if d[0] > 0 else 1.0
        return float(stats.ttest_1samp(d, 0.0, alternative="greater").pvalue)


def run_plan(
    region: RegionData,
    world: World,
    params: Params,
    population,
    spec: RunSpec,
    plan: LeverPlan,
    scenario: str,
):
    """Run ``plan`` on ``population`` (taken over by the model); return its indicator table."""
    model = RongheModel(region, world, params, population, spec, plan.policy_at)
    return finish(model, scenario=scenario)


TABLES_KEPT = 16


def _plan_key(plan: LeverPlan) -> tuple:
    return tuple(sorted(plan.schedules.items()))


class PairedRunner:
    """Runs lever plans on shared per-seed populations and returns indicator tables."""

    def __init__(
        self,
        region: RegionData,
        world: World,
        params: Params,
        *,
        scale: float,
        end_year: int,
        steps_per_year: int = 4,
    ):
        self.region, self.world, self.params = region, world, params
        self.scale, self.end_year, self.steps_per_year = scale, end_year, steps_per_year
        self._inputs = RunInputs(region, world)
        self._tables: OrderedDict = OrderedDict()

    def population(self, seed: int):
        """The synthetic population of ``seed`` (synthesised once, copied per run)."""
        return self._inputs.population(seed, self.scale, self.params)

    def run(self, plan: LeverPlan, seed: int):
        """Indicator table (long format) of one run.

        The last :data:`TABLES_KEPT` tables are kept: a sweep low -> mid -> high compares
        the middle plan twice on the same seeds.
        """
        key = (_plan_key(plan), seed)
        if key in self._tables:
            self._tables.move_to_end(key)
            return self._tables[key]
        spec = RunSpec(
            seed=seed, scale=self.scale, end_year=self.end_year, steps_per_year=self.steps_per_year
        )
        table = run_plan(
            self.region, self.world, self.params, self.population(seed), spec, plan, "paired"
        )
        self._tables[key] = table
        while len(self._tables) > TABLES_KEPT:
            self._tables.popitem(last=False)
        return table

    def compare(
        self,
        low: LeverPlan,
        high: LeverPlan,
        seeds: Sequence[int],
        indicators: Sequence[str],
        summary: Callable | None = None,
        unit: str = "city",
    ) -> dict[str, PairedResult]:
        """Paired values of ``indicators`` of one ``unit`` under two plans.

        Args:
            low: First plan.
            high: Second plan.
            seeds: Seeds shared by both plans.
            indicators: Indicators to compare.
            summary: Reduces one indicator's yearly series (a ``pandas.Series`` indexed by
                year) to a number; the mean over the simulated years by default.
            unit: ``city``, ``county_area`` or a county id.
        """
        summary = summary or (lambda series: float(series[series.index > series.index[0]].mean()))
        values = {name: ([], []) for name in indicators}
        for seed in seeds:
            for k, plan in enumerate((low, high)):
                table = self.run(plan, seed)
                rows = table[table["unit"] == unit]
                for name in indicators:
                    series = rows[rows["indicator"] == name].set_index("year")["value"]
                    if series.empty:
                        raise KeyError(f"no indicator {name!r} for unit {unit!r}")
                    values[name][k].append(summary(series.sort_index()))
        return {
            name: PairedResult(name, np.array(lo), np.array(hi))
            for name, (lo, hi) in values.items()
        }


__all__ = ["PairedResult", "PairedRunner", "run_plan"]
