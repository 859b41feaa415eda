"""Numba kernels of ``backend=numba``: loops over persons and households.

A kernel loops over the arrays and calls the rules of :mod:`sim.rules` for each person
or household: what a person does is decided there, once for both backends, and a
kernel reads the arrays, applies the rule's results and adds up the counts. Kernels
take the state and tables as a few typed structures (:class:`sim.state.PersonArrays`
``p``, :class:`sim.state.HouseholdArrays` ``h``, :class:`sim.state.PlaceTables` ``w``,
:class:`sim.rules.RuleParams` ``r``) and write into the state or into outputs that the
caller allocates (counts by block of persons, which the caller adds up); they never draw
from a global random generator (every draw is :func:`sim.rng.uniform` of seed, step,
agent id and purpose). Loops over persons whose iterations are independent run in
parallel (``prange``); sums run serially in id order, so results do not depend on the
number of threads.

A parallel kernel binds each array it writes to a local name, one assignment each, before
its ``prange`` loop: numba's parallel loops (0.61) drop the writes made through a tuple's
field or through names unpacked from a tuple of four or more.
"""

from __future__ import annotations

import types

import numpy as np
from numba import get_num_threads, njit, prange

from sim.rules import (
    CHILD_AGE,
    DECEASED,
    ROLE_NONE,
    ROLE_SEEK,
    TRAINED_SKILL,
    cell_index,
    census_entries,
    convert_hukou,
    dies,
    farm_unit,
    gives_birth,
    household_land,
    hukou_decision,
    hukou_eligible,
    initial_land_split,
    is_birthday,
    is_child,
    job,
    lives_at_home,
    network_cell,
    newborn,
    next_residence,
    person_income,
    person_role,
    record_income,
    remittance,
    settle,
    takes_mother_hukou,
    training_county,
    unplaced_land,
    upgrades,
)
from sim.state import CHUNK, WORK_FARM, WORK_SEEKING, WORK_WAGE
from sim.world import KIND_OUTSIDE, KIND_VILLAGE


class Kernel:
    """A kernel compiled twice: with ``prange`` run on numba's threads, and serially.

    A call on one numba thread runs the serial machine code, which skips the launch of a
    parallel region (a fixed cost of about 0.2 ms with the fork-safe threading layer; at
    1:200 the launches were a third of a step). Results are the same either way.

    Some loops compile to faster code as a parallel region even on one thread (numba
    then knows the arrays do not overlap): measured at 1:4, one thread, the demography
    decisions took 3.0 ms in parallel form and 10.8 ms serially, the incomes 19.9 and
    45.0 ms. Those are declared ``serial=False`` and always run in parallel form.

    A kernel that allocates nothing is compiled without numba's reference counting
    (``nrt=False``): taken from the structures in a loop, every array would otherwise
    cost an atomic increment and decrement per person (up to four times a kernel's time).
    """

    def __init__(self, func, serial: bool = True, nrt: bool = False):
        self.py_func = func
        self.parallel = njit(cache=True, parallel=True, _nrt=nrt)(func)
        twin = types.FunctionType(
            func.__code__, func.__globals__, func.__name__ + "_serial", func.__defaults__
        )
        twin.__qualname__ = func.__qualname__ + "_serial"
        twin.__module__ = func.__module__
        twin.__doc__ = func.__doc__
        self.serial = njit(cache=True, _nrt=nrt)(twin) if serial else self.parallel
        self._cache = self.parallel._cache  # where numba caches both (sim.kernel_cache)
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__

    def __call__(self, *args):
        """Run on numba's threads, or serially when numba has one thread."""
        if get_num_threads() == 1:
            return self.serial(*args)
        return self.parallel(*args)


def parallel_kernel(func=None, *, serial: bool = True, nrt: bool = False):
    """Decorator: compile ``func`` as a :class:`Kernel`."""
    if func is None:
        return lambda f: Kernel(f, serial=serial, nrt=nrt)
    return Kernel(func, serial=serial, nrt=nrt)


# Integer counts are added up by block of persons, one block per thread: integer sums do
# not depend on the order of the additions, so the counts are the same for any number of
# threads (float sums use fixed chunks instead: ``sim.state.CHUNK``).


def n_blocks(n: int) -> int:
    """Blocks of persons for integer counts: one per thread, none empty."""
    return max(1, min(get_num_threads(), n))


