"""Behavioural rules as compiled scalar functions.

Each rule decides for one agent from its own state, a few tables and a counter-based
uniform draw. The numba kernels (``sim.kernels``) call these functions in their loops and
the Mesa agents of ``backend=agents`` (``sim.agents``) call the very same compiled
functions from Python, which is why the two backends agree bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.world import (
    KIND_CORE,
    KIND_OUTSIDE,
    KIND_TOWN,
    KIND_VILLAGE,
    N_COUNTIES,
    SLOT_CORE,
    SLOT_OUTSIDE,
    SLOT_TOWN,
    SLOT_VILLAGE,
)

# Age bands of the migration rule: 16-24, 25-34, 35-44, 45-59, 60-74.
N_AGE_BANDS = 5
AGE_BAND_MID = np.array([20.0, 30.0, 40.0, 52.0, 67.0])
MOVE_AGE_MIN = 16
MOVE_AGE_MAX = 74
CHILD_AGE = 16  # children under this age follow their mother

# Labour roles.
ROLE_NONE = -1
ROLE_FARM = -2
ROLE_SEEK = 0


@njit(cache=True)
def per_step(annual, steps_per_year):
    """Convert an annual probability to the probability for one step."""
    if annual >= 1.0:
        return 1.0
    if annual <= 0.0:
        return 0.0
    return 1.0 - (1.0 - annual) ** (1.0 / steps_per_year)


@njit(cache=True)
def death_probability(age, female, a_male, a_female, slope, infant, steps_per_year):
    """Probability of dying in one step (Gompertz hazard; infant mortality at age 0)."""
    if age == 0:
        annual = infant
    else:
        level = a_female if female else a_male
        annual = 1.0 - math.exp(-level * math.exp(slope * age))
    return per_step(annual, steps_per_year)


@njit(cache=True)
def birth_probability(age, female, fertility_by_age, steps_per_year):
    """Probability that a woman gives birth in one step."""
    if not female or age >= fertility_by_age.shape[0]:
        return 0.0
    return per_step(fertility_by_age[age], steps_per_year)


@njit(cache=True)
def is_birthday(step_in_year, birth_quarter, steps_per_year):
    """True in the step of the year that holds the person's birthday."""
    return step_in_year == (birth_quarter * steps_per_year) // 4


@njit(cache=True)
def age_band(age):
    """Migration age band (0-4), or -1 outside ages 16-74."""
    if age < MOVE_AGE_MIN or age > MOVE_AGE_MAX:
        return -1
    if age < 25:
        return 0
    if age < 35:
        return 1
    if age < 45:
        return 2
    if age < 60:
        return 3
    return 4


@njit(cache=True)
def wage_work_age_max(female, hukou_urban, retire_men, retire_women, rural_max):
    """Last age of wage work: statutory retirement for urban hukou, later for rural."""
    if hukou_urban:
        return retire_women if female else retire_men
    return rural_max


@njit(cache=True)
def participation(age, female, part_16_19, part_20_24, part_men, part_women):
    """Labour-force participation probability below the last working age."""
    if age < 16:
        return 0.0
    if age < 20:
        return part_16_19
    if age < 25:
        return part_20_24
    return part_women if female else part_men


@njit(cache=True)
def labour_role(
    age, work_max, farm_max, u_participate, p_participate, can_farm, u_wage, wage_access
):
    """What a person does on the labour market this step.

    A person who can farm the household's land (living at the home village, or in the
    home town while the household holds land) takes wage work with probability
    ``wage_access`` when active, and farms otherwise; everyone else seeks wage work when
    active.

    Returns:
        ``ROLE_SEEK`` (looks for wage work in the market of the residence; villagers
        commute to their county's towns), ``ROLE_FARM`` or ``ROLE_NONE``.
    """
    if age < 16:
        return ROLE_NONE
    active = age <= work_max and u_participate < p_participate
    if can_farm:
        if active and u_wage < wage_access:
            return ROLE_SEEK
        if age <= farm_max:
            return ROLE_FARM
        return ROLE_NONE
    if active:
        return ROLE_SEEK
    return ROLE_NONE


@njit(cache=True, inline="always")
def lives_at_home(residence, village, town_of):
    """True if a member of a rural household lives at its village or in the village's town."""
    if village < 0:
        return False
    return residence == village or residence == town_of[village]


@njit(cache=True)
def employment_probability(demand, supply):
    """Harris-Todaro employment probability: jobs over job seekers, at most one."""
    if supply <= 0.0:
        return 1.0
    p = demand / supply
    return 1.0 if p > 1.0 else p


