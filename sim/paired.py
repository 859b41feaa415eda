"""Paired comparisons: two lever plans run on the same seeds (common random numbers).

Every draw is a hash of (seed, step, agent, purpose), so two runs with one seed share
their population and every random number; a difference between them is the effect of
the plans, not of sampling. These helpers run such pairs in one process (one synthetic
population per seed, copied for each plan) for lever tests and scenario studies.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.config import DEFAULT_COUNTY_AREA
from sim.data import RegionData
from sim.indicators import indicator_table
from sim.model import RongheModel, RunSpec
from sim.params import Params
from sim.population import synthesize
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
    model.run()
    return indicator_table(
        model.tallies,
        weight=model.weight,
        steps_per_year=model.spy,
        county_area=DEFAULT_COUNTY_AREA,
        scenario=scenario,
        seed=spec.seed,
    )


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
        self._populations: dict[int, object] = {}

    def population(self, seed: int):
        """The synthetic population of ``seed`` (synthesised once, copied per run)."""
        if seed not in self._populations:
            self._populations[seed] = synthesize(
                self.region, self.world, self.params, self.scale, seed
            )
        return copy.deepcopy(self._populations[seed])

    def run(self, plan: LeverPlan, seed: int):
        """Indicator table (long format) of one run."""
        spec = RunSpec(
            seed=seed, scale=self.scale, end_year=self.end_year, steps_per_year=self.steps_per_year
        )
        return run_plan(
            self.region, self.world, self.params, self.population(seed), spec, plan, "paired"
        )

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
