"""The economy's tables (sim/economy.py), built directly from a region's inputs."""

import numpy as np
import pytest

from sim.economy import base_wage, base_wages, economy_tables, skill_multiplier, wage_trend
from sim.levers import default_policy, lever_defaults


def _tables(region, world, params, years, **inputs):
    c = world.n_counties
    arguments = {
        "market_wage": base_wages(params, world, region, world.n_markets),
        "p_employed": np.full(world.n_markets, 0.9),
        "road_index": np.ones(c),
        "agri_index": np.ones(c),
        "park_scale": np.ones(c),
        **inputs,
    }
    policy = default_policy(lever_defaults(region))
    return economy_tables(params, world, region, 4, years=years, policy=policy, **arguments)


def test_base_wages_by_kind_of_market(region, world, params):
    wages = base_wages(params, world, region, world.n_markets)
    assert (wages[: world.market_towns] == params.wage_core_2023).all()
    town = params.wage_core_2023 * params.wage_town_factor
    assert (wages[world.market_towns : world.market_outside] == town).all()
    for j, key in enumerate(region.outside_keys):
        factor = getattr(params, f"wage_factor_{key}")
        assert wages[world.market_outside + j] == params.wage_core_2023 * factor
        assert (
            base_wage(params, world, region, world.market_outside + j)
            == wages[world.market_outside + j]
        )


def test_wage_trend_compounds_from_2023(params):
    assert wage_trend(params, 0.0) == 1.0
    assert wage_trend(params, 2.5) == (1 + params.wage_growth) ** 2.5


def test_growth_factors_are_one_in_2023_and_compound_after(region, world, params):
    start = _tables(region, world, params, 0.0)
    for name in ("price", "urban_other", "rural_other", "pension_rural", "pension_urban"):
        assert getattr(start, name) == 1.0, name
    later = _tables(region, world, params, 3.25)
    assert later.price == (1 + params.wage_growth) ** 3.25
    assert later.urban_other == (1 + params.urban_other_growth) ** 3.25
    assert later.rural_other == (1 + params.rural_other_growth) ** 3.25
    assert later.pension_rural == (1 + params.pension_growth_rural) ** 3.25
    assert later.pension_urban == (1 + params.pension_growth_urban) ** 3.25
    rent = region.value("city", "land_rent", 2023) * (1 + params.land_rent_growth) ** 3.25
    assert later.rent_per_tenth == rent / 10.0 / 4
    farm = (1 + params.farm_income_growth) ** 3.25
    np.testing.assert_allclose(later.crop_per_tenth, start.crop_per_tenth * farm, rtol=1e-14)


def test_wages_by_skill_and_copied_employment(region, world, params):
    p_employed = np.linspace(0.5, 1.0, world.n_markets)
    economy = _tables(region, world, params, 1.0, p_employed=p_employed)
    wages = base_wages(params, world, region, world.n_markets)
    assert economy.wages.shape == (world.n_markets, 3)
    assert (economy.wages == wages[:, None] * skill_multiplier(params)[None, :]).all()
    assert (economy.p_employed == p_employed).all()
    assert economy.p_employed is not p_employed
    core = np.arange(world.n_markets) < world.market_towns
    assert (economy.industry_share[core] == params.industry_share_core).all()
    assert (economy.industry_share[~core] == params.industry_share_towns).all()


def test_roads_raise_commuting_up_to_its_cap(region, world, params):
    c = world.n_counties
    road = np.linspace(1.0, 1e6, c)
    economy = _tables(region, world, params, 0.0, road_index=road)
    assert economy.commute_access[0] == pytest.approx(params.commute_access_2023)
    assert economy.commute_access[-1] == params.commute_access_max


def test_capacity_and_parks_raise_crop_income(region, world, params):
    c = world.n_counties
    base = _tables(region, world, params, 0.0)
    more = _tables(
        region, world, params, 0.0, agri_index=np.full(c, 2.0), park_scale=np.full(c, 1.5)
    )
    gain = 2.0**params.agri_investment_elasticity * 1.5**params.agri_park_productivity_share
    np.testing.assert_allclose(more.crop_per_tenth, base.crop_per_tenth * gain, rtol=1e-14)
