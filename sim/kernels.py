"""Numba kernels of ``backend=numba``: loops over persons and households.

Kernels take arrays and write into outputs; they never draw from a global random
generator (every draw is :func:`sim.rng.uniform` of seed, step, agent id and purpose) and
never allocate the state. Loops over persons whose iterations are independent run in
parallel (``prange``); sums run serially in id order, so results do not depend on the
number of threads.
"""

from __future__ import annotations

import types

import numpy as np
from numba import get_num_threads, njit, prange

from sim import rng
from sim.rules import (
    CHILD_AGE,
    ROLE_FARM,
    ROLE_NONE,
    ROLE_SEEK,
    age_band,
    cell_index,
    choose_slot,
    current_slot,
    farm_capacity_tenths,
    hukou_application_probability,
    is_birthday,
    labour_role,
    land_offer,
    land_step,
    lives_at_home,
    participation,
    person_income,
    slot_place,
    wage_work_age_max,
)
from sim.state import WORK_FARM, WORK_NONE, WORK_SEEKING, WORK_WAGE
from sim.world import KIND_CORE, KIND_OUTSIDE, KIND_TOWN, KIND_VILLAGE, N_COUNTIES, N_SLOTS


class Kernel:
    """A kernel compiled twice: with ``prange`` run on numba's threads, and serially.

    A call on one numba thread runs the serial machine code, which skips the launch of a
    parallel region (a fixed cost of about 0.2 ms with the fork-safe threading layer; at
    1:200 the launches were a third of a step). Results are the same either way.

    Some loops compile to faster code as a parallel region even on one thread (numba
    then knows the arrays do not overlap): measured at 1:4, one thread, the demography
    decisions took 3.0 ms in parallel form and 10.8 ms serially, the incomes 19.9 and
    45.0 ms. Those are declared ``serial=False`` and always run in parallel form.
    """

    def __init__(self, func, serial: bool = True):
        self.py_func = func
        self.parallel = njit(cache=True, parallel=True)(func)
        twin = types.FunctionType(
            func.__code__, func.__globals__, func.__name__ + "_serial", func.__defaults__
        )
        twin.__qualname__ = func.__qualname__ + "_serial"
        twin.__module__ = func.__module__
        twin.__doc__ = func.__doc__
        self.serial = njit(cache=True)(twin) if serial else self.parallel
        self._cache = self.parallel._cache  # where numba caches both (sim.kernel_cache)
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__

    def __call__(self, *args):
        """Run on numba's threads, or serially when numba has one thread."""
        if get_num_threads() == 1:
            return self.serial(*args)
        return self.parallel(*args)


def parallel_kernel(func=None, *, serial: bool = True):
    """Decorator: compile ``func`` as a :class:`Kernel`."""
    if func is None:
        return lambda f: Kernel(f, serial=serial)
    return Kernel(func, serial=serial)


# Integer counts are added up by block of persons, one block per thread: integer sums do
# not depend on the order of the additions, so the counts are the same for any number of
# threads (float sums use fixed chunks instead; see CHUNK below).


def n_blocks(n: int) -> int:
    """Blocks of persons for integer counts: one per thread, none empty."""
    return max(1, min(get_num_threads(), n))


@njit(cache=True)
def block_range(b, n, blocks):
    """The persons ``[start, stop)`` of block ``b`` of ``blocks``."""
    size = (n + blocks - 1) // blocks
    return b * size, min(n, (b + 1) * size)


# ---------------------------------------------------------------------------- demography


@parallel_kernel(serial=False)
def demography_decide(
    n,
    alive,
    age,
    female,
    birth_quarter,
    work,
    income,
    seed,
    step,
    step_in_year,
    spy,
    death_step,
    birth_step,
    dies,
    births,
):
    """Deaths, births and birthdays, all decided on the state at the start of the step.

    ``death_step[sex, age]`` and ``birth_step[age]`` are per-step probabilities built by
    :func:`sim.model.demography_tables` from the rules. Deaths and birthdays are applied
    here; births are applied by :func:`add_newborns`.
    """
    top = death_step.shape[1] - 1
    for i in prange(n):
        dies[i] = 0
        births[i] = 0
        if not alive[i]:
            continue
        a = age[i] if age[i] < top else top
        if female[i] and rng.uniform(seed, step, i, rng.BIRTH) < birth_step[a]:
            births[i] = 1
        if rng.uniform(seed, step, i, rng.DEATH) < death_step[female[i], a]:
            dies[i] = 1
            alive[i] = 0
            work[i] = WORK_NONE
            income[i] = 0.0
        elif is_birthday(step_in_year, birth_quarter[i], spy):
            age[i] += 1


