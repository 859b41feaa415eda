"""The migration choice's tables (sim/migration_tables.py), built directly from inputs."""

import math

import numpy as np
import pytest

from sim.data import load_region
from sim.economy import base_wages, economy_tables
from sim.levers import Policy, default_policy, lever_defaults
from sim.migration_tables import MigrationChoice, service_factor, township_residents
from sim.params import resolve_params
from sim.rules import N_AGE_BANDS, cell_index, per_step
from sim.world import (
    CENTRAL_COUNTY,
    KIND_VILLAGE,
    SLOT_CORE,
    SLOT_TOWN,
    SLOT_VILLAGE,
    build_world,
)


def _economy(region, world, params, p_employed=0.8):
    c = world.n_counties
    return economy_tables(
        params,
        world,
        region,
        4,
        years=0.0,
        policy=default_policy(lever_defaults(region)),
        market_wage=base_wages(params, world, region, world.n_markets),
        p_employed=np.full(world.n_markets, p_employed),
        road_index=np.ones(c),
        agri_index=np.ones(c),
        park_scale=np.ones(c),
    )


def _never():
    raise AssertionError("residents were read although the small-cities lever is off")


def _tables(region, world, params, choice, *, farm=20_000.0, residents=None, policy=None):
    base = default_policy(lever_defaults(region))
    return choice.tables(
        network=np.zeros((world.n_home_units, world.n_slots)),
        farm_income_unit=np.full(world.n_home_units, farm),
        economy=_economy(region, world, params),
        policy=policy or base,
        let_share=np.ones(world.n_counties),
        service=np.ones(world.n_counties),
        residents=np.ones(world.n_places) if residents is None else residents,
        living=_never,
        base_land_security=base.land_rights_security,
    )


@pytest.fixture(scope="module")
def two_place():
    region = load_region("two_place")
    world = build_world(region)
    return region, world, resolve_params(region)


def test_the_layout_of_a_core_an_outside_place_and_a_town(region, world, params):
    lay = MigrationChoice(world, region, params, 4).layout
    c, towns, outside = world.n_counties, world.market_towns, world.market_outside
    core = 1
    expected = [towns + core, towns + core, *range(c), *range(outside, world.n_markets)]
    assert lay["slot_market"][core].tolist() == expected
    assert lay["home_slot"][core].tolist() == [SLOT_CORE + core] * 2
    assert not lay["is_town"][core]
    away = world.first_outside + 2
    assert lay["home_slot"][away].tolist() == [world.slot_outside + 2] * 2
    assert lay["own_outside"][away].tolist() == [False, False, True, False]
    town = world.first_town
    county = world.county[town]
    assert lay["slot_market"][town, SLOT_VILLAGE] == towns + county
    assert lay["slot_market"][town, SLOT_TOWN] == towns + county
    assert lay["home_slot"][town].tolist() == [SLOT_VILLAGE, SLOT_TOWN]
    assert lay["is_town"][town] == 1
    assert lay["local_core"][town].tolist() == [k == county for k in range(c)]
    assert len(lay["seatless"]) == 0


def test_a_seatless_townships_town_slot_has_weight_zero(two_place):
    region, world, params = two_place
    choice = MigrationChoice(world, region, params, 4)
    (township,) = choice.layout["seatless"]
    tables, _ = _tables(region, world, params, choice)
    rows = [
        cell_index(township, h, s, band, kids)
        for h in range(2)
        for s in range(3)
        for band in range(N_AGE_BANDS)
        for kids in range(2)
    ]
    assert (tables.weights[rows, SLOT_TOWN] == 0.0).all()
    assert (tables.weights[rows, SLOT_CORE] > 0).all()
    assert tables.totals[rows] == pytest.approx(tables.weights[rows].sum(axis=1))