def block_counts(n: int, *shape: int) -> np.ndarray:
    """Zeroed integer counts ``[block, *shape]`` for a kernel over ``n`` persons."""
    return np.zeros((n_blocks(n), *shape), np.int64)


@njit(cache=True)
def block_range(b, n, blocks):
    """The persons ``[start, stop)`` of block ``b`` of ``blocks``."""
    size = (n + blocks - 1) // blocks
    return b * size, min(n, (b + 1) * size)


# ---------------------------------------------------------------------------- demography


@parallel_kernel(serial=False)
def demography_decide(p, death_step, birth_step, seed, step, step_in_year, r, died, births):
    """Births, deaths and birthdays (:func:`sim.rules.dies`), on the start state.

    Deaths and birthdays are applied here; births are applied by :func:`add_newborns`.
    """
    alive = p.alive
    age = p.age
    work = p.work
    income = p.income
    for i in prange(p.n):
        died[i] = 0
        births[i] = 0
        if not alive[i]:
            continue
        female = p.female[i]
        if gives_birth(i, age[i], female, seed, step, birth_step):
            births[i] = 1
        if dies(i, age[i], female, seed, step, death_step):
            died[i] = 1
            alive[i], work[i], income[i] = DECEASED
        elif is_birthday(step_in_year, p.birth_quarter[i], r.spy):
            age[i] += 1


@njit(cache=True)
def demography_events(p, births, died, w):
    """Mothers in id order, and births and deaths of residents by county (serial)."""
    mothers = np.empty(p.n, np.int64)
    n_mothers = 0
    born = np.zeros(w.n_counties, np.int64)
    deaths = np.zeros(w.n_counties, np.int64)
    for i in range(p.n):
        if births[i] or died[i]:
            county = w.county[p.residence[i]]
            if births[i]:
                mothers[n_mothers] = i
                n_mothers += 1
                if county >= 0:
                    born[county] += 1
            if died[i] and county >= 0:
                deaths[county] += 1
    return mothers[:n_mothers].copy(), born, deaths


@njit(cache=True)
def add_newborns(p, mothers, seed, step, step_in_year, r):
    """Append one newborn per mother (mothers in id order); return the new slot count."""
    new = p.n
    for k in range(mothers.shape[0]):
        i = mothers[k]
        j = new
        new += 1
        (
            p.alive[j],
            p.age[j],
            p.birth_quarter[j],
            p.female[j],
            p.skill[j],
            p.hukou_place[j],
            p.hukou_urban[j],
            p.residence[j],
            p.household[j],
            p.mother[j],
            p.work[j],
            p.sector[j],
            p.stay_months[j],
            p.income[j],
        ) = newborn(
            j,
            i,
            p.hukou_place[i],
            p.hukou_urban[i],
            p.residence[i],
            p.household[i],
            seed,
            step,
            step_in_year,
            r,
        )
    return new


# ---------------------------------------------------------------------------- labour market


@parallel_kernel
def labour_roles(p, h, w, r, commute_access, seed, year, role, seekers):
    """Each person's labour role (:func:`sim.rules.person_role`); ``seekers[block, market]``."""
    blocks = seekers.shape[0]
    for b in prange(blocks):
        start, stop = block_range(b, p.n, blocks)
        for i in range(start, stop):
            if not p.alive[i]:
                role[i] = ROLE_NONE
                continue
            res = p.residence[i]
            hh = p.household[i]
            chosen = person_role(
                i,
                p.age[i],
                p.female[i],
                p.hukou_urban[i],
                res,
                h.village[hh],
                h.land[hh],
                w,
                commute_access,
                seed,
                year,
                r,
            )
            role[i] = chosen
            if chosen == ROLE_SEEK:
                seekers[b, w.market[res]] += 1


