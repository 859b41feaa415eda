"""Behavioural rules as compiled scalar functions.

Each rule decides for one agent from its own state, a few tables and counter-based
uniform draws. The numba kernels of ``backend=numba`` (``sim.kernels``) loop over the
person and household arrays calling these functions, and the Mesa agents of
``backend=agents`` (``sim.agent_backend``) call the very same compiled functions from
Python, one agent at a time: the logic of a person's step is written here once, which is
why the two backends agree bit for bit. A rule that changes several fields of a person
returns their new values as a tuple; one that counts a person somewhere returns where
(-1 for nowhere), and the backends add up.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from sim import rng
from sim.state import WORK_FARM, WORK_NONE, WORK_SEEKING, WORK_WAGE
from sim.world import (
    KIND_CORE,
    KIND_OUTSIDE,
    KIND_TOWN,
    KIND_VILLAGE,
    SLOT_CORE,
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

STAY_MONTHS_MAX = 30000  # months at the residence stop counting here (int16)

# The rules allocate nothing, so they are compiled without numba's reference counting
# (each array passed would cost an atomic increment and decrement per call). A rule that
# sets several fields of a person is inlined into the kernel's loop by numba
# (``person_rule``): called, it would be passed the structures field by field for every
# person (up to four times a kernel's time). A small yes/no rule stays a function, which
# LLVM inlines into faster loops (the demography decisions: 0.6 ms against 1.9 ms at 1:20).
rule = njit(cache=True, _nrt=False)
person_rule = njit(cache=True, _nrt=False, inline="always")


class RuleParams(NamedTuple):
    """The parameters of the person and household rules, fixed for a run."""

    spy: int  # steps per year
    months_per_step: int
    retire_men: float
    retire_women: float
    rural_work_age_max: float
    farm_work_age_max: float
    participation_16_19: float
    participation_20_24: float
    participation_men: float
    participation_women: float
    town_wage_share: float
    training_age_max: float
    p_female_birth: float
    skill_high: float
    skill_mid: float
    rural_high_factor: float
    mu_per_worker: float
    parent_age_max: float
    hukou_apply_step: float
    hukou_min_stay: int  # months
    hukou_land_fear: float
    net_wage_factor: float
    remittance_share: float


def rule_params(params, spy: int) -> RuleParams:
    """The :class:`RuleParams` of a run from its :class:`sim.params.Params`."""
    p = params
    return RuleParams(
        spy=int(spy),
        months_per_step=12 // int(spy),
        retire_men=float(p.retirement_age_men),
        retire_women=float(p.retirement_age_women),
        rural_work_age_max=float(p.rural_work_age_max),
        farm_work_age_max=float(p.farm_work_age_max),
        participation_16_19=float(p.participation_16_19),
        participation_20_24=float(p.participation_20_24),
        participation_men=float(p.participation_prime_men),
        participation_women=float(p.participation_prime_women),
        town_wage_share=float(p.town_dweller_wage_share),
        training_age_max=float(p.training_age_max),
        p_female_birth=1.0 / (1.0 + p.sex_ratio_at_birth),
        skill_high=float(p.skill_high_share_new_cohorts),
        skill_mid=float(p.skill_mid_share_new_cohorts),
        rural_high_factor=float(p.rural_high_skill_factor),
        mu_per_worker=float(p.farm_capacity_per_worker),
        parent_age_max=float(p.parent_age_max),
        hukou_apply_step=float(per_step(float(p.hukou_apply_rate), int(spy))),
        hukou_min_stay=round(p.hukou_min_stay_years * 12),
        hukou_land_fear=float(p.hukou_land_fear),
        net_wage_factor=float(p.net_wage_factor),
        remittance_share=float(p.remittance_share),
    )


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


@rule
def is_birthday(step_in_year, birth_quarter, steps_per_year):
    """True in the step of the year that holds the person's birthday."""
    return step_in_year == (birth_quarter * steps_per_year) // 4


@rule
def is_child(age):
    """True under :data:`CHILD_AGE`: a child follows the mother's moves and hukou."""
    return age < CHILD_AGE


@rule
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


@rule
def wage_work_age_max(female, hukou_urban, retire_men, retire_women, rural_max):
    """Last age of wage work: statutory retirement for urban hukou, later for rural."""
    if hukou_urban:
        return retire_women if female else retire_men
    return rural_max


