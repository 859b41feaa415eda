"""The labour markets (sim/labour_market.py), cleared directly with firms of fixed demand."""

from dataclasses import dataclass

import numpy as np
import pytest

from sim.data import region_county_keys
from sim.economy import base_wages
from sim.labour_market import LabourMarkets
from sim.levers import default_policy, lever_defaults
from sim.params import resolve_params
from sim.rules import labour_market_gap

WEIGHT = 10.0


@dataclass
class FixedDemand:
    """Firms of one market whose demand (real persons) does not move."""

    market: int
    demand: float
    wage: float = 0.0

    def update_demand(self, **_) -> float:
        return self.demand


def _markets(region, world, params):
    base = base_wages(params, world, region, world.n_markets)
    return LabourMarkets(params, world, base, steps_per_year=4)


def _clear(markets, region, demand, supply, years=1.0):
    firms = [FixedDemand(m, d) for m, d in enumerate(demand)]
    policy = default_policy(lever_defaults(region))
    trend = (1 + markets.params.wage_growth) ** years
    markets.clear(firms, supply, policy, trend=trend, years=years, weight=WEIGHT)


def test_markets_start_at_the_2023_rates(region, world, params):
    markets = _markets(region, world, params)
    outside = world.market_outside
    assert (markets.p_employed[:outside] == params.employment_rate_2023).all()
    assert (markets.p_employed[outside:] == params.employment_rate_outside).all()
    assert (markets.market_wage == base_wages(params, world, region, world.n_markets)).all()
    assert markets.market_wage is not markets.base_wage
    assert not markets.tightness.any()


def test_a_zone_of_two_markets_clears_to_one_wage_and_one_employment_rate(region, world, params):
    keys = region_county_keys()
    anju, chuanshan = keys.index("anju"), keys.index("chuanshan")
    assert world.market_zone[anju] == chuanshan
    markets = _markets(region, world, params)
    markets.market_wage[anju] *= 0.9  # the zone's wage is its leader's
    demand = np.full(world.n_markets, 1000.0)
    demand[anju], demand[chuanshan] = 500.0, 3000.0
    supply = np.full(world.n_markets, 150)
    supply[anju], supply[chuanshan] = 300, 100
    _clear(markets, region, demand, supply)
    pooled = (500.0 + 3000.0) / ((300 + 100) * WEIGHT)
    assert markets.p_employed[anju] == markets.p_employed[chuanshan] == pooled
    assert markets.market_wage[anju] == markets.market_wage[chuanshan]
    gap = labour_market_gap(
        3500.0, 4000.0, params.employment_rate_2023, params.wage_adjustment_gap_max
    )
    assert markets.tightness[anju] == markets.tightness[chuanshan] == gap
    assert markets.seekers.dtype == np.float64
    assert (markets.seekers == supply).all()


def test_employment_probability_is_jobs_per_seeker_at_most_one(region, world, params):
    markets = _markets(region, world, params)
    demand = np.full(world.n_markets, 800.0)
    supply = np.full(world.n_markets, 100)
    supply[world.market_towns] = 40  # 800 jobs for 400 seekers
    _clear(markets, region, demand, supply)
    assert markets.p_employed[world.market_towns] == 1.0
    assert markets.p_employed[world.market_towns + 1] == 800.0 / (100 * WEIGHT)


def test_a_rigid_wage_does_not_move_with_speed_zero(region, world):
    rigid = resolve_params(region, {"wage_adjustment_speed": 0.0, "wage_growth": 0.0})
    markets = _markets(region, world, rigid)
    before = markets.market_wage.copy()
    demand = np.linspace(100.0, 5000.0, world.n_markets)
    _clear(markets, region, demand, np.full(world.n_markets, 120), years=2.0)
    outside = world.market_outside
    assert (markets.market_wage[:outside] == before[:outside]).all()
    assert (markets.p_employed[:outside] < 1.0).any()


def test_outside_markets_follow_their_wage_path(region, world, params):
    markets = _markets(region, world, params)
    years = 3.0
    _clear(markets, region, np.full(world.n_markets, 1000.0), np.full(world.n_markets, 50), years)
    outside = world.market_outside
    trend = (1 + params.wage_growth) ** years * (1 + params.outside_wage_growth_premium) ** years
    assert markets.market_wage[outside:] == pytest.approx(markets.base_wage[outside:] * trend)
    assert (markets.p_employed[outside:] == params.employment_rate_outside).all()