def test_without_frictions_the_weights_are_income_ratios(two_place):
    """two_place: every friction 0, so weights are exp(beta_income * ln income)."""
    region, world, base_params = two_place
    params = resolve_params(region, {"beta_income": 1.7})
    choice = MigrationChoice(world, region, params, 4)
    farm = 20_000.0
    tables, _ = _tables(region, world, params, choice, farm=farm)
    assert tables.stay_boost == math.expm1(params.stay_bonus) == 0.0
    (township,) = choice.layout["seatless"]
    wage = params.wage_core_2023 * 0.8 * params.net_wage_factor
    multiplier = [1.0, params.skill_premium_mid, params.skill_premium_high]
    for skill in range(3):
        for band in range(N_AGE_BANDS):
            row = cell_index(township, 0, skill, band, 0)
            odds = tables.weights[row, SLOT_CORE] / tables.weights[row, SLOT_VILLAGE]
            income = wage * multiplier[skill]
            assert odds == pytest.approx(math.exp(1.7 * (math.log(income) - math.log(farm))))
    assert base_params.beta_income != 1.7


def test_expected_incomes_are_wage_times_employment_and_the_village_income(two_place):
    region, world, params = two_place
    choice = MigrationChoice(world, region, params, 4)
    residents = np.zeros(world.n_places)
    villages = np.flatnonzero(world.kind == KIND_VILLAGE)
    residents[villages] = 3
    _, expected = _tables(region, world, params, choice, farm=18_000.0, residents=residents)
    urban = params.wage_core_2023 * 0.8 * params.net_wage_factor
    assert expected.urban.tolist() == [urban]
    # No commuting and no household business in two_place: the village income is farming.
    assert expected.village_residents.tolist() == [3.0 * len(villages)]
    assert expected.rural_sum.tolist() == [18_000.0 * 3.0 * len(villages)]


def test_the_small_city_bonus_goes_to_towns_of_more_than_50000(region, world, params):
    choice = MigrationChoice(world, region, params, 4)
    base = default_policy(lever_defaults(region))
    assert not choice.small_city_bonus(base, _never).any()
    values = {k: v.copy() for k, v in base.values.items()}
    values["small_cities"][CENTRAL_COUNTY] = 0.5
    big, small, below = world.first_town, world.first_town + 1, world.first_town + 2
    living = np.zeros(world.n_places)
    living[big] = 60_000.0
    living[small] = 40_000.0
    village = np.flatnonzero((world.kind == KIND_VILLAGE) & (world.town_of == small))[0]
    living[village] = 11_000.0  # the township of a town counts its villages
    living[below] = 49_999.0
    bonus = choice.small_city_bonus(Policy(values), lambda: living)
    assert bonus[big] == bonus[small] == 0.5 * params.small_city_utility
    assert np.count_nonzero(bonus) == 2
    township = township_residents(world, living)
    assert township[small] == 51_000.0
    assert township[below] == 49_999.0


def test_land_guard_is_zero_at_2023_security_and_spares_the_own_county(region, world, params):
    choice = MigrationChoice(world, region, params, 4)
    base = default_policy(lever_defaults(region))
    assert not choice.land_guard(base, base.land_rights_security).any()
    less = base.land_rights_security - 0.2
    guard = choice.land_guard(base, less)
    town = world.first_town
    county = world.county[town]
    assert guard[town, SLOT_CORE + county] == 0.0
    assert guard[town, world.slot_outside] == pytest.approx(params.land_guard_cost * -0.2)
    assert not guard[: world.first_town].any()  # cores and outside homes hold no land


def test_hazards_follow_rates_and_service_factor(region, world, params):
    choice = MigrationChoice(world, region, params, 4)
    hazards = choice.hazards()
    assert hazards[0, 0] == per_step(params.hazard_16_24, 4)
    searching = min(1.0, params.hazard_60_74 * params.unemployed_hazard_factor)
    assert hazards[1, -1] == per_step(searching, 4)
    service = service_factor(params, [1.0, 0.5, 9.0, 1.0, 1.0])
    assert service.tolist() == [1.0, 0.5, params.service_index_max, 1.0, 1.0]
    follow = choice.follow_by_place(default_policy(lever_defaults(region)), service)
    for j, key in enumerate(region.outside_keys):
        quarterly = params.child_follow_rate * getattr(params, f"service_access_{key}")
        assert follow[world.first_outside + j] == 1 - (1 - quarterly) ** (4 / 4)
    village = np.flatnonzero(world.kind == KIND_VILLAGE)[0]
    assert follow[village] == pytest.approx(params.child_follow_rate)