@njit(cache=True)
def demography_events(n, births, dies, residence, place_county):
    """Mothers in id order, and births and deaths of residents by county (serial)."""
    mothers = np.empty(n, np.int64)
    n_mothers = 0
    born = np.zeros(N_COUNTIES, np.int64)
    died = np.zeros(N_COUNTIES, np.int64)
    for i in range(n):
        if births[i] or dies[i]:
            county = place_county[residence[i]]
            if births[i]:
                mothers[n_mothers] = i
                n_mothers += 1
                if county >= 0:
                    born[county] += 1
            if dies[i] and county >= 0:
                died[county] += 1
    return mothers[:n_mothers].copy(), born, died


@njit(cache=True)
def add_newborns(
    n,
    mothers,
    alive,
    age,
    birth_quarter,
    female,
    skill,
    hukou_place,
    hukou_urban,
    residence,
    household,
    mother,
    work,
    sector,
    stay,
    income,
    seed,
    step,
    step_in_year,
    spy,
    p_female_birth,
    p_high,
    p_mid,
    rural_high_factor,
):
    """Append one newborn per mother (mothers in id order); return the new slot count."""
    new = n
    for k in range(mothers.shape[0]):
        i = mothers[k]
        j = new
        new += 1
        alive[j] = 1
        age[j] = 0
        birth_quarter[j] = step_in_year * 4 // spy
        female[j] = 1 if rng.uniform(seed, step, j, rng.NEWBORN_SEX) < p_female_birth else 0
        u = rng.uniform(seed, step, j, rng.NEWBORN_SKILL)
        high = p_high if hukou_urban[i] else p_high * rural_high_factor
        skill[j] = 2 if u < high else (1 if u < high + p_mid else 0)
        hukou_place[j] = hukou_place[i]
        hukou_urban[j] = hukou_urban[i]
        residence[j] = residence[i]
        household[j] = household[i]
        mother[j] = i
        work[j] = WORK_NONE
        sector[j] = 0
        stay[j] = 0
        income[j] = 0.0
    return new


# ---------------------------------------------------------------------------- labour market


@parallel_kernel
def labour_roles(
    n,
    alive,
    age,
    female,
    hukou_urban,
    residence,
    household,
    hh_village,
    hh_land,
    place_kind,
    place_county,
    town_of,
    seed,
    year_index,
    commute_access,
    town_wage_share,
    retire_men,
    retire_women,
    rural_max,
    farm_max,
    part_16_19,
    part_20_24,
    part_men,
    part_women,
    place_market,
    n_markets,
    role,
    blocks,
):
    """Each person's labour role this step (participation is drawn once a year).

    Returns:
        Job seekers per labour market.
    """
    seekers = np.zeros((blocks, n_markets), np.int64)
    for b in prange(blocks):
        start, stop = block_range(b, n, blocks)
        for i in range(start, stop):
            if not alive[i]:
                role[i] = ROLE_NONE
                continue
            res = residence[i]
            work_max = wage_work_age_max(
                female[i], hukou_urban[i], retire_men, retire_women, rural_max
            )
            p_part = participation(age[i], female[i], part_16_19, part_20_24, part_men, part_women)
            h = household[i]
            can_farm = False
            access = 0.0
            if hh_land[h] > 0 and lives_at_home(res, hh_village[h], town_of):
                can_farm = True
                if place_kind[res] == KIND_VILLAGE:
                    access = commute_access[place_county[res]]
                else:
                    access = town_wage_share
            r = labour_role(
                age[i],
                work_max,
                farm_max,
                rng.uniform(seed, year_index, i, rng.PARTICIPATE),
                p_part,
                can_farm,
                rng.uniform(seed, year_index, i, rng.COMMUTE),
                access,
            )
            role[i] = r
            if r == ROLE_SEEK:
                seekers[b, place_market[res]] += 1
    return seekers.sum(axis=0)


