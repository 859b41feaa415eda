"""What the county budgets read (sim/budgets.py), computed directly from counts."""

import numpy as np
import pytest

from sim.budgets import county_shares, lever_spending, urban_residents, wage_bills
from sim.levers import SPENDING_CATEGORIES, Policy, default_policy, lever_defaults


def test_county_shares_and_urban_residents(world):
    residents = np.ones(world.n_places)
    shares = county_shares(world, residents)
    assert shares.sum() == pytest.approx(1.0)
    in_county = np.bincount(world.county[world.county >= 0], minlength=world.n_counties)
    np.testing.assert_allclose(shares, in_county / in_county.sum())
    urban = urban_residents(world, residents, weight=10.0)
    places = np.bincount(
        world.county[(world.urban == 1) & (world.county >= 0)], minlength=world.n_counties
    )
    assert urban.tolist() == (places * 10.0).tolist()


def test_a_countys_wage_bill_is_its_seats_market_and_its_towns(world):
    employed = np.zeros((world.n_markets, 3))
    wages = np.full((world.n_markets, 3), 40_000.0)
    employed[2, 0] = 3  # the third county's seat
    employed[world.market_towns + 2, 1] = 2  # its towns
    employed[world.market_outside, 0] = 100  # outside: no county's
    bill = wage_bills(world, employed, wages, spy=4, weight=10.0)
    assert bill.tolist() == [0.0, 0.0, 5 * 40_000.0 / 4 * 10.0, 0.0, 0.0]


def _spending(region, params, policy, **counts):
    c = len(region.county_keys)
    inputs = {
        "paid": {"work_relief": np.zeros(c), "collective_dividends": np.zeros(c)},
        "seat_non_local": np.zeros(c),
        "kids_non_local": np.zeros(c),
        "trainees": np.zeros(c, np.int64),
        "shares": np.full(c, 1 / c),
        "citizenised": np.zeros(c),
        **counts,
    }
    base = default_policy(lever_defaults(region))
    return lever_spending(params, policy, base, spy=4, weight=10.0, price=1.5, **inputs)


def test_lever_spending_follows_what_the_model_counts(region, params):
    base = default_policy(lever_defaults(region))
    c = len(region.county_keys)
    relief = np.arange(c, dtype=float)
    spent = _spending(
        region,
        params,
        base,
        paid={"work_relief": relief, "collective_dividends": 2 * relief},
        trainees=np.full(c, 3, np.int64),
        citizenised=np.full(c, 7.0),
    )
    assert spent.shape == (c, len(SPENDING_CATEGORIES))
    column = dict(zip(SPENDING_CATEGORIES, spent.T, strict=True))
    assert column["work_relief"].tolist() == (relief / params.work_relief_labour_share).tolist()
    assert column["collective_dividends"].tolist() == (2 * relief).tolist()
    training = params.training_cost_per_trainee * 1.5 * 3 * 10.0
    assert column["vocational_training"].tolist() == [training] * c
    citizens = params.citizenisation_public_cost * 1.5 * 7.0
    assert column["citizenisation"].tolist() == [citizens] * c


def test_access_beyond_2023_is_paid_per_non_local_resident(region, params):
    base = default_policy(lever_defaults(region))
    c = len(region.county_keys)
    seat = np.full(c, 100.0)
    at_2023 = _spending(region, params, base, seat_non_local=seat)
    k = SPENDING_CATEGORIES.index("services_by_residence")
    assert not at_2023[:, k].any()
    values = {name: v.copy() for name, v in base.values.items()}
    values["services_by_residence"] = values["services_by_residence"] + 0.1
    more = _spending(region, params, Policy(values), seat_non_local=seat)
    cost = 0.1 * params.residence_service_cost * 1.5 * 100.0 * 10.0 / 4
    np.testing.assert_allclose(more[:, k], cost)
