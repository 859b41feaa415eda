"""The labour markets: wages, employment probabilities, tightness and job seekers.

Markets of one commuting zone (``World.market_zone``) clear together each step
(Harris-Todaro): one wage and one employment probability from their pooled demand and
job seekers. Outside markets follow their documented wage path with a fixed employment
probability.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.rules import adjusted_wage, employment_probability, labour_market_gap

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sim.agents import Firm
    from sim.levers import Policy
    from sim.params import Params
    from sim.world import World


class LabourMarkets:
    """The state of every labour market, from its 2023 wages and employment rates.

    Args:
        params: Behavioural parameters.
        world: Place layout (markets and commuting zones).
        base_wage: The 2023 low-skill wage of every market.
        steps_per_year: Steps per year.

    Attributes:
        market_wage: Low-skill wage of every market (gross yuan per year).
        p_employed: Employment probability of every market.
        tightness: Capped log gap of jobs per seeker against the 2023 ratio, by market;
            zero until the first clearing, so 2023 clears at the 2023 rate.
        seekers: Job seekers of every market (agent units) at the last clearing.
    """

    def __init__(self, params: Params, world: World, base_wage: np.ndarray, steps_per_year: int):
        self.params = params
        self.world = world
        self.base_wage = base_wage
        self.spy = steps_per_year
        self.market_wage = base_wage.copy()
        self.p_employed = np.full(world.n_markets, params.employment_rate_2023)
        self.p_employed[world.market_outside :] = params.employment_rate_outside
        self.tightness = np.zeros(world.n_markets)
        self.seekers = np.zeros(world.n_markets)

    def clear(
        self,
        firms: Sequence[Firm],
        supply: np.ndarray,
        policy: Policy,
        *,
        trend: float,
        years: float,
        weight: float,
    ) -> None:
        """One step of demand, employment probabilities and wages of every market.

        Args:
            firms: The firms; each advances its demand at its market's current wage.
            supply: Job seekers by market (agent units).
            policy: The policy in force (park investment of the seats' firms).
            trend: Growth factor of the region's wages since 2023.
            years: Years since 2023 (the outside markets' wage premium).
            weight: Real persons per agent.
        """
        p, w = self.params, self.world
        demand = np.zeros(w.n_markets)
        for firm in firms:
            firm.wage = self.market_wage[firm.market]
            demand[firm.market] += firm.update_demand(
                params=p,
                policy=policy,
                wage_trend=trend,
                tightness=float(self.tightness[firm.market]),
                steps_per_year=self.spy,
            )
        real_supply = supply * weight
        self.seekers = supply.astype(np.float64)
        outside_trend = trend * (1 + p.outside_wage_growth_premium) ** years
        for m in range(w.market_outside, w.n_markets):
            self.market_wage[m] = self.base_wage[m] * outside_trend
        zone = w.market_zone[: w.market_outside]
        for z in np.unique(zone):
            members = np.flatnonzero(zone == z)
            pooled_demand = float(demand[members].sum())
            pooled_supply = float(real_supply[members].sum())
            self.p_employed[members] = employment_probability(pooled_demand, pooled_supply)
            self.tightness[members] = labour_market_gap(
                pooled_demand, pooled_supply, p.employment_rate_2023, p.wage_adjustment_gap_max
            )
            self.market_wage[members] = adjusted_wage(
                self.market_wage[z],
                pooled_demand,
                pooled_supply,
                p.employment_rate_2023,
                p.wage_adjustment_speed,
                p.wage_adjustment_gap_max,
                p.wage_growth,
                self.spy,
            )