@parallel_kernel
def labour_assign(
    n,
    alive,
    age,
    skill,
    role,
    residence,
    place_market,
    p_employed,
    industry_share,
    seed,
    step,
    upgrade_step,
    training_age_max,
    hukou_place,
    place_county,
    work,
    sector,
    blocks,
):
    """Job draws for seekers, farm work for the rest; vocational upgrades.

    Returns:
        Persons upgraded by county of training: the county of residence, or for persons
        living outside the city the county of their hukou.
    """
    trained = np.zeros((blocks, N_COUNTIES), np.int64)
    for b in prange(blocks):
        start, stop = block_range(b, n, blocks)
        for i in range(start, stop):
            if not alive[i]:
                continue
            r = role[i]
            if r == ROLE_SEEK:
                m = place_market[residence[i]]
                if rng.uniform(seed, step, i, rng.JOB_SEARCH) < p_employed[m]:
                    work[i] = WORK_WAGE
                    sector[i] = (
                        1 if rng.uniform(seed, step, i, rng.JOB_SECTOR) < industry_share[m] else 2
                    )
                else:
                    work[i] = WORK_SEEKING
                    sector[i] = 0
            elif r == ROLE_FARM:
                work[i] = WORK_FARM
                sector[i] = 0
            else:
                work[i] = WORK_NONE
                sector[i] = 0
            if (
                skill[i] == 0
                and 16 <= age[i] <= training_age_max
                and rng.uniform(seed, step, i, rng.SKILL_UPGRADE) < upgrade_step
            ):
                skill[i] = 1
                county = place_county[residence[i]]
                if county < 0:
                    county = place_county[hukou_place[i]]
                if county >= 0:
                    trained[b, county] += 1
    return trained.sum(axis=0)


@parallel_kernel
def person_census(
    n,
    alive,
    age,
    work,
    skill,
    residence,
    hukou_place,
    hukou_urban,
    household,
    hh_village,
    place_kind,
    place_county,
    place_market,
    n_markets,
    village_age_max,
    blocks,
):
    """The counts over persons that the incomes and budgets of a step read, in one pass.

    Returns:
        ``(employed, residents, collective, village_adults, seat_non_local,
        kids_non_local)``: wage workers per market and skill; living persons per place;
        rural-hukou members of each village collective; persons aged 16 to
        ``village_age_max`` living in their household's village, by county; residents of
        each county's seat whose hukou lies in another county or outside the city; and
        children under 16 of its towns and seat with such a hukou.
    """
    n_places = place_kind.shape[0]
    employed = np.zeros((blocks, n_markets, 3), np.int64)
    residents = np.zeros((blocks, n_places), np.int64)
    collective = np.zeros((blocks, n_places), np.int64)
    by_county = np.zeros((blocks, 3, N_COUNTIES), np.int64)
    for b in prange(blocks):
        start, stop = block_range(b, n, blocks)
        for i in range(start, stop):
            if not alive[i]:
                continue
            res = residence[i]
            home = hukou_place[i]
            residents[b, res] += 1
            if work[i] == WORK_WAGE:
                employed[b, place_market[res], skill[i]] += 1
            if hukou_urban[i] == 0 and place_kind[home] == KIND_VILLAGE:
                collective[b, home] += 1
            village = hh_village[household[i]]
            if village >= 0 and res == village and 16 <= age[i] <= village_age_max:
                by_county[b, 0, place_county[village]] += 1
            county = place_county[res]
            if county >= 0 and place_county[home] != county:
                kind = place_kind[res]
                if kind == KIND_CORE:
                    by_county[b, 1, county] += 1
                if (kind in (KIND_CORE, KIND_TOWN)) and age[i] < CHILD_AGE:
                    by_county[b, 2, county] += 1
    counts = by_county.sum(axis=0)
    return (
        employed.sum(axis=0),
        residents.sum(axis=0),
        collective.sum(axis=0),
        counts[0],
        counts[1],
        counts[2],
    )


@parallel_kernel
def residents_by_place(n, alive, residence, n_places, blocks):
    """Living persons per place."""
    residents = np.zeros((blocks, n_places), np.int64)
    for b in prange(blocks):
        start, stop = block_range(b, n, blocks)
        for i in range(start, stop):
            if alive[i]:
                residents[b, residence[i]] += 1
    return residents.sum(axis=0)


# ---------------------------------------------------------------------------- land market