@rule
def participation(age, female, part_16_19, part_20_24, part_men, part_women):
    """Labour-force participation probability below the last working age."""
    if age < 16:
        return 0.0
    if age < 20:
        return part_16_19
    if age < 25:
        return part_20_24
    return part_women if female else part_men


@rule
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


@person_rule
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


@rule
def farm_capacity_tenths(workers, mu_per_worker):
    """Land (tenths of a mu) the household's at-home farm workers can operate."""
    return np.int64(round(workers * mu_per_worker * 10.0))


@rule
def land_offer(land, workers, mu_per_worker, withheld):
    """Surplus land beyond the at-home farm workers' capacity, and the part offered."""
    surplus = land - farm_capacity_tenths(workers, mu_per_worker)
    if surplus < 0:
        surplus = 0
    return surplus, surplus - np.int64(math.floor(surplus * withheld + 0.5))


@rule
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


@rule
def home_unit(hukou_place, kind, town_of):
    """Home unit of a hukou place: the town of a village, otherwise the place itself."""
    if kind[hukou_place] == KIND_VILLAGE:
        return town_of[hukou_place]
    return hukou_place


@rule
def current_slot(residence, hukou_place, kind, town_of):
    """The choice slot a person occupies now, relative to the hukou place (-1 if none)."""
    k = kind[residence]
    if k == KIND_VILLAGE:
        return SLOT_VILLAGE if residence == hukou_place else -1
    if k == KIND_TOWN:
        return SLOT_TOWN if residence == home_unit(hukou_place, kind, town_of) else -1
    # Cores and outside places: their slots follow the home town's in place id order.
    return SLOT_CORE + residence


@rule
def slot_place(slot, hukou_place, kind, town_of):
    """Place id of a slot for a person with the given hukou place."""
    if slot == SLOT_VILLAGE:
        return hukou_place
    if slot == SLOT_TOWN:
        return home_unit(hukou_place, kind, town_of)
    return slot - SLOT_CORE


@rule
def cell_index(unit, hukou_urban, skill, band, with_children):
    """Row of the migration tables for a combination of the attributes that enter them."""
    return (((unit * 2 + hukou_urban) * 3 + skill) * N_AGE_BANDS + band) * 2 + with_children


@rule
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


@rule
def hukou_application_probability(apply_step, has_land, fear, security):
    """Probability that an eligible resident applies for a local hukou this step."""
    deterred = fear * (1.0 - security) if has_land else 0.0
    return apply_step * (1.0 - deterred)


@person_rule
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


@person_rule
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
    w,
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
    home = lives_at_home(residence, village, w.town_of)
    in_village = village >= 0 and residence == village
    wage = 0.0
    transfers = 0.0
    if work == 2:  # sim.state.WORK_WAGE
        wage = wages[w.market[residence], skill] * net / spy
        if village >= 0 and not home and at_home > 0:
            transfers -= remit_share * wage
    operating = 0.0
    property_ = 0.0
    if village >= 0 and (home or at_home == 0):
        share = 1.0 / (at_home if at_home > 0 else living)
        own = land - rented - abandoned
        operating += own * crop_per_tenth[w.county[village]] * share
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
    elif w.urban[residence] or w.kind[residence] == KIND_OUTSIDE:
        factor = 1.0 if hukou_urban else migrant_factor
        property_ += urban_other * factor / spy
        transfers += urban_transfers / spy
    if hukou_urban == 0 and w.kind[hukou_place] == KIND_VILLAGE:
        property_ += dividend_by_village[hukou_place] / spy
    transfers += (
        pension(age, female, hukou_urban, pension_rural, pension_urban, retire_men, retire_women)
        / spy
    )
    return wage, operating, property_, transfers


@person_rule
def record_income(sums, residence, wage, operating, property_, transfers, w):
    """Add a person's income by source to ``sums[county, urban]``; return the total.

    ``sums[county, urban, source]`` holds wages, operating, property and transfers, then
    the persons counted; residents outside the city are not summed.
    """
    county = w.county[residence]
    if county >= 0:
        u = w.urban[residence]
        sums[county, u, 0] += wage
        sums[county, u, 1] += operating
        sums[county, u, 2] += property_
        sums[county, u, 3] += transfers
        sums[county, u, 4] += 1.0
    return wage + operating + property_ + transfers


@person_rule
def remittance(work, residence, skill, village, at_home, w, wages, r):
    """What a member of a rural household working away sends home this step.

    Nothing when the household has nobody at home to send to.
    """
    if work != WORK_WAGE or village < 0 or at_home == 0:
        return 0.0
    if lives_at_home(residence, village, w.town_of):
        return 0.0
    wage = wages[w.market[residence], skill] * r.net_wage_factor / r.spy
    return r.remittance_share * wage