@njit(cache=True)
def labour_market_gap(demand, supply, target_rate, gap_max):
    """Log of jobs per seeker over the natural rate, capped at ``gap_max`` either way.

    Zero when a market is empty (no demand or no seekers): nothing to adjust to.
    """
    if supply <= 0.0 or demand <= 0.0:
        return 0.0
    gap = math.log((demand / supply) / target_rate)
    if gap > gap_max:
        return gap_max
    if gap < -gap_max:
        return -gap_max
    return gap


@njit(cache=True)
def adjusted_wage(wage, demand, supply, target_rate, speed, gap_max, growth, steps_per_year):
    """Partial adjustment of a market wage towards clearing at the natural rate.

    The wage follows its trend and moves by ``speed`` times the log gap between the
    demand-supply ratio and ``target_rate`` a year (:func:`labour_market_gap`).
    """
    trend = (1.0 + growth) ** (1.0 / steps_per_year)
    gap = labour_market_gap(demand, supply, target_rate, gap_max)
    return wage * trend * math.exp(speed / steps_per_year * gap)


@njit(cache=True)
def farm_capacity_tenths(workers, mu_per_worker):
    """Land (tenths of a mu) the household's at-home farm workers can operate."""
    return np.int64(round(workers * mu_per_worker * 10.0))


@njit(cache=True)
def land_offer(land, workers, mu_per_worker, withheld):
    """Surplus land beyond the at-home farm workers' capacity, and the part offered."""
    surplus = land - farm_capacity_tenths(workers, mu_per_worker)
    if surplus < 0:
        surplus = 0
    return surplus, surplus - np.int64(math.floor(surplus * withheld + 0.5))


@njit(cache=True)
def land_step(land, rented_out, workers, mu_per_worker, withheld, match_probability, u):
    """One step of a household's land: take back, let or leave land idle.

    Land beyond what the at-home farm workers can operate is surplus. The household
    keeps the share ``withheld`` of it off the rental market (insecure tenure: a tenant
    or a reallocation may take it) and offers the rest. Land already let stays let up
    to the surplus (returnees take land back first from the tenants; running leases are
    not broken for fear); unplaced
    land finds a tenant with ``match_probability`` (stochastic rounding of the matched
    area); withheld and unplaced land lies abandoned.

    Returns:
        ``(rented_out, abandoned)`` in tenths of a mu; own operation is the remainder.
    """
    surplus, offer = land_offer(land, workers, mu_per_worker, withheld)
    if rented_out >= offer:
        kept = rented_out if rented_out < surplus else surplus
        return kept, surplus - kept
    unplaced = offer - rented_out
    matched = np.int64(math.floor(unplaced * match_probability + u))
    if matched > unplaced:
        matched = unplaced
    rented_out = rented_out + matched
    return rented_out, surplus - rented_out


@njit(cache=True)
def withheld_share(security, fear):
    """Share of surplus land a household keeps off the rental market."""
    return fear * (1.0 - security)


@njit(cache=True)
def home_unit(hukou_place, kind, town_of):
    """Home unit of a hukou place: the town of a village, otherwise the place itself."""
    if kind[hukou_place] == KIND_VILLAGE:
        return town_of[hukou_place]
    return hukou_place


@njit(cache=True)
def current_slot(residence, hukou_place, kind, town_of):
    """The choice slot a person occupies now, relative to the hukou place (-1 if none)."""
    k = kind[residence]
    if k == KIND_VILLAGE:
        return SLOT_VILLAGE if residence == hukou_place else -1
    if k == KIND_TOWN:
        return SLOT_TOWN if residence == home_unit(hukou_place, kind, town_of) else -1
    if k == KIND_CORE:
        return SLOT_CORE + residence
    return SLOT_OUTSIDE + (residence - N_COUNTIES)


@njit(cache=True)
def slot_place(slot, hukou_place, kind, town_of):
    """Place id of a slot for a person with the given hukou place."""
    if slot == SLOT_VILLAGE:
        return hukou_place
    if slot == SLOT_TOWN:
        return home_unit(hukou_place, kind, town_of)
    return slot - SLOT_CORE


@njit(cache=True)
def cell_index(unit, hukou_urban, skill, band, with_children):
    """Row of the migration tables for a combination of the attributes that enter them."""
    return (((unit * 2 + hukou_urban) * 3 + skill) * N_AGE_BANDS + band) * 2 + with_children


@njit(cache=True)
def choose_slot(weights, total, stay_boost, current, u):
    """Draw a destination slot from logit weights, with a bonus for staying.

    P(d) is proportional to ``weights[d] * (1 + stay_boost * [d == current])`` where
    ``stay_boost = exp(stay_bonus) - 1``: the inverse of the cumulative distribution at
    the uniform draw ``u``, scanning the slots in order.
    """
    extra = stay_boost * weights[current]
    target = u * (total + extra)
    run = 0.0
    last = current
    for d in range(weights.shape[0]):
        w = weights[d]
        if d == current:
            w += extra
        if w <= 0.0:
            continue
        last = d
        run += w
        if target < run:
            return d
    return last