@njit(cache=True)
def household_bounds(household, grouped, n, blocks):
    """Person ranges for per-household sums, in household order, then the births.

    ``blocks`` ranges never split a household, and the persons after ``grouped`` form
    one more range. Persons up to ``grouped`` sit in household order (the synthesis
    orders them; births are appended after), so the first ranges can update
    per-household arrays in parallel; the last must follow them, alone. Returns
    ``blocks + 2`` bounds.
    """
    bounds = np.empty(blocks + 2, np.int64)
    bounds[0] = 0
    size = (grouped + blocks - 1) // blocks if blocks > 0 else 0
    for b in range(1, blocks):
        j = max(bounds[b - 1], min(grouped, b * size))
        while 0 < j < grouped and household[j] == household[j - 1]:
            j += 1
        bounds[b] = j
    bounds[blocks] = grouped
    bounds[blocks + 1] = n
    return bounds


@parallel_kernel
def household_counts(n, alive, work, household, n_households, bounds):
    """Living members and farm workers per household.

    ``bounds`` (:func:`household_bounds`): blocks of persons in household order counted
    in parallel, then the births after them.
    """
    members = np.zeros(n_households, np.int64)
    workers = np.zeros(n_households, np.int64)
    blocks = bounds.shape[0] - 2
    for phase in range(2):  # the blocks in parallel, then the births alone
        first, last = (0, blocks) if phase == 0 else (blocks, blocks + 1)
        for b in prange(first, last):
            for i in range(bounds[b], bounds[b + 1]):
                if alive[i]:
                    h = household[i]
                    members[h] += 1
                    if work[i] == WORK_FARM:
                        workers[h] += 1
    return members, workers


@njit(cache=True)
def farm_land_by_unit(hh_village, land, rented, abandoned, workers, town_of, n_units):
    """Own-operated land (tenths of a mu) and at-home farm workers by home town.

    Sums over each town's households, serially in household order.
    """
    operated = np.zeros(n_units)
    farmers = np.zeros(n_units)
    for h in range(hh_village.shape[0]):
        if hh_village[h] >= 0:
            town = town_of[hh_village[h]]
            if town < n_units:
                operated[town] += land[h] - rented[h] - abandoned[h]
                farmers[town] += workers[h]
    return operated, farmers


@njit(cache=True)
def farm_capacities(workers, mu_per_worker):
    """Land (tenths of a mu) each household's farm workers can operate."""
    out = np.empty(workers.shape[0], np.int64)
    for h in range(workers.shape[0]):
        out[h] = farm_capacity_tenths(workers[h], mu_per_worker)
    return out


@njit(cache=True)
def release_extinct_land(
    n_households, members, hh_village, land, rented_out, abandoned, collective
):
    """Land of households with no living member returns to the village collective."""
    released = 0
    for h in range(n_households):
        if members[h] == 0 and land[h] > 0:
            collective[hh_village[h]] += land[h]
            released += land[h]
            land[h] = 0
            rented_out[h] = 0
            abandoned[h] = 0
    return released


@njit(cache=True)
def unplaced_by_county(
    n_households, hh_village, land, rented_out, workers, mu_per_worker, withheld, place_county
):
    """Offered-but-unlet land and let land per county (tenths of a mu, serial)."""
    unplaced = np.zeros(N_COUNTIES, np.int64)
    let = np.zeros(N_COUNTIES, np.int64)
    for h in range(n_households):
        if land[h] <= 0:
            continue
        c = place_county[hh_village[h]]
        offer = land_offer(land[h], workers[h], mu_per_worker, withheld[c])[1]
        if offer > rented_out[h]:
            unplaced[c] += offer - rented_out[h]
        let[c] += rented_out[h]
    return unplaced, let


@parallel_kernel
def land_market(
    n_households,
    hh_village,
    land,
    rented_out,
    abandoned,
    workers,
    mu_per_worker,
    withheld_by_county,
    match_by_county,
    place_county,
    seed,
    step,
):
    """Apply the land rule to every household."""
    for h in prange(n_households):
        if land[h] <= 0:
            continue
        c = place_county[hh_village[h]]
        r, a = land_step(
            land[h],
            rented_out[h],
            workers[h],
            mu_per_worker,
            withheld_by_county[c],
            match_by_county[c],
            rng.uniform(seed, step, h, rng.LAND_MATCH),
        )
        rented_out[h] = r
        abandoned[h] = a


# ---------------------------------------------------------------------------- migration