# ---------------------------------------------------------------------------- a person's step


@rule
def gives_birth(pid, age, female, seed, step, birth_step):
    """True if a woman gives birth this step (``birth_step[age]``, per-step probabilities).

    Ages beyond the table read its last row, as in :func:`dies`.
    """
    top = birth_step.shape[0] - 1
    return female != 0 and rng.uniform(seed, step, pid, rng.BIRTH) < birth_step[min(age, top)]


@rule
def dies(pid, age, female, seed, step, death_step):
    """True if a person dies this step (``death_step[sex, age]``, per-step probabilities).

    Both tables come from :func:`sim.model.demography_tables`. A birth and a death are
    decided on the state at the start of the step: a mother who dies still gives birth.
    Whoever dies takes the state :data:`DECEASED`; whoever lives ages by a year on the
    birthday (:func:`is_birthday`).
    """
    top = death_step.shape[1] - 1
    return rng.uniform(seed, step, pid, rng.DEATH) < death_step[female, min(age, top)]


# ``(alive, work, income)`` of a person who has died: out of work, earning nothing.
DECEASED = (0, WORK_NONE, 0.0)


@person_rule
def newborn(
    pid, mother, hukou_place, hukou_urban, residence, household, seed, step, step_in_year, r
):
    """A child born this step: the mother's hukou, residence and household, a drawn sex and skill.

    Returns:
        The fields of :data:`sim.state.PERSON_FIELDS`, in that order.
    """
    female = 1 if rng.uniform(seed, step, pid, rng.NEWBORN_SEX) < r.p_female_birth else 0
    u = rng.uniform(seed, step, pid, rng.NEWBORN_SKILL)
    high = r.skill_high if hukou_urban else r.skill_high * r.rural_high_factor
    skill = 2 if u < high else (1 if u < high + r.skill_mid else 0)
    quarter = step_in_year * 4 // r.spy
    return (
        1,
        0,
        quarter,
        female,
        skill,
        hukou_place,
        hukou_urban,
        residence,
        household,
        mother,
        WORK_NONE,
        0,
        0,
        0.0,
    )


@person_rule
def person_role(
    pid, age, female, hukou_urban, residence, village, land, w, commute_access, seed, year, r
):
    """A person's labour role this step (:func:`labour_role`; participation drawn yearly).

    Members of a household with land who live at its village or in the village's town can
    farm it; villagers take wage work with their county's commuting access, town dwellers
    with ``r.town_wage_share``.
    """
    work_max = wage_work_age_max(
        female, hukou_urban, r.retire_men, r.retire_women, r.rural_work_age_max
    )
    p_part = participation(
        age,
        female,
        r.participation_16_19,
        r.participation_20_24,
        r.participation_men,
        r.participation_women,
    )
    can_farm = False
    access = 0.0
    if land > 0 and lives_at_home(residence, village, w.town_of):
        can_farm = True
        if w.kind[residence] == KIND_VILLAGE:
            access = commute_access[w.county[residence]]
        else:
            access = r.town_wage_share
    return labour_role(
        age,
        work_max,
        r.farm_work_age_max,
        rng.uniform(seed, year, pid, rng.PARTICIPATE),
        p_part,
        can_farm,
        rng.uniform(seed, year, pid, rng.COMMUTE),
        access,
    )


@person_rule
def job(pid, role, residence, w, p_employed, industry_share, seed, step):
    """A seeker's job draw and sector, farm work or none.

    Returns:
        ``(work, sector)``: sector 1 industry, 2 services, 0 without a wage job.
    """
    if role == ROLE_SEEK:
        m = w.market[residence]
        if rng.uniform(seed, step, pid, rng.JOB_SEARCH) < p_employed[m]:
            if rng.uniform(seed, step, pid, rng.JOB_SECTOR) < industry_share[m]:
                return WORK_WAGE, 1
            return WORK_WAGE, 2
        return WORK_SEEKING, 0
    if role == ROLE_FARM:
        return WORK_FARM, 0
    return WORK_NONE, 0


@rule
def upgrades(pid, age, skill, upgrade_step, seed, step, r):
    """True if a low-skilled person of training age is trained up to :data:`TRAINED_SKILL`."""
    if skill != 0 or age < 16 or age > r.training_age_max:
        return False
    return rng.uniform(seed, step, pid, rng.SKILL_UPGRADE) < upgrade_step