@parallel_kernel
def labour_assign(p, w, r, role, p_employed, industry_share, upgrade_step, seed, step, trained):
    """Job draws, farm work (:func:`sim.rules.job`) and vocational upgrades.

    ``trained[block, county]`` counts the upgrades (:func:`sim.rules.upgrades`) by county
    of training (:func:`sim.rules.training_county`).
    """
    work = p.work
    sector = p.sector
    skill = p.skill
    blocks = trained.shape[0]
    for b in prange(blocks):
        start, stop = block_range(b, p.n, blocks)
        for i in range(start, stop):
            if not p.alive[i]:
                continue
            res = p.residence[i]
            work[i], sector[i] = job(i, role[i], res, w, p_employed, industry_share, seed, step)
            if upgrades(i, p.age[i], skill[i], upgrade_step, seed, step, r):
                skill[i] = TRAINED_SKILL
                county = training_county(res, p.hukou_place[i], w)
                if county >= 0:
                    trained[b, county] += 1


@parallel_kernel
def person_census(p, h, w, village_age_max, counts):
    """The counts over persons that the incomes and budgets of a step read, in one pass.

    ``counts`` is ``(employed, residents, collective, by_county)`` by block: wage workers
    per market and skill, living persons per place, then the counts of
    :func:`sim.rules.census_entries` (``by_county[block, k]``: village adults, seat
    residents and children with a hukou from elsewhere).
    """
    employed = counts[0]
    residents = counts[1]
    collective = counts[2]
    by_county = counts[3]
    blocks = employed.shape[0]
    for b in prange(blocks):
        start, stop = block_range(b, p.n, blocks)
        for i in range(start, stop):
            if not p.alive[i]:
                continue
            res = p.residence[i]
            residents[b, res] += 1
            market, member, village, seat, kid = census_entries(
                p.age[i],
                p.work[i],
                res,
                p.hukou_place[i],
                p.hukou_urban[i],
                h.village[p.household[i]],
                w,
                village_age_max,
            )
            if market >= 0:
                employed[b, market, p.skill[i]] += 1
            if member >= 0:
                collective[b, member] += 1
            if village >= 0:
                by_county[b, 0, village] += 1
            if seat >= 0:
                by_county[b, 1, seat] += 1
            if kid >= 0:
                by_county[b, 2, kid] += 1


@parallel_kernel
def residents_by_place(p, residents):
    """Living persons per place: ``residents[block, place]``."""
    blocks = residents.shape[0]
    for b in prange(blocks):
        start, stop = block_range(b, p.n, blocks)
        for i in range(start, stop):
            if p.alive[i]:
                residents[b, p.residence[i]] += 1


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
def household_counts(p, bounds, members, workers):
    """Living members and farm workers per household (zeroed by the caller).

    ``bounds`` (:func:`household_bounds`): blocks of persons in household order counted
    in parallel, then the births after them.
    """
    blocks = bounds.shape[0] - 2
    for phase in range(2):  # the blocks in parallel, then the births alone
        first, last = (0, blocks) if phase == 0 else (blocks, blocks + 1)
        for b in prange(first, last):
            for i in range(bounds[b], bounds[b + 1]):
                if p.alive[i]:
                    hh = p.household[i]
                    members[hh] += 1
                    if p.work[i] == WORK_FARM:
                        workers[hh] += 1


@njit(cache=True)
def farm_land_by_unit(h, workers, w):
    """Own-operated land (tenths of a mu) and at-home farm workers by home town.

    Sums over each town's households (:func:`sim.rules.farm_unit`), serially in
    household order.
    """
    operated = np.zeros(w.n_home_units)
    farmers = np.zeros(w.n_home_units)
    for k in range(h.n):
        unit = farm_unit(h.village[k], w)
        if unit >= 0:
            operated[unit] += h.land[k] - h.rented_out[k] - h.abandoned[k]
            farmers[unit] += workers[k]
    return operated, farmers


@njit(cache=True)
def initial_land(h, workers, r, transfer_rate, abandoned_share, seed):
    """The 2023 land split of every household (:func:`sim.rules.initial_land_split`)."""
    for k in range(h.n):
        h.rented_out[k], h.abandoned[k] = initial_land_split(
            k, h.land[k], workers[k], transfer_rate, abandoned_share, seed, r
        )


@njit(cache=True)
def release_extinct_land(h, members, collective):
    """Land of households with no living member returns to the village collective."""
    released = 0
    for k in range(h.n):
        if members[k] == 0 and h.land[k] > 0:
            collective[h.village[k]] += h.land[k]
            released += h.land[k]
            h.land[k] = 0
            h.rented_out[k] = 0
            h.abandoned[k] = 0
    return released