@parallel_kernel
def migration_aggregates(
    n,
    alive,
    age,
    residence,
    hukou_place,
    household,
    place_kind,
    town_of,
    n_units,
    n_households,
    network_age_max,
    blocks,
):
    """Network counts per home unit and slot, and households with children.

    The network counts persons of working age (16 to ``network_age_max``).
    """
    network = np.zeros((blocks, n_units, N_SLOTS), np.int64)
    has_child = np.zeros(n_households, np.int8)
    for b in prange(blocks):
        start, stop = block_range(b, n, blocks)
        for i in range(start, stop):
            if not alive[i]:
                continue
            if age[i] < CHILD_AGE:
                has_child[household[i]] = 1  # threads may both write 1: same result
            if 16 <= age[i] <= network_age_max:
                s = current_slot(residence[i], hukou_place[i], place_kind, town_of)
                if s >= 0:
                    unit = (
                        hukou_place[i]
                        if place_kind[hukou_place[i]] != KIND_VILLAGE
                        else town_of[hukou_place[i]]
                    )
                    network[b, unit, s] += 1
    return network.sum(axis=0), has_child


@njit(cache=True)
def choice_weights(
    base, service, service_kids, housing, asc, home_bonus, home_slot, is_town, weights, totals
):
    """Logit weights exp(V) of every slot for every cell of the migration tables.

    The systematic utility V of slot ``d`` for a cell (home unit, hukou type, skill, age
    band, children) is ``base[unit, hukou, skill, d]`` (income, distance, province,
    network, slot constant, small-city bonus) plus service access (more for adults with
    children) minus the housing cost, except at home, where the slot constant and the
    housing cost give way to the home premium of the age band. Slots that do not exist
    for a kind of home (the village for urban hukou; village and town for homes that
    are not towns) get weight 0. Weights are products of exponentials of the parts, so
    only the parts are exponentiated. Rows follow :func:`sim.rules.cell_index`.
    """
    n_units, _, n_skills, n_slots = base.shape
    n_bands = home_bonus.shape[0]
    e_house = np.exp(-housing)
    e_home = np.empty((n_bands, n_slots))
    for band in range(n_bands):
        for d in range(n_slots):
            e_home[band, d] = np.exp(home_bonus[band] - asc[d])
    e_base = np.empty(n_slots)
    for unit in range(n_units):
        e_service = np.exp(service[unit])
        e_kids = np.exp(service_kids[unit])
        for h in range(2):
            hs = home_slot[unit, h]
            first = 2 if not is_town[unit] else (1 if h == 1 else 0)
            for s in range(n_skills):
                for d in range(n_slots):
                    e_base[d] = np.exp(base[unit, h, s, d]) * e_service[d]
                for band in range(n_bands):
                    for kids in range(2):
                        row = cell_index(unit, h, s, band, kids)
                        total = 0.0
                        for d in range(n_slots):
                            if d < first:
                                w = 0.0
                            else:
                                w = e_base[d] * (e_home[band, d] if d == hs else e_house[d])
                                if kids:
                                    w *= e_kids[d]
                            weights[row, d] = w
                            total += w
                        totals[row] = total


@parallel_kernel
def migration_decide(
    n,
    alive,
    age,
    skill,
    hukou_place,
    hukou_urban,
    residence,
    household,
    mother,
    work,
    has_child,
    place_kind,
    town_of,
    weights,
    totals,
    stay_boost,
    hazard_step,
    follow_step_by_place,
    parent_age_max,
    seed,
    step,
    new_residence,
):
    """Adults who consider a move draw a slot; children may join their mother.

    ``hazard_step[searching, band]``: job seekers without work consider moving more often.
    """
    for i in prange(n):
        new_residence[i] = residence[i]
        if not alive[i]:
            continue
        a = age[i]
        if a < CHILD_AGE:
            m = mother[i]
            if (
                m >= 0
                and alive[m]
                and residence[m] != residence[i]
                and (
                    rng.uniform(seed, step, i, rng.CHILD_FOLLOW)
                    < follow_step_by_place[residence[m]]
                )
            ):
                new_residence[i] = residence[m]
            continue
        band = age_band(a)
        if band < 0:
            continue
        searching = 1 if work[i] == WORK_SEEKING else 0
        if rng.uniform(seed, step, i, rng.MOVE_HAZARD) >= hazard_step[searching, band]:
            continue
        cur = current_slot(residence[i], hukou_place[i], place_kind, town_of)
        if cur < 0:
            continue
        unit = (
            hukou_place[i]
            if place_kind[hukou_place[i]] != KIND_VILLAGE
            else town_of[hukou_place[i]]
        )
        kids = 1 if (has_child[household[i]] and a <= parent_age_max) else 0
        cell = cell_index(unit, hukou_urban[i], skill[i], band, kids)
        s = choose_slot(
            weights[cell],
            totals[cell],
            stay_boost,
            cur,
            rng.uniform(seed, step, i, rng.MOVE_CHOICE),
        )
        new_residence[i] = slot_place(s, hukou_place[i], place_kind, town_of)