TRAINED_SKILL = 1  # the skill a vocational upgrade gives


@person_rule
def training_county(residence, hukou_place, w):
    """County that trains a person: of residence, or of hukou for those living outside."""
    county = w.county[residence]
    if county < 0:
        return w.county[hukou_place]
    return county


@person_rule
def census_entries(age, work, residence, hukou_place, hukou_urban, village, w, age_max):
    """Where a living person counts in the census that a step's incomes and budgets read.

    Returns:
        ``(market, collective, village_county, seat_county, kid_county)``, each -1 where
        the person does not count: the market of a wage worker (counted by skill); the
        village whose collective a rural-hukou member of a village belongs to; the county
        of a person aged 16 to ``age_max`` living in the household's village; the county
        of a resident of its seat with a hukou from another county or from outside; the
        county of such a child under 16 of its towns or seat.
    """
    market = w.market[residence] if work == WORK_WAGE else -1
    collective = -1
    if hukou_urban == 0 and w.kind[hukou_place] == KIND_VILLAGE:
        collective = hukou_place
    village_county = -1
    if village >= 0 and residence == village and 16 <= age <= age_max:
        village_county = w.county[village]
    seat_county = -1
    kid_county = -1
    county = w.county[residence]
    if county >= 0 and w.county[hukou_place] != county:
        kind = w.kind[residence]
        if kind == KIND_CORE:
            seat_county = county
        if kind in (KIND_CORE, KIND_TOWN) and age < CHILD_AGE:
            kid_county = county
    return market, collective, village_county, seat_county, kid_county


@person_rule
def network_cell(age, residence, hukou_place, w, age_max):
    """Home unit and slot of a person in the migration networks, or ``(-1, -1)``.

    The networks count persons of working age, 16 to ``age_max``.
    """
    if age < 16 or age > age_max:
        return -1, -1
    s = current_slot(residence, hukou_place, w.kind, w.town_of)
    if s < 0:
        return -1, -1
    return home_unit(hukou_place, w.kind, w.town_of), s


@person_rule
def next_residence(
    pid,
    age,
    skill,
    hukou_place,
    hukou_urban,
    residence,
    work,
    has_child,
    mother_alive,
    mother_residence,
    w,
    choice,
    hazard_step,
    follow_step_by_place,
    seed,
    step,
    r,
):
    """Where a living person lives after this step's migration phase.

    A child under 16 may join a mother living elsewhere. An adult of a migration age
    band considers a move with ``hazard_step[searching, band]`` (job seekers without
    work consider it more often) and draws a slot from the row of
    ``choice = (weights, totals, stay_boost)`` (:func:`choose_slot`) that matches home
    unit, hukou type, skill, band and children in the household.
    """
    if age < CHILD_AGE:
        if (
            mother_alive
            and mother_residence != residence
            and rng.uniform(seed, step, pid, rng.CHILD_FOLLOW)
            < follow_step_by_place[mother_residence]
        ):
            return mother_residence
        return residence
    band = age_band(age)
    if band < 0:
        return residence
    searching = 1 if work == WORK_SEEKING else 0
    if rng.uniform(seed, step, pid, rng.MOVE_HAZARD) >= hazard_step[searching, band]:
        return residence
    cur = current_slot(residence, hukou_place, w.kind, w.town_of)
    if cur < 0:
        return residence
    weights, totals, stay_boost = choice
    kids = 1 if (has_child and age <= r.parent_age_max) else 0
    cell = cell_index(home_unit(hukou_place, w.kind, w.town_of), hukou_urban, skill, band, kids)
    s = choose_slot(
        weights[cell], totals[cell], stay_boost, cur, rng.uniform(seed, step, pid, rng.MOVE_CHOICE)
    )
    return slot_place(s, hukou_place, w.kind, w.town_of)


@person_rule
def settle(residence, new_residence, stay, r):
    """Move to ``new_residence``, or count the step's months at the current one.

    Returns:
        ``(residence, stay_months)``.
    """
    if new_residence != residence:
        return new_residence, 0
    if stay < STAY_MONTHS_MAX:
        return residence, stay + r.months_per_step
    return residence, stay


