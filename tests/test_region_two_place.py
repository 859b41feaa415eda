"""The two-place region: its long run is the Harris-Todaro equilibrium of a logit choice.

``sim/regions/two_place`` holds one rural place (villages under a seatless township) and
one urban place (the core), no outside destination and no hukou frictions. The seat's
wage is rigid (HT's minimum wage, A = wage / farm income = 2) with a fixed number of
jobs J, farm income per worker is fixed, and nobody is born, dies or crosses a move
age. Then, with r = (Y_U / Y_R)^beta the odds of the two weights, e = exp(stay_bonus)
and the per-step hazards h_R (farmers) and h_U = h_R (p + (1 - p) phi) in the core
(p = J / urban movers the employment probability, phi the seekers' extra hazard), the
stationary urban share x of the N movers solves

    x / (1 - x) = g_e(r) / (p + (1 - p) phi),   g_e(r) = r (1 + e r) / (e + r),
    r = (x* / x)^beta,  x* = A J / N  (the HT share, where Y_U = Y_R),

and the expected income gap is Y_U / Y_R - 1 = x* / x - 1. It vanishes (the
Harris-Todaro equality) as beta grows. The tests compare the model's long-run averages
with this solution within a tolerance derived from the binomial noise of the moves.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.data import load_region
from sim.indicators import indicator_table
from sim.levers import default_policy, lever_defaults
from sim.model import RongheModel, RunSpec
from sim.params import resolve_params
from sim.population import synthesize
from sim.rules import per_step
from sim.world import KIND_CORE, KIND_TOWN, build_world

SCALE = 0.02  # 20,000 movers
END_YEAR = 2045  # 88 quarters; the last 40 are averaged
AVERAGED = 40
HAZARD = 0.3  # the region's yearly decision hazard, every age


@pytest.fixture(scope="module")
def region():
    return load_region("two_place")


def run(region, seed=1, **params):
    """Per-step urban share, expected incomes and employment probability of a run."""
    world = build_world(region)
    resolved = resolve_params(region, params)
    population = synthesize(region, world, resolved, SCALE, seed)
    policy = default_policy(lever_defaults(region))
    spec = RunSpec(seed=seed, scale=SCALE, end_year=END_YEAR)
    model = RongheModel(region, world, resolved, population, spec, lambda t: policy)
    share, town = [], []
    for _ in range(model.n_steps):
        model.step()
        persons = model.backend.state()[0]
        alive = persons.alive[: persons.n] == 1
        kind = world.kind[persons.residence[: persons.n][alive]]
        share.append(np.mean(kind == KIND_CORE))
        town.append(int((kind == KIND_TOWN).sum()))
    movers = int(alive.sum())
    jobs = sum(f.demand for f in model.firms if f.market == 0) / model.weight
    table = indicator_table(
        model.tallies,
        weight=model.weight,
        steps_per_year=model.spy,
        county_area=region.county_area_keys,
        scenario="baseline",
        seed=seed,
    )
    years = table[(table.unit == "city") & (table.indicator == "expected_income_gap")]
    gap = years[years.year > END_YEAR - AVERAGED // 4].value.mean()
    return {
        "share": np.array(share),
        "town": np.array(town),
        "movers": movers,
        "jobs": jobs,
        "gap": float(gap),
        "wage": resolved.wage_core_2023 * resolved.net_wage_factor,
        "farm": resolved.farm_capacity_per_worker * resolved.crop_income_per_mu_2023,
        "params": resolved,
    }


def stationary(result, beta, stay_bonus, unemployed_factor):
    """The analytic long-run share, its gap and the share's noise over the averaged steps."""
    n, j = result["movers"], result["jobs"] / result["movers"]
    x_star = result["wage"] / result["farm"] * j
    e = math.exp(stay_bonus)
    h = per_step(HAZARD, 4)
    phi = per_step(min(1.0, unemployed_factor * HAZARD), 4) / h

    def flows(x):
        r = (x_star / x) ** beta
        p = min(1.0, j / x)
        to_town = h * r / (e + r)  # a farmer moves to the core
        to_home = h * (p + (1 - p) * phi) / (1 + e * r)  # a core mover goes home
        return to_town, to_home

    def excess(x):
        to_town, to_home = flows(x)
        return (1 - x) * to_town - x * to_home

    low, high = j + 1e-9, 1 - 1e-9
    for _ in range(200):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if excess(mid) > 0 else (low, mid)
    x = 0.5 * (low + high)
    # Noise of the share: binomial moves around the mean map, whose slope at x is lam.
    dx = 1e-6
    lam = 1 + (excess(x + dx) - excess(x - dx)) / (2 * dx)
    to_town, to_home = flows(x)
    step_var = ((1 - x) * to_town * (1 - to_town) + x * to_home * (1 - to_home)) / n
    var = step_var / (1 - lam**2)
    mean_sd = math.sqrt(var * (1 + lam) / ((1 - lam) * AVERAGED))
    return x, x_star / x - 1, mean_sd, x_star


def test_the_region_is_two_places(region):
    world = build_world(region)
    assert (world.n_counties, world.n_outside, world.n_slots) == (1, 0, 3)
    towns = world.kind == KIND_TOWN
    assert towns.sum() == 1 and world.town_seat[towns].tolist() == [0]
    assert world.urban[towns].tolist() == [0]  # the township's seat is no urban place
    result = run(region, beta_income=4)
    assert (result["town"] == 0).all()  # nobody ever lives at the seatless township
    assert result["movers"] == round(SCALE * 1_000_000)  # a closed population


@pytest.mark.parametrize(
    ("beta", "stay_bonus", "unemployed_factor"),
    [(1, 0, 1), (4, 0, 1), (16, 0, 1), (4, 1, 1), (4, 0, 2)],
)
def test_the_long_run_is_the_logit_harris_todaro_equilibrium(
    region, beta, stay_bonus, unemployed_factor
):
    result = run(
        region,
        beta_income=beta,
        stay_bonus=stay_bonus,
        unemployed_hazard_factor=unemployed_factor,
    )
    x, gap, sd, x_star = stationary(result, beta, stay_bonus, unemployed_factor)
    simulated = result["share"][-AVERAGED:].mean()
    assert abs(simulated - x) < 5 * sd, (simulated, x, sd)
    # The gap from the choice's own incomes (year means of each step's expectation).
    assert abs(result["gap"] - gap) < 5 * sd * x_star / x**2 + 0.005, (result["gap"], gap)


def test_the_gap_vanishes_as_choices_follow_income_more_closely(region):
    gaps, shares = {}, {}
    for beta in (1, 4, 16):
        result = run(region, beta_income=beta)
        gaps[beta], shares[beta] = result["gap"], result["share"][-AVERAGED:].mean()
        x_star = result["wage"] / result["farm"] * result["jobs"] / result["movers"]
    assert abs(gaps[16]) < abs(gaps[4]) < abs(gaps[1])
    assert abs(gaps[16]) < 0.08 and abs(shares[16] - x_star) < 0.02
    assert shares[16] < shares[4] < shares[1]  # the surplus of movers drains to the HT share