@parallel_kernel
def migration_apply(n, alive, residence, new_residence, stay, months_per_step):
    """Move persons; count months at the current residence (capped to fit int16)."""
    for i in prange(n):
        if not alive[i]:
            continue
        if new_residence[i] != residence[i]:
            residence[i] = new_residence[i]
            stay[i] = 0
        elif stay[i] < 30000:
            stay[i] += months_per_step


# ---------------------------------------------------------------------------- hukou


@parallel_kernel
def hukou_decide(
    n,
    alive,
    age,
    hukou_place,
    hukou_urban,
    residence,
    household,
    mother,
    hh_land,
    place_kind,
    place_county,
    ease_by_place,
    apply_step,
    min_stay,
    fear,
    security,
    seed,
    step,
    stay,
    converts,
):
    """Adults decide to apply and are accepted; children under 16 follow their mother.

    ``security`` is the land-rights security of each county, read at the hukou place.
    """
    for i in prange(n):
        converts[i] = 0
        if not alive[i] or age[i] < CHILD_AGE:
            continue
        res = residence[i]
        if place_kind[res] == KIND_VILLAGE or res == hukou_place[i] or stay[i] < min_stay:
            continue
        has_land = hukou_urban[i] == 0 and hh_land[household[i]] > 0
        sec = security[max(place_county[hukou_place[i]], 0)]
        p = hukou_application_probability(apply_step, has_land, fear, sec)
        if (
            rng.uniform(seed, step, i, rng.HUKOU_APPLY) < p
            and rng.uniform(seed, step, i, rng.HUKOU_ACCEPT) < ease_by_place[res]
        ):
            converts[i] = 1
    for i in prange(n):
        if alive[i] and age[i] < CHILD_AGE:
            m = mother[i]
            if (
                m >= 0
                and converts[m]
                and residence[i] == residence[m]
                and hukou_place[i] != residence[i]
            ):
                converts[i] = 2


@parallel_kernel
def hukou_apply(
    n,
    converts,
    hukou_place,
    hukou_urban,
    residence,
    place_kind,
    place_county,
    citizenised,
    moved_out,
    moved_in,
    blocks,
):
    """Convert hukou to the place of residence; add citizenisation by county to the counts."""
    counts = np.zeros((blocks, 3, N_COUNTIES), np.int64)
    for b in prange(blocks):
        start, stop = block_range(b, n, blocks)
        for i in range(start, stop):
            if not converts[i]:
                continue
            res = residence[i]
            old = hukou_place[i]
            was_suining = place_kind[old] != KIND_OUTSIDE
            in_suining = place_kind[res] != KIND_OUTSIDE
            if in_suining and hukou_urban[i] == 0:
                counts[b, 0, place_county[res]] += 1
            if was_suining and not in_suining:
                counts[b, 1, place_county[old]] += 1
            if in_suining and not was_suining:
                counts[b, 2, place_county[res]] += 1
            hukou_place[i] = res
            hukou_urban[i] = 1
    total = counts.sum(axis=0)
    citizenised += total[0]
    moved_out += total[1]
    moved_in += total[2]


# ---------------------------------------------------------------------------- incomes


