"""The county budget rule: crowding out, the borrowing limit, capacity cuts, conservation."""

import mesa
import numpy as np
import pytest

from sim.agents import County
from sim.levers import SPENDING_CATEGORIES, default_policy
from sim.params import resolve_params

WAGE_BILL = 1e9  # yuan per step
URBAN = 500_000.0  # urban residents
SPY = 4


def _county(params) -> County:
    county = County(mesa.Model(rng=1), 0, "chuanshan", "船山区", "Chuanshan")
    _budget(county, params, {})  # the 2023 base year: calibrates the unit costs
    return county


def _budget(county, params, levers: dict[str, float]) -> None:
    county.run_budget(
        wage_bill=WAGE_BILL,
        urban_residents=URBAN,
        citizenised=0.0,
        lever_spending={name: levers.get(name, 0.0) for name in SPENDING_CATEGORIES},
        params=params,
        policy=default_policy(),
        price_level=1.0,
        steps_per_year=SPY,
    )


def _room(county) -> float:
    """Revenue less planned capacity spending: what other spending gets without levers."""
    return county.revenue - county.capacity_spending


@pytest.fixture
def params(region):
    return resolve_params(region)


def test_revenue_is_own_revenue_plus_transfers_from_higher_levels(params):
    county = _county(params)
    tax = params.county_tax_rate * WAGE_BILL
    land = params.land_sale_revenue_per_urban_resident * URBAN / SPY
    share = params.higher_level_transfer_share
    assert county.revenue == pytest.approx(tax + land + tax * share / (1 - share))
    # Without lever spending the county spends its revenue: the balance stays at zero.
    assert county.spending == county.revenue and county.balance == 0.0
    assert county.service_index == pytest.approx(1.0) and county.road_index == pytest.approx(1.0)


def test_lever_spending_crowds_out_other_spending_first(params):
    county = _county(params)
    room = _room(county)
    _budget(county, params, {"work_relief": 0.25 * room, "catalogue": 0.25 * room})
    assert county.other_spending == pytest.approx(0.5 * room)
    assert county.capacity_cut == 0.0 and county.balance == 0.0
    assert county.lever_spending == pytest.approx(0.5 * room)


def test_beyond_other_spending_the_county_borrows_up_to_its_limit(params):
    county = _county(params)
    room, revenue = _room(county), county.revenue
    limit = params.county_borrowing_limit * revenue * SPY
    _budget(county, params, {"catalogue": room + 0.5 * limit})
    assert county.other_spending == 0.0 and county.capacity_cut == 0.0
    assert county.balance == pytest.approx(-0.5 * limit)
    # The next step has only the other half of the limit left; the rest cuts capacity.
    _budget(county, params, {"catalogue": room + limit})
    assert county.balance == pytest.approx(-limit)
    assert county.capacity_cut == pytest.approx(0.5 * limit)
    untouched = _county(params)
    _budget(untouched, params, {})
    _budget(untouched, params, {})
    assert county.service_index < untouched.service_index


def test_without_borrowing_an_expensive_package_cuts_services_roads_and_agriculture(region):
    params = resolve_params(region, {"county_borrowing_limit": 0.0})
    county, untouched = _county(params), _county(params)
    room, planned = _room(county), county.capacity_spending
    _budget(county, params, {"collective_dividends": room + 0.4 * planned})
    _budget(untouched, params, {})
    assert county.capacity_cut == pytest.approx(0.4 * planned)
    assert county.capacity_spending == pytest.approx(0.6 * planned)
    assert county.balance == pytest.approx(0.0, abs=1e-3)
    for attr in ("service_index", "road_index", "agri_index"):
        assert getattr(county, attr) < getattr(untouched, attr), attr
    # Past all capacity spending, the rest is borrowed beyond the limit.
    _budget(county, params, {"collective_dividends": room + planned + 1e6})
    assert county.capacity_spending == pytest.approx(0.0, abs=1e-3)
    assert county.balance == pytest.approx(-1e6)


def test_road_and_service_money_is_spent_on_their_indices(params):
    county, untouched = _county(params), _county(params)
    _budget(county, params, {"rural_roads": 1e7, "service_capacity": 1e7})
    _budget(untouched, params, {})
    assert county.road_index > untouched.road_index
    assert county.service_index > untouched.service_index
    assert county.agri_index == untouched.agri_index


@pytest.mark.parametrize("scale", [0.0, 0.3, 1.0, 1.2, 3.0])
def test_the_balance_moves_by_revenue_minus_spending(params, scale):
    county = _county(params)
    room = _room(county)
    rng = np.random.default_rng(7)
    for _ in range(6):
        before = county.balance
        shares = rng.dirichlet(np.ones(len(SPENDING_CATEGORIES)))
        _budget(county, params, dict(zip(SPENDING_CATEGORIES, scale * room * shares, strict=True)))
        assert county.balance - before == pytest.approx(county.revenue - county.spending)
        assert county.spending == pytest.approx(
            county.capacity_spending + county.other_spending + county.lever_spending
        )
        assert county.other_spending >= 0 and county.capacity_cut >= 0
