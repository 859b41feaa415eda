"""What the county budgets of a step read: wage bills, urban residents and lever spending.

The counties (:class:`sim.agents.County`) run their budgets on these amounts; the
model passes them each step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.levers import SPENDING_CATEGORIES, catalogue_spending

if TYPE_CHECKING:
    from sim.levers import Policy
    from sim.params import Params
    from sim.world import World


def county_shares(world: World, residents: np.ndarray) -> np.ndarray:
    """The counties' shares of the region's residents (``residents`` by place)."""
    counted = world.county >= 0
    by_county = np.bincount(
        world.county[counted], weights=residents[counted], minlength=world.n_counties
    )
    return by_county / by_county.sum()


def wage_bills(
    world: World, employed: np.ndarray, wages: np.ndarray, spy: int, weight: float
) -> np.ndarray:
    """Wages paid in each county in one step (yuan): its seat's market and its towns'.

    Args:
        world: Place layout.
        employed: Wage workers by market and skill (agent units).
        wages: Gross yearly wage by market and skill.
        spy: Steps per year.
        weight: Real persons per agent.
    """
    paid = (employed * wages).sum(axis=1) / spy * weight
    return paid[: world.n_counties] + paid[world.market_towns : world.market_outside]


def urban_residents(world: World, residents: np.ndarray, weight: float) -> np.ndarray:
    """Real residents of each county's urban places (``residents`` by place, agent units)."""
    urban_places = (world.urban == 1) & (world.county >= 0)
    return (
        np.bincount(
            world.county[urban_places],
            weights=residents[urban_places],
            minlength=world.n_counties,
        )
        * weight
    )


def lever_spending(
    params: Params,
    policy: Policy,
    base_policy: Policy,
    *,
    spy: int,
    weight: float,
    price: float,
    paid: dict[str, np.ndarray],
    seat_non_local: np.ndarray,
    kids_non_local: np.ndarray,
    trainees: np.ndarray,
    shares: np.ndarray,
    citizenised: np.ndarray,
) -> np.ndarray:
    """Lever spending of one step by county and category (yuan per step).

    Where the model has the quantity the spending follows it (wages and dividends paid
    to persons, persons citizenised, the money levers); other levers are priced from
    the catalogue and split by the counties' 2023 residents.

    Args:
        params: Behavioural parameters.
        policy: The policy in force.
        base_policy: The region's 2023 policy, which levers are priced against.
        spy: Steps per year.
        weight: Real persons per agent.
        price: Growth factor of wages since 2023.
        paid: What the income rule paid persons from the budgets, by county
            (``work_relief``, ``collective_dividends``; yuan per step).
        seat_non_local: Seat residents with a hukou from elsewhere, by county (agents).
        kids_non_local: Such children under 16 in the towns and the seat (agents).
        trainees: Persons upgraded by vocational training this step, by county (agents).
        shares: The counties' 2023 shares of residents (:func:`county_shares`).
        citizenised: Persons citizenised this step, by county (real persons).
    """
    p = params
    more_access = {
        name: np.maximum(0.0, getattr(policy, name) - base_policy.values[name])
        for name in ("services_by_residence", "migrant_school_access")
    }
    out = np.empty((len(shares), len(SPENDING_CATEGORIES)))
    columns = {
        "work_relief": paid["work_relief"] / p.work_relief_labour_share,
        "collective_dividends": paid["collective_dividends"],
        "rural_roads": policy.rural_roads * price / spy,
        "service_capacity": policy.service_capacity * price / spy,
        "citizenisation": p.citizenisation_public_cost * price * citizenised,
        "vocational_training": p.training_cost_per_trainee * price * trainees * weight,
        "services_by_residence": more_access["services_by_residence"]
        * p.residence_service_cost
        * price
        * seat_non_local
        * weight
        / spy,
        "migrant_school_access": more_access["migrant_school_access"]
        * p.school_place_cost
        * price
        * kids_non_local
        * weight
        / spy,
        "catalogue": catalogue_spending(policy, shares, p.park_public_share, base_policy)
        * price
        / spy,
    }
    for k, name in enumerate(SPENDING_CATEGORIES):
        out[:, k] = columns[name]
    return out