@njit(cache=True)
def unplaced_by_county(h, workers, w, withheld, r):
    """Offered-but-unlet land and let land per county (tenths of a mu, serial)."""
    unplaced = np.zeros(w.n_counties, np.int64)
    let = np.zeros(w.n_counties, np.int64)
    for k in range(h.n):
        if h.land[k] <= 0:
            continue
        c = w.county[h.village[k]]
        unplaced[c] += unplaced_land(h.land[k], h.rented_out[k], workers[k], withheld[c], r)
        let[c] += h.rented_out[k]
    return unplaced, let


@parallel_kernel
def land_market(h, workers, w, withheld, match, seed, step, r):
    """Every household's land step (:func:`sim.rules.household_land`)."""
    rented_out = h.rented_out
    abandoned = h.abandoned
    for k in prange(h.n):
        if h.land[k] <= 0:
            continue
        c = w.county[h.village[k]]
        rented_out[k], abandoned[k] = household_land(
            k, h.land[k], rented_out[k], workers[k], withheld[c], match[c], seed, step, r
        )


# ---------------------------------------------------------------------------- migration


@parallel_kernel
def migration_aggregates(p, w, r, network, has_child):
    """Network counts ``[block, home unit, slot]`` and households with children.

    The networks count persons of working age (:func:`sim.rules.network_cell`);
    ``has_child`` is zeroed by the caller.
    """
    blocks = network.shape[0]
    for b in prange(blocks):
        start, stop = block_range(b, p.n, blocks)
        for i in range(start, stop):
            if not p.alive[i]:
                continue
            if p.age[i] < CHILD_AGE:
                has_child[p.household[i]] = 1  # threads may both write 1: same result
            unit, slot = network_cell(
                p.age[i], p.residence[i], p.hukou_place[i], w, r.rural_work_age_max
            )
            if unit >= 0:
                network[b, unit, slot] += 1


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
def migration_decide(p, w, r, has_child, choice, hazard_step, follow, seed, step, new_residence):
    """Where each person lives after the migration phase (:func:`sim.rules.next_residence`).

    ``choice`` is ``(weights, totals, stay_boost)`` of the step's choice tables.
    """
    for i in prange(p.n):
        new_residence[i] = p.residence[i]
        if not p.alive[i]:
            continue
        m = p.mother[i]
        new_residence[i] = next_residence(
            i,
            p.age[i],
            p.skill[i],
            p.hukou_place[i],
            p.hukou_urban[i],
            p.residence[i],
            p.work[i],
            has_child[p.household[i]],
            m >= 0 and p.alive[m] != 0,
            p.residence[m] if m >= 0 else -1,
            w,
            choice,
            hazard_step,
            follow,
            seed,
            step,
            r,
        )


@parallel_kernel
def migration_apply(p, new_residence, r):
    """Move persons; count months at the residence (:func:`sim.rules.settle`)."""
    residence = p.residence
    stay = p.stay_months
    for i in prange(p.n):
        if p.alive[i]:
            residence[i], stay[i] = settle(residence[i], new_residence[i], stay[i], r)


# ---------------------------------------------------------------------------- hukou


@parallel_kernel
def hukou_decide(p, h, w, r, ease_by_place, security, seed, step, converts):
    """Adults apply and are accepted; children under 16 follow their mother.

    ``converts``: 1 for an adult's conversion (:func:`sim.rules.hukou_decision`), 2 for
    a child's (:func:`sim.rules.takes_mother_hukou`).
    """
    for i in prange(p.n):
        converts[i] = 0
        if p.alive[i] and hukou_eligible(
            p.age[i], p.hukou_place[i], p.residence[i], p.stay_months[i], w, r
        ):
            converts[i] = hukou_decision(
                i,
                p.hukou_place[i],
                p.hukou_urban[i],
                p.residence[i],
                h.land[p.household[i]],
                w,
                ease_by_place,
                security,
                seed,
                step,
                r,
            )
    for i in prange(p.n):
        if p.alive[i] and is_child(p.age[i]):
            m = p.mother[i]
            if m >= 0 and takes_mother_hukou(
                p.residence[i], p.hukou_place[i], converts[m], p.residence[m]
            ):
                converts[i] = 2