@person_rule
def hukou_eligible(age, hukou_place, residence, stay, w, r):
    """True for an adult who may apply for the hukou of the place of residence.

    That is an adult living in a town, a seat or outside the city, away from the hukou
    place, for ``r.hukou_min_stay`` months.
    """
    if age < CHILD_AGE or w.kind[residence] == KIND_VILLAGE or residence == hukou_place:
        return False
    return stay >= r.hukou_min_stay


@person_rule
def hukou_decision(
    pid, hukou_place, hukou_urban, residence, land, w, ease_by_place, security, seed, step, r
):
    """1 if an eligible adult (:func:`hukou_eligible`) applies and is accepted, else 0.

    The fear for the household's land at home deters rural-hukou applicants
    (``security`` of each county, read at the hukou place); the place's ease decides
    acceptance.
    """
    has_land = hukou_urban == 0 and land > 0
    sec = security[max(w.county[hukou_place], 0)]
    p = hukou_application_probability(r.hukou_apply_step, has_land, r.hukou_land_fear, sec)
    if (
        rng.uniform(seed, step, pid, rng.HUKOU_APPLY) < p
        and rng.uniform(seed, step, pid, rng.HUKOU_ACCEPT) < ease_by_place[residence]
    ):
        return 1
    return 0


@person_rule
def takes_mother_hukou(residence, hukou_place, mother_converts, mother_residence):
    """True if a child (:func:`is_child`) living with a converting mother converts too."""
    return mother_converts != 0 and residence == mother_residence and hukou_place != residence


@person_rule
def convert_hukou(residence, hukou_place, hukou_urban, w):
    """A conversion to an urban hukou of the place of residence.

    Returns:
        ``(hukou_place, hukou_urban, citizenised, moved_out, moved_in)``: the new hukou
        and the counties (-1 for none) where it counts as a rural hukou citizenised in
        the city, a hukou leaving the city, and one coming into it.
    """
    was_in = w.kind[hukou_place] != KIND_OUTSIDE
    now_in = w.kind[residence] != KIND_OUTSIDE
    citizenised = w.county[residence] if now_in and hukou_urban == 0 else -1
    moved_out = w.county[hukou_place] if was_in and not now_in else -1
    moved_in = w.county[residence] if now_in and not was_in else -1
    return residence, 1, citizenised, moved_out, moved_in


# ---------------------------------------------------------------------------- a household's land


@person_rule
def initial_land_split(hid, land, workers, transfer_rate, abandoned_share, seed, r):
    """The 2023 split of land beyond the farm workers' capacity: let or abandoned.

    The offered land is split in the 2023 proportions of let and abandoned land, by
    stochastic rounding.

    Returns:
        ``(rented_out, abandoned)`` in tenths of a mu.
    """
    offered = land - farm_capacity_tenths(workers, r.mu_per_worker)
    if offered < 0:
        offered = 0
    frac = transfer_rate / (transfer_rate + abandoned_share)
    u = rng.uniform(seed, 0, hid, rng.POP_LAND)
    rented = np.int64(math.floor(offered * frac + u))
    if rented > offered:
        rented = offered
    return rented, offered - rented


@person_rule
def unplaced_land(land, rented_out, workers, withheld, r):
    """Land a household offers that is not let yet (tenths of a mu)."""
    offer = land_offer(land, workers, r.mu_per_worker, withheld)[1]
    return offer - rented_out if offer > rented_out else 0


@person_rule
def household_land(hid, land, rented_out, workers, withheld, match, seed, step, r):
    """A household's land step (:func:`land_step`) with its draw for the match."""
    u = rng.uniform(seed, step, hid, rng.LAND_MATCH)
    return land_step(land, rented_out, workers, r.mu_per_worker, withheld, match, u)


@person_rule
def farm_unit(village, w):
    """Home unit (town) whose farm income a household's land counts in, or -1."""
    if village < 0:
        return -1
    town = w.town_of[village]
    return town if town < w.n_home_units else -1


@njit(cache=True)
def farm_income_per_worker(operated, farmers, w, crop_per_tenth, r):
    """Expected yearly farm income of an at-home worker, per home unit (town).

    Own-operated land of the town's households (tenths of a mu) over their at-home farm
    workers, at the county's income per tenth of a mu; towns without farm workers use
    one worker's capacity.
    """
    out = np.empty(operated.shape[0])
    for unit in range(operated.shape[0]):
        workers = farmers[unit]
        per_worker = operated[unit] / workers if workers > 0 else r.mu_per_worker * 10.0
        out[unit] = per_worker * crop_per_tenth[max(w.county[unit], 0)] * r.spy
    return out