@parallel_kernel
def household_pools(
    n,
    alive,
    age,
    residence,
    household,
    work,
    skill,
    place_market,
    hh_village,
    town_of,
    n_households,
    wages,
    net_factor,
    remit_share,
    spy,
    bounds,
):
    """At-home members and remittances received per household.

    Each household's remittances are added in id order: ``bounds``
    (:func:`household_bounds`) keeps a household's members before the births within one
    block, and the births are added after all blocks.
    """
    at_home = np.zeros(n_households, np.int64)
    living = np.zeros(n_households, np.int64)
    remit = np.zeros(n_households, np.float64)
    blocks = bounds.shape[0] - 2
    for phase in range(2):  # the blocks in parallel, then the births alone
        first, last = (0, blocks) if phase == 0 else (blocks, blocks + 1)
        for b in prange(first, last):
            for i in range(bounds[b], bounds[b + 1]):
                if alive[i]:
                    h = household[i]
                    living[h] += 1
                    if lives_at_home(residence[i], hh_village[h], town_of):
                        at_home[h] += 1
    for phase in range(2):
        first, last = (0, blocks) if phase == 0 else (blocks, blocks + 1)
        for b in prange(first, last):
            for i in range(bounds[b], bounds[b + 1]):
                if alive[i] and work[i] == WORK_WAGE:
                    h = household[i]
                    if (
                        hh_village[h] >= 0
                        and at_home[h] > 0
                        and not lives_at_home(residence[i], hh_village[h], town_of)
                    ):
                        w = wages[place_market[residence[i]], skill[i]] * net_factor / spy
                        remit[h] += remit_share * w
    return at_home, living, remit


CHUNK = 1 << 12  # persons per partial sum: fixed, so sums do not depend on thread count


def n_chunks(n: int) -> int:
    """Number of fixed-size chunks covering ``n`` persons."""
    return (n + CHUNK - 1) // CHUNK