@parallel_kernel
def hukou_apply(p, w, converts, counts):
    """Convert hukou (:func:`sim.rules.convert_hukou`).

    ``counts[block, k, county]``: citizenised, moved out of the city, moved into it.
    """
    hukou_place = p.hukou_place
    hukou_urban = p.hukou_urban
    blocks = counts.shape[0]
    for b in prange(blocks):
        start, stop = block_range(b, p.n, blocks)
        for i in range(start, stop):
            if not converts[i]:
                continue
            hukou_place[i], hukou_urban[i], cit, out, into = convert_hukou(
                p.residence[i], hukou_place[i], hukou_urban[i], w
            )
            if cit >= 0:
                counts[b, 0, cit] += 1
            if out >= 0:
                counts[b, 1, out] += 1
            if into >= 0:
                counts[b, 2, into] += 1


# ---------------------------------------------------------------------------- incomes


@parallel_kernel
def household_pools(p, h, w, r, wages, bounds, pools):
    """At-home members, living members and remittances received per household.

    ``pools`` is ``(at_home, living, remit)``, zeroed by the caller. Each household's
    remittances (:func:`sim.rules.remittance`) are added in id order: ``bounds``
    (:func:`household_bounds`) keeps a household's members before the births within one
    block, and the births are added after all blocks.
    """
    at_home = pools[0]
    living = pools[1]
    remit = pools[2]
    blocks = bounds.shape[0] - 2
    for phase in range(2):  # the blocks in parallel, then the births alone
        first, last = (0, blocks) if phase == 0 else (blocks, blocks + 1)
        for b in prange(first, last):
            for i in range(bounds[b], bounds[b + 1]):
                if p.alive[i]:
                    hh = p.household[i]
                    living[hh] += 1
                    if lives_at_home(p.residence[i], h.village[hh], w.town_of):
                        at_home[hh] += 1
    for phase in range(2):
        first, last = (0, blocks) if phase == 0 else (blocks, blocks + 1)
        for b in prange(first, last):
            for i in range(bounds[b], bounds[b + 1]):
                if p.alive[i]:
                    hh = p.household[i]
                    sent = remittance(
                        p.work[i],
                        p.residence[i],
                        p.skill[i],
                        h.village[hh],
                        at_home[hh],
                        w,
                        wages,
                        r,
                    )
                    if sent != 0.0:
                        remit[hh] += sent


@parallel_kernel(serial=False)
def incomes_by_chunk(p, h, w, pools, dividend_by_village, wages, crop_per_tenth, scalars, partial):
    """Each person's disposable income for the step, summed by fixed chunks of persons.

    ``pools`` is ``(at_home, living, remit)`` of :func:`household_pools`.
    ``partial[chunk, county, urban, source]``, zeroed by the caller, receives the sums
    (:func:`sim.rules.record_income`) in id order within each chunk; the caller adds the
    chunks up in chunk order, so totals are independent of the thread count.
    """
    at_home, living, remit = pools
    income = p.income
    for c in prange((p.n + CHUNK - 1) // CHUNK):
        acc = partial[c]
        stop = min(p.n, (c + 1) * CHUNK)
        for i in range(c * CHUNK, stop):
            if not p.alive[i]:
                income[i] = 0.0
                continue
            hh = p.household[i]
            wage, operating, property_, transfers = person_income(
                p.age[i],
                p.female[i],
                p.hukou_place[i],
                p.hukou_urban[i],
                p.residence[i],
                p.work[i],
                p.skill[i],
                h.village[hh],
                h.land[hh],
                h.rented_out[hh],
                h.abandoned[hh],
                h.homestead[hh],
                at_home[hh],
                living[hh],
                remit[hh],
                w,
                dividend_by_village,
                wages,
                crop_per_tenth,
                scalars,
            )
            income[i] = record_income(acc, p.residence[i], wage, operating, property_, transfers, w)


# ---------------------------------------------------------------------------- tallies


@parallel_kernel(nrt=True)
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
    (``d`` a county, or the place id of an outside destination, the cores coming first);
    ``pyramid[u, female, band]`` residents by urban/rural, sex and five-year age band
    (the last band open).
    """
    last_band = pyramid.shape[2] - 1
    first_outside = residents.shape[0]  # place ids: the counties' cores, then outside
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
                    outside_b[b, res - first_outside] += 1
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
    """Rural-hukou persons registered in the region in wage work, by home county (serial).

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