@njit(cache=True)
def land_guard_cost(security, cost, security_2023):
    """Utility cost of leaving the county while the household holds land at home.

    ``cost`` is the cost under an expected reallocation (no security); the calibrated
    destination constants already hold the 2023 insecurity, so the result is the change
    from 2023: 0 at ``security_2023``, negative (a gain) at higher security.
    """
    return cost * (security_2023 - security)


@njit(cache=True)
def hukou_application_probability(apply_step, has_land, fear, security):
    """Probability that an eligible resident applies for a local hukou this step."""
    deterred = fear * (1.0 - security) if has_land else 0.0
    return apply_step * (1.0 - deterred)


@njit(cache=True, inline="always")
def pension(age, female, hukou_urban, rural_amount, urban_amount, retire_men, retire_women):
    """Annual pension: employee pension for urban hukou past retirement, else residents'."""
    if hukou_urban:
        if age >= (retire_women if female else retire_men):
            return urban_amount
        return 0.0
    if age >= 60:
        return rural_amount
    return 0.0


# Order of the scalar inputs of :func:`person_income` (see ``sim.model.income_scalars``).
INCOME_SCALARS = (
    "net_factor",
    "remit_share",
    "rent_per_tenth",
    "subsidy_per_tenth",
    "business",
    "urban_other",
    "urban_transfers",
    "migrant_other_factor",
    "pension_rural",
    "pension_urban",
    "retire_men",
    "retire_women",
    "rural_transfers",
    "homestead_income",
    "work_relief",
    "relief_wage",
    "farm_max",
    "spy",
)


@njit(cache=True, inline="always")
def person_income(
    age,
    female,
    hukou_place,
    hukou_urban,
    residence,
    work,
    skill,
    village,
    land,
    rented,
    abandoned,
    homestead,
    at_home,
    living,
    remit_in,
    place_kind,
    place_market,
    place_urban,
    place_county,
    town_of,
    dividend_by_village,
    wages,
    crop_per_tenth,
    s,
):
    """A person's disposable income for one step, by source.

    Household income (own farm, rent, subsidies, remittances received, an idle
    homestead put to use) is shared by the members living at the home village or its
    town, or by all living members when nobody is at home. Remittances a member working
    away sends home are negative transfers. ``s`` holds the scalars of
    ``INCOME_SCALARS`` in that order.

    Returns:
        ``(wages, operating, property, transfers)`` in yuan per step.
    """
    net, remit_share, rent, subsidy = s[0], s[1], s[2], s[3]
    business, urban_other, urban_transfers, migrant_factor = s[4], s[5], s[6], s[7]
    pension_rural, pension_urban, retire_men, retire_women = s[8], s[9], s[10], s[11]
    rural_transfers, homestead_income, relief, relief_wage = s[12], s[13], s[14], s[15]
    farm_max, spy = s[16], s[17]
    home = lives_at_home(residence, village, town_of)
    in_village = village >= 0 and residence == village
    wage = 0.0
    transfers = 0.0
    if work == 2:  # sim.state.WORK_WAGE
        wage = wages[place_market[residence], skill] * net / spy
        if village >= 0 and not home and at_home > 0:
            transfers -= remit_share * wage
    operating = 0.0
    property_ = 0.0
    if village >= 0 and (home or at_home == 0):
        share = 1.0 / (at_home if at_home > 0 else living)
        own = land - rented - abandoned
        operating += own * crop_per_tenth[place_county[village]] * share
        property_ += rented * rent * share
        transfers += land * subsidy * share
        if at_home == 0 and homestead:
            property_ += homestead_income * share
        if home:
            transfers += remit_in * share
    if in_village and 16 <= age <= farm_max:
        operating += business / spy
        wage += relief * relief_wage / spy
    if in_village:
        transfers += rural_transfers / spy
    elif place_urban[residence] or place_kind[residence] == KIND_OUTSIDE:
        factor = 1.0 if hukou_urban else migrant_factor
        property_ += urban_other * factor / spy
        transfers += urban_transfers / spy
    if hukou_urban == 0 and place_kind[hukou_place] == KIND_VILLAGE:
        property_ += dividend_by_village[hukou_place] / spy
    transfers += (
        pension(age, female, hukou_urban, pension_rural, pension_urban, retire_men, retire_women)
        / spy
    )
    return wage, operating, property_, transfers