@parallel_kernel(serial=False)
def incomes_by_chunk(
    n,
    alive,
    age,
    female,
    hukou_place,
    hukou_urban,
    residence,
    household,
    work,
    skill,
    place_kind,
    place_market,
    place_urban,
    place_county,
    town_of,
    hh_village,
    hh_land,
    hh_rented,
    hh_abandoned,
    hh_homestead,
    at_home,
    living,
    remit_in,
    dividend_by_village,
    wages,
    crop_per_tenth,
    scalars,
    income,
    partial,
):
    """Each person's disposable income for the step, summed by fixed chunks of persons.

    ``partial[chunk, county, urban, source]`` receives the sums (sources: wages,
    operating, property, transfers, persons) in id order within each chunk; the caller
    adds the chunks up in chunk order, so totals are independent of the thread count.
    """
    for c in prange((n + CHUNK - 1) // CHUNK):
        acc = np.zeros((partial.shape[1], 2, 5))
        stop = min(n, (c + 1) * CHUNK)
        for i in range(c * CHUNK, stop):
            if not alive[i]:
                income[i] = 0.0
                continue
            h = household[i]
            w, o, p, t = person_income(
                age[i],
                female[i],
                hukou_place[i],
                hukou_urban[i],
                residence[i],
                work[i],
                skill[i],
                hh_village[h],
                hh_land[h],
                hh_rented[h],
                hh_abandoned[h],
                hh_homestead[h],
                at_home[h],
                living[h],
                remit_in[h],
                place_kind,
                place_market,
                place_urban,
                place_county,
                town_of,
                dividend_by_village,
                wages,
                crop_per_tenth,
                scalars,
            )
            income[i] = w + o + p + t
            county = place_county[residence[i]]
            if county >= 0:
                urban = place_urban[residence[i]]
                acc[county, urban, 0] += w
                acc[county, urban, 1] += o
                acc[county, urban, 2] += p
                acc[county, urban, 3] += t
                acc[county, urban, 4] += 1.0
        partial[c] = acc


# ---------------------------------------------------------------------------- tallies


@parallel_kernel
def tally_stocks(
    n,
    alive,
    age,
    female,
    skill,
    residence,
    hukou_place,
    hukou_urban,
    work,
    place_county,
    place_urban,
    place_kind,
    residents,
    registered,
    rural_old,
    outside_by_dest,
    workers,
    children,
    by_kind,
    registered_16_59,
    home_by_residence,
    pyramid,
    blocks,
):
    """Year-end stocks by county, added to the count arrays (by block of persons).

    ``registered_16_59[c, s]`` counts registered persons aged 16-59 by skill band;
    ``home_by_residence[c, d]`` registered persons of county ``c`` by where they live
    (``d`` a county, or ``N_COUNTIES`` + an outside destination, which is the place id);
    ``pyramid[u, female, band]`` residents by urban/rural, sex and five-year age band
    (the last band open).
    """
    last_band = pyramid.shape[2] - 1
    residents_b = np.zeros((blocks,) + residents.shape, np.int64)  # noqa: RUF005 (numba)
    registered_b = np.zeros((blocks,) + registered.shape, np.int64)  # noqa: RUF005 (numba)
    rural_old_b = np.zeros((blocks,) + rural_old.shape, np.int64)  # noqa: RUF005 (numba)
    outside_b = np.zeros((blocks,) + outside_by_dest.shape, np.int64)  # noqa: RUF005 (numba)
    workers_b = np.zeros((blocks,) + workers.shape, np.int64)  # noqa: RUF005 (numba)
    children_b = np.zeros((blocks,) + children.shape, np.int64)  # noqa: RUF005 (numba)
    by_kind_b = np.zeros((blocks,) + by_kind.shape, np.int64)  # noqa: RUF005 (numba)
    registered_16_59_b = np.zeros((blocks,) + registered_16_59.shape, np.int64)  # noqa: RUF005 (numba)
    home_b = np.zeros((blocks,) + home_by_residence.shape, np.int64)  # noqa: RUF005 (numba)
    pyramid_b = np.zeros((blocks,) + pyramid.shape, np.int64)  # noqa: RUF005 (numba)
    for b in prange(blocks):
        start, stop = block_range(b, n, blocks)
        for i in range(start, stop):
            if not alive[i]:
                continue
            res = residence[i]
            c = place_county[res]
            if c >= 0:
                u = place_urban[res]
                residents_b[b, c, u] += 1
                by_kind_b[b, c, place_kind[res]] += 1
                if age[i] < 16:
                    children_b[b, c, u] += 1
                elif u == 0 and age[i] >= 60:
                    rural_old_b[b, c] += 1
                if work[i] == WORK_WAGE:
                    workers_b[b, c, 0] += 1
                elif work[i] == WORK_SEEKING:
                    workers_b[b, c, 1] += 1
                pyramid_b[b, u, female[i], min(age[i] // 5, last_band)] += 1
            hc = place_county[hukou_place[i]]
            if hc >= 0:
                registered_b[b, hc, hukou_urban[i]] += 1
                if 16 <= age[i] < 60:
                    registered_16_59_b[b, hc, skill[i]] += 1
                if place_kind[res] == KIND_OUTSIDE:
                    outside_b[b, res - N_COUNTIES] += 1
                    home_b[b, hc, res] += 1
                else:
                    home_b[b, hc, c] += 1
    residents += residents_b.sum(axis=0)
    registered += registered_b.sum(axis=0)
    rural_old += rural_old_b.sum(axis=0)
    outside_by_dest += outside_b.sum(axis=0)
    workers += workers_b.sum(axis=0)
    children += children_b.sum(axis=0)
    by_kind += by_kind_b.sum(axis=0)
    registered_16_59 += registered_16_59_b.sum(axis=0)
    home_by_residence += home_b.sum(axis=0)
    pyramid += pyramid_b.sum(axis=0)


@njit(cache=True)
def tally_land(
    n_households,
    hh_village,
    land,
    rented_out,
    abandoned,
    collective,
    collective_let,
    place_county,
    n_places,
    out,
):
    """Contracted, let and abandoned land per county, collectives included (serial)."""
    for h in range(n_households):
        v = hh_village[h]
        if v < 0:
            continue
        c = place_county[v]
        out[c, 0] += land[h]
        out[c, 1] += rented_out[h]
        out[c, 2] += abandoned[h]
    for v in range(n_places):
        if collective[v] > 0:
            c = place_county[v]
            out[c, 0] += collective[v]
            out[c, 1] += collective_let[v]
            out[c, 2] += collective[v] - collective_let[v]


@njit(cache=True)
def tally_migrant_workers(
    n,
    alive,
    age,
    hukou_place,
    hukou_urban,
    residence,
    work,
    place_kind,
    place_county,
    town_of,
    counts,
    age_sum,
):
    """Rural-hukou persons registered in Suining in wage work, by home county (serial).

    Column 0 counts those working outside their home township (外出: living anywhere but
    the home village and its town), column 1 those working inside it (本地: villagers
    commute to the county's towns, town dwellers work where they live), as the national
    migrant-worker monitoring survey defines them.
    """
    for i in range(n):
        if not alive[i] or work[i] != WORK_WAGE or hukou_urban[i] != 0:
            continue
        home = hukou_place[i]
        c = place_county[home]
        if c < 0 or place_kind[home] != KIND_VILLAGE:
            continue
        res = residence[i]
        local = 1 if (res == home or res == town_of[home]) else 0
        counts[c, local] += 1
        age_sum[c, local] += age[i]
