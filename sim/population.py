"""Synthetic population of the region in 2023 at any scale.

The population is built county by county from the 2023 marginals in the data folder:
registered population and its urban-hukou share, resident and urban resident population,
the registered residents who live in the central city or outside the region, residents
whose hukou is from outside the region, the age structure and the household size. Quotas are
filled by ordering persons or households by counter-based random keys, so the totals are
exact up to one household and the result is identical for a given seed on any machine.

Each agent stands for ``weight`` real persons (about ``1 / scale``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numba import njit

from sim import rng
from sim.data import RegionData
from sim.errors import ConfigError, DataError
from sim.params import Params
from sim.state import Households, Persons
from sim.world import CENTRAL_COUNTY, KIND_OUTSIDE, World

# The behavioural parameters synthesis reads: a population depends on the data, scale,
# seed and these only (sim.ensemble shares one population among runs that agree on them;
# tests/test_population.py checks the list against what synthesis reads).
POPULATION_PARAMETERS = (
    "central_urbanisation_shift_2023",
    "initial_stay_years",
    "rural_high_skill_factor",
    "skill_high_share_new_cohorts",
    "skill_mid_share_new_cohorts",
)

BIRTH_HEADROOM = 0.15  # spare person slots for births, as a share of the initial population
AWAY_BANDS = ((16, 19), (20, 29), (30, 39), (40, 49), (50, 59), (60, 69), (70, 200))
AWAY_NAMES = ("16_19", "20_29", "30_39", "40_49", "50_59", "60_69", "70_plus")
SKILL_BANDS = ((16, 24), (25, 34), (35, 44), (45, 59), (60, 200))
SKILL_NAMES = ("16_24", "25_34", "35_44", "45_59", "60_plus")
MAX_AGE = 100


@dataclass
class Population:
    """The synthetic population and what it was built to match."""

    persons: Persons
    households: Households
    weight: float
    plan: ResidencePlan


@dataclass(frozen=True)
class ResidencePlan:
    """Real-person targets per county for 2023 (index = county)."""

    registered: np.ndarray
    registered_urban: np.ndarray
    resident: np.ndarray
    urban_resident: np.ndarray
    core_share: np.ndarray
    external: np.ndarray
    to_central_city: np.ndarray
    outside_total: np.ndarray
    outside_split: np.ndarray  # fraction by outside destination
    external_origin: np.ndarray  # fraction by outside destination


def shifted_rates(resident: np.ndarray, rates: np.ndarray, central_shift: float) -> np.ndarray:
    """County urbanisation rates with the central district's moved by ``central_shift``.

    The central district's rate moves by ``central_shift`` in logit space and the other
    counties' by one common amount the other way, found so that the counties keep their
    urban residents in all: the city's total is published, the split between its
    counties is not (``assumptions.csv``). A shift of 0 returns ``rates`` unchanged.
    """
    if central_shift == 0:
        return rates
    logit = np.log(rates / (1 - rates))
    out = rates.copy()
    out[0] = 1 / (1 + np.exp(-(logit[0] + central_shift)))
    others = slice(1, None)
    wanted = resident @ rates - resident[0] * out[0]

    def urban(delta: float) -> float:
        return float(resident[others] @ (1 / (1 + np.exp(-(logit[others] + delta)))))

    low, high = -20.0, 20.0
    if not urban(low) <= wanted <= urban(high):
        raise ConfigError(
            f"central_urbanisation_shift_2023={central_shift:g}: leaves the other counties "
            f"{wanted:,.0f} urban residents, more or fewer than they can hold"
        )
    for _ in range(200):  # bisection: the urban total rises with delta
        mid = (low + high) / 2
        low, high = (mid, high) if urban(mid) < wanted else (low, mid)
    delta = (low + high) / 2
    out[others] = 1 / (1 + np.exp(-(logit[others] + delta)))
    return out


def residence_plan(region: RegionData, central_shift: float = 0.0) -> ResidencePlan:
    """Turn the 2023 figures into consistent per-county targets.

    Args:
        region: The data.
        central_shift: Logit shift of the central district's 2023 urbanisation rate
            (parameter ``central_urbanisation_shift_2023``; see :func:`shifted_rates`).

    Raises:
        DataError: The figures imply a negative number of persons somewhere.
    """
    keys = region.county_keys
    registered = np.array([region.value(k, "registered_population", 2023) for k in keys])
    reg_rate = np.array([region.value(k, "registered_urbanisation_rate", 2023) for k in keys])
    resident = np.array([region.value(k, "resident_population", 2023) for k in keys])
    urb_rate = np.array([region.value(k, "resident_urbanisation_rate", 2023) for k in keys])
    urb_rate = shifted_rates(resident, urb_rate, central_shift)
    core_share = np.array([region.value(k, "urban_core_share", 2023) for k in keys])
    ext_total = region.value("city", "external_residents", 2023)
    ext_share = np.array([region.value(k, "external_resident_share", 2023) for k in keys])
    external = ext_total * ext_share / ext_share.sum()
    alpha = region.value("city", "absent_to_central_city_share", 2023)
    away = registered - (resident - external)
    to_central = np.where(np.arange(len(keys)) == CENTRAL_COUNTY, 0.0, alpha * away)
    outside_total = away - to_central
    c = CENTRAL_COUNTY
    outside_total[c] = registered[c] + to_central.sum() + external[c] - resident[c]
    if (outside_total < 0).any():
        bad = keys[int(np.argmin(outside_total))]
        raise DataError(
            f"data: the 2023 figures leave a negative number of absent residents in {bad}"
        )
    outside = region.outside_keys
    if not outside and (outside_total.max() > 0.5 or ext_total > 0):
        raise DataError(
            "data: the region has no outside destination (units.csv), so every registered "
            "resident must live in it and none may come from outside; its 2023 figures leave "
            f"{outside_total.sum():,.0f} absent and {ext_total:,.0f} external residents"
        )
    split = np.array([region.value(k, "absent_destination_share", 2023) for k in outside])
    origin = np.array([region.value(k, "external_origin_share", 2023) for k in outside])
    return ResidencePlan(
        registered=registered,
        registered_urban=registered * reg_rate,
        resident=resident,
        urban_resident=resident * urb_rate,
        core_share=core_share,
        external=external,
        to_central_city=to_central,
        outside_total=outside_total,
        outside_split=split / split.sum(),
        external_origin=origin / origin.sum(),
    )


def _single_year_pmf(region: RegionData) -> np.ndarray:
    pmf = np.zeros(MAX_AGE + 1)
    for (lo, hi), share in zip(region.age_bands, region.age_shares, strict=True):
        hi = min(hi, MAX_AGE)
        pmf[lo : hi + 1] += share / (hi - lo + 1)
    return pmf / pmf.sum()


def _ranks(keys: np.ndarray) -> np.ndarray:
    """Rank (0..n-1) of each key (hash keys have no ties, so any sort order is stable)."""
    order = np.argsort(keys)
    ranks = np.empty_like(order)
    ranks[order] = np.arange(len(keys))
    return ranks


def _stratified(u_rank: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """Inverse-CDF values at evenly spaced quantiles taken in the order of ``u_rank``."""
    n = len(u_rank)
    q = (u_rank + 0.5) / max(n, 1)
    return np.searchsorted(cdf, q, side="right")


def _quota_by_key(keys: np.ndarray, sizes: np.ndarray, quota: float) -> np.ndarray:
    """Select items in ascending key order; the selected sizes add up closest to ``quota``."""
    order = np.argsort(keys)
    cum = np.cumsum(sizes[order])
    m = int(np.searchsorted(cum, quota))
    if m < len(cum) and (m == 0 or abs(cum[m] - quota) < abs(cum[m - 1] - quota)):
        m += 1
    chosen = np.zeros(len(keys), bool)
    chosen[order[:m]] = True
    return chosen


def _share(region: RegionData, name: str) -> float:
    return region.value("city", name, 2023)


def _band_value(region: RegionData, prefix: str, bands, names, ages: np.ndarray) -> np.ndarray:
    out = np.zeros(len(ages))
    for (lo, hi), name in zip(bands, names, strict=True):
        out[(ages >= lo) & (ages <= hi)] = _share(region, f"{prefix}_{name}")
    return out


def _find_in_buckets(
    sorted_ages: np.ndarray, sorted_ids: np.ndarray, target: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """For each target age, pick one id of that age (or the nearest age within 6 years)."""
    found = np.full(len(target), -1, np.int64)
    if len(sorted_ids) == 0:  # a small run may have nobody of that sex in the group
        return found
    for offset in (0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6):
        todo = found < 0
        if not todo.any():
            break
        t = target[todo] + offset
        lo = np.searchsorted(sorted_ages, t, side="left")
        hi = np.searchsorted(sorted_ages, t, side="right")
        count = hi - lo
        ok = count > 0
        pick = lo + np.minimum((u[todo] * count).astype(np.int64), np.maximum(count - 1, 0))
        sub = np.where(ok, sorted_ids[np.minimum(pick, len(sorted_ids) - 1)], -1)
        found[np.flatnonzero(todo)] = sub
    return found


def _form_households(
    region: RegionData, seed: int, ids: np.ndarray, age: np.ndarray, female: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Link persons of one county and hukou type into households.

    Returns:
        ``anchor`` (the id of the household's anchor person, per person) and ``mother``
        (the id of the mother for children under 18, else -1).
    """
    n = len(ids)
    anchor = ids.copy()
    mother = np.full(n, -1, np.int64)
    local = np.arange(n)
    married_share = np.select(
        [age < 20, age < 25, age < 30, age < 60, age < 75],
        [
            0.0,
            _share(region, "married_share_20_24"),
            _share(region, "married_share_25_29"),
            _share(region, "married_share_30_59"),
            _share(region, "married_share_60_74"),
        ],
        _share(region, "married_share_75_plus"),
    )
    married = rng.uniforms(seed, 0, ids, rng.POP_PARTNER) < married_share
    # Partners: married women and men paired by age rank.
    wives = local[married & (female == 1)]
    husbands = local[married & (female == 0)]
    wives = wives[np.lexsort((ids[wives], age[wives]))]
    husbands = husbands[np.lexsort((ids[husbands], age[husbands]))]
    k = min(len(wives), len(husbands))
    anchor[husbands[:k]] = ids[wives[:k]]
    paired = np.zeros(n, bool)
    paired[wives[:k]] = True
    paired[husbands[:k]] = True

    women = local[(female == 1) & (age >= 18) & (age <= 64)]
    women = women[np.argsort(age[women], kind="stable")]
    women_ages = age[women]
    u_gap = rng.uniforms(seed, 1, ids, rng.POP_MOTHER)
    u_pick = rng.uniforms(seed, 2, ids, rng.POP_MOTHER)

    def attach(members: np.ndarray, target_age: np.ndarray) -> np.ndarray:
        chosen = _find_in_buckets(women_ages, women, target_age, u_pick[members])
        ok = (chosen >= 0) & (chosen != members)
        anchor[members[ok]] = ids[chosen[ok]]
        return np.where(ok, chosen, -1)

    children = local[age < 18]
    gap = 24 + (u_gap[children] * 12).astype(np.int64)
    mums = attach(children, age[children] + gap)
    mother[children] = np.where(mums >= 0, ids[np.maximum(mums, 0)], -1)

    stay_home = rng.uniforms(seed, 3, ids, rng.POP_HOUSEHOLD) < _share(
        region, "young_adults_with_parents"
    )
    young = local[(age >= 18) & (age <= 29) & ~paired & stay_home]
    attach(young, age[young] + 24 + (u_gap[young] * 12).astype(np.int64))

    u_join = rng.uniforms(seed, 4, ids, rng.POP_ELDER)
    join_single = ~paired & (u_join < _share(region, "elders_with_children"))
    # A couple joins through the wife; the husband follows her through the anchor chain.
    join_couple = paired & (female == 1) & (u_join < _share(region, "elder_couples_with_children"))
    elders = local[(age >= 65) & (join_single | join_couple)]
    attach(elders, age[elders] - 24 - (u_gap[elders] * 12).astype(np.int64))

    # Resolve chains (a child's mother may herself live in her husband's or parent's home).
    id_to_local = np.full(ids.max() + 1 - ids.min(), -1, np.int64)
    id_to_local[ids - ids.min()] = local
    for _ in range(8):
        nxt = anchor[id_to_local[anchor - ids.min()]]
        if np.array_equal(nxt, anchor):
            break
        anchor = nxt
    return anchor, mother


def synthesize(
    region: RegionData, world: World, params: Params, scale: float, seed: int
) -> Population:
    """Build the 2023 population.

    Args:
        region: Region data.
        world: Place layout.
        params: Behavioural parameters (skill shares of the cohorts born after 2007).
        scale: Agents per real person (1.0 = every registered person an agent).
        seed: Run seed.

    Returns:
        The population; deterministic for ``(data, scale, seed)``.
    """
    if not 0 < scale <= 1:
        raise ConfigError(f"scale={scale!r}: outside the allowed range (0, 1]")
    plan = residence_plan(region, params.central_urbanisation_shift_2023)
    n_reg = np.maximum(1, np.round(plan.registered * scale)).astype(np.int64)
    # At least one outside-hukou resident where the region has any (none without outside
    # destinations, which their hukou would name).
    n_ext = max(1, round(plan.external.sum() * scale)) if plan.external.sum() > 0 else 0
    n_total = int(n_reg.sum()) + n_ext
    weight = (plan.registered.sum() + plan.external.sum()) / n_total
    persons = Persons.empty(int(n_total * (1 + BIRTH_HEADROOM)) + 64)
    persons.n = n_total
    cdf = np.cumsum(_single_year_pmf(region))
    female_share = 1.0 / (1.0 + region.value("city", "sex_ratio", 2020))

    hh_anchor = np.empty(n_total, np.int64)
    starts = np.concatenate([[0], np.cumsum(n_reg)])
    for c in range(world.n_counties):
        ids = np.arange(starts[c], starts[c + 1])
        _synth_county(
            region, world, params, plan, persons, hh_anchor, c, ids, cdf, seed, weight, female_share
        )
    ext_ids = np.arange(starts[-1], n_total)
    _synth_external(region, world, params, plan, persons, hh_anchor, ext_ids, cdf, seed)

    anchors, household = np.unique(hh_anchor, return_inverse=True)
    persons.household[:n_total] = household
    households = Households.empty(len(anchors))
    county_of_person = np.repeat(np.arange(world.n_counties), n_reg)
    county_of_person = np.concatenate([county_of_person, np.full(n_ext, -1)])
    _settle_households(region, world, plan, persons, households, county_of_person, weight, seed)
    persons.stay_months[:n_total] = round(12 * params.initial_stay_years)
    _order_by_household(persons, households)
    return Population(persons=persons, households=households, weight=weight, plan=plan)


@njit(cache=True)
def _stable_order(keys, n_keys):
    """Indices that sort ``keys`` (integers in [0, n_keys)), ties in index order.

    A counting sort: the same order as ``np.argsort(keys, kind="stable")`` in linear time.
    """
    starts = np.zeros(n_keys + 1, np.int64)
    for i in range(keys.shape[0]):
        starts[keys[i] + 1] += 1
    for k in range(n_keys):
        starts[k + 1] += starts[k]
    order = np.empty(keys.shape[0], np.int64)
    for i in range(keys.shape[0]):
        order[starts[keys[i]]] = i
        starts[keys[i]] += 1
    return order


def _order_by_household(persons: Persons, households: Households) -> None:
    """Renumber households by home place and persons by household.

    Members of a household and households of a village then sit next to each other in
    memory, which keeps the kernels' household lookups in cache. Ids are stable after
    this (births are appended).
    """
    p, h = persons, households
    n = p.n
    first = np.full(h.n, n, np.int64)
    np.minimum.at(first, p.household[:n], np.arange(n))
    home = np.where(h.village >= 0, h.village, p.hukou_place[first])
    hh_order = _stable_order(home, int(home.max()) + 1 if h.n else 0)
    new_hh = np.empty(h.n, np.int64)
    new_hh[hh_order] = np.arange(h.n)
    for name, arr in h.arrays().items():
        setattr(h, name, arr[hh_order].copy())
    keys = new_hh[p.household[:n]]
    order = _stable_order(keys, h.n)
    new_id = np.empty(n, np.int64)
    new_id[order] = np.arange(n)
    for arr in p.arrays().values():
        arr[:] = arr[order]
    p.household[:n] = keys[order]
    mother = p.mother[:n]
    p.mother[:n] = np.where(mother >= 0, new_id[np.maximum(mother, 0)], -1)


def _synth_county(
    region, world, params, plan, persons, hh_anchor, c, ids, cdf, seed, weight, female_share
):
    """Ages, sexes, hukou, households and residences of one county's registered persons."""
    n = len(ids)
    p = persons
    age = np.minimum(_stratified(_ranks(rng.uniforms(seed, 0, ids, rng.POP_AGE)), cdf), MAX_AGE)
    female = _ranks(rng.uniforms(seed, 0, ids, rng.POP_SEX)) < round(n * female_share)
    urban_hukou = _ranks(rng.uniforms(seed, 0, ids, rng.POP_HUKOU)) < round(
        plan.registered_urban[c] / plan.registered[c] * n
    )
    p.age[ids] = age
    p.female[ids] = female
    p.hukou_urban[ids] = urban_hukou
    p.birth_quarter[ids] = (rng.uniforms(seed, 0, ids, rng.POP_BIRTHQ) * 4).astype(np.int8)
    p.alive[ids] = 1
    for h in (0, 1):
        sel = ids[urban_hukou == h]
        if len(sel) == 0:  # a county whose residents all hold one kind of hukou
            continue
        anchor, mother = _form_households(region, seed, sel, p.age[sel], p.female[sel])
        hh_anchor[sel] = anchor
        p.mother[sel] = mother
    _assign_skill(region, params, p, ids, seed)

    # Who lives away: adults by age-weighted keys; children follow their mother or stay.
    ages = p.age[ids]
    w_away = _band_value(region, "away_weight", AWAY_BANDS, AWAY_NAMES, ages)
    u = rng.uniforms(seed, 0, ids, rng.POP_RESIDENCE)
    adult = ages >= 16
    key = np.where(adult & (w_away > 0), -np.log(u) / np.maximum(w_away, 1e-12), np.inf)
    follows = (
        (~adult)
        & (p.mother[ids] >= 0)
        & (
            rng.uniforms(seed, 1, ids, rng.POP_RESIDENCE)
            < _share(region, "migrant_children_with_mother")
        )
    )
    kids_per_mother = np.zeros(n, np.int64)
    local_mother = p.mother[ids][follows] - ids[0]
    np.add.at(kids_per_mother, local_mother, 1)
    group = np.where(adult, 1 + kids_per_mother, 0)
    away_quota = (plan.to_central_city[c] + plan.outside_total[c]) / weight
    away_adult = _quota_by_key(np.where(adult, key, np.inf), group, away_quota) & adult
    # Destinations, by quota in an independent random order of the away groups.
    dest = np.full(n, -1, np.int64)
    order_key = np.where(away_adult, rng.uniforms(seed, 0, ids, rng.POP_DESTINATION), np.inf)
    order = np.argsort(order_key)[: int(away_adult.sum())]
    cum = np.cumsum(group[order])
    edges = (
        np.cumsum(
            np.concatenate([[plan.to_central_city[c]], plan.outside_total[c] * plan.outside_split])
        )
        / weight
    )
    slot = np.searchsorted(edges, cum - 0.5 * group[order], side="right")
    slot = np.minimum(slot, len(edges) - 1)
    places = np.concatenate([[CENTRAL_COUNTY], world.first_outside + np.arange(world.n_outside)])
    dest[order] = places[slot]
    kid_dest = np.where(follows, dest[np.maximum(p.mother[ids] - ids[0], 0)], -1)
    dest = np.where(follows & (kid_dest >= 0), kid_dest, dest)
    p.residence[ids] = dest  # -1 = lives in the home county (settled below)


def _assign_skill(region, params, p, ids, seed):
    ages = p.age[ids]
    u = rng.uniforms(seed, 0, ids, rng.POP_SKILL)
    urban = p.hukou_urban[ids] == 1
    high = np.where(
        urban,
        _band_value(region, "skill_high_urban", SKILL_BANDS, SKILL_NAMES, ages),
        _band_value(region, "skill_high_rural", SKILL_BANDS, SKILL_NAMES, ages),
    )
    mid = np.where(
        urban,
        _band_value(region, "skill_mid_urban", SKILL_BANDS, SKILL_NAMES, ages),
        _band_value(region, "skill_mid_rural", SKILL_BANDS, SKILL_NAMES, ages),
    )
    young = ages < 16
    rural_factor = np.where(urban, 1.0, params.rural_high_skill_factor)
    high = np.where(young, params.skill_high_share_new_cohorts * rural_factor, high)
    mid = np.where(young, params.skill_mid_share_new_cohorts, mid)
    p.skill[ids] = np.where(u < high, 2, np.where(u < high + mid, 1, 0))


def _synth_external(region, world, params, plan, persons, hh_anchor, ids, cdf, seed):
    """Residents with a hukou from outside the region: single-person households in the seats."""
    p = persons
    n = len(ids)
    if n == 0:
        return
    pmf = np.diff(np.concatenate([[0.0], cdf]))
    ages = np.arange(len(pmf))
    w = np.select([ages < 16, ages < 60], [0.3, 1.0], 0.05)
    w = w * np.interp(ages, [15, 20, 30, 40, 50, 60], [0.5, 1.0, 1.0, 0.8, 0.5, 0.2])
    ext_cdf = np.cumsum(pmf * w) / np.sum(pmf * w)
    p.age[ids] = np.minimum(
        _stratified(_ranks(rng.uniforms(seed, 0, ids, rng.POP_AGE)), ext_cdf), MAX_AGE
    )
    p.female[ids] = rng.uniforms(seed, 0, ids, rng.POP_SEX) < 0.45
    p.birth_quarter[ids] = (rng.uniforms(seed, 0, ids, rng.POP_BIRTHQ) * 4).astype(np.int8)
    p.alive[ids] = 1
    p.hukou_urban[ids] = rng.uniforms(seed, 0, ids, rng.POP_HUKOU) >= _share(
        region, "external_rural_hukou_share"
    )
    _assign_skill(region, params, p, ids, seed)
    origin_edges = np.cumsum(plan.external_origin)
    u = rng.uniforms(seed, 0, ids, rng.POP_DESTINATION)
    origin = np.minimum(np.searchsorted(origin_edges, u, side="right"), world.n_outside - 1)
    p.hukou_place[ids] = world.first_outside + origin
    county_edges = np.cumsum(plan.external / plan.external.sum())
    county = np.minimum(
        np.searchsorted(county_edges, rng.uniforms(seed, 0, ids, rng.POP_PLACE), side="right"),
        world.n_counties - 1,
    )
    # Outside-hukou residents live in the central city and the county seats: a town is a
    # destination only for those whose hukou is in that town's township.
    p.residence[ids] = county
    hh_anchor[ids] = ids


def _pick_town(world: World, county: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A town of each county, with probability proportional to the towns' sizes.

    A county whose villages lie under a seatless township has no town: its core instead.
    """
    out = np.empty(len(county), np.int64)
    for c in range(world.n_counties):
        towns = np.arange(world.county_town_start[c], world.county_town_stop[c])
        towns = towns[world.town_seat[towns] == 1]
        m = county == c
        if len(towns) == 0:
            out[m] = c
            continue
        edges = np.cumsum(world.town_weight[towns])
        out[m] = towns[
            np.minimum(np.searchsorted(edges, u[m] * edges[-1], side="right"), len(towns) - 1)
        ]
    return out


def _pick_village(world: World, county: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A village of each county, with probability proportional to its town's size."""
    out = np.empty(len(county), np.int64)
    for c in range(world.n_counties):
        villages = np.arange(world.county_village_start[c], world.county_village_stop[c])
        w = world.town_weight[world.town_of[villages]] * world.village_weight[villages]
        edges = np.cumsum(w)
        m = county == c
        out[m] = villages[
            np.minimum(np.searchsorted(edges, u[m] * edges[-1], side="right"), len(villages) - 1)
        ]
    return out


def _settle_households(region, world, plan, persons, households, county_of_person, weight, seed):
    """Home places, the residences of persons living at home, and contracted land."""
    p = persons
    n = p.n
    hh = p.household[:n]
    n_hh = households.n
    hh_ids = np.arange(n_hh)
    first = np.full(n_hh, n, np.int64)
    np.minimum.at(first, hh, np.arange(n))
    hh_county = county_of_person[first]
    hh_external = hh_county < 0
    hh_urban = p.hukou_urban[first] == 1

    residence = p.residence[:n]
    at_home = residence < 0
    home_members = np.bincount(hh, weights=at_home, minlength=n_hh)
    members = np.bincount(hh, minlength=n_hh)
    placed = np.maximum(residence, 0)
    external = county_of_person < 0

    village = np.full(n_hh, -1, np.int64)
    rural_hh = ~hh_urban & ~hh_external
    village[rural_hh] = _pick_village(
        world, hh_county[rural_hh], rng.uniforms(seed, 0, hh_ids[rural_hh], rng.POP_PLACE)
    )
    urban_place = np.full(n_hh, -1, np.int64)
    ext_county = np.where(external, world.county[placed], -1)
    n_counties = world.n_counties
    ext_core = np.bincount(
        np.where(external & (residence < n_counties), residence, n_counties),
        minlength=n_counties + 1,
    )[:n_counties]
    ext_here = np.bincount(
        np.where(ext_county >= 0, ext_county, n_counties), minlength=n_counties + 1
    )[:n_counties]
    in_migrant = (
        ~external & (residence >= 0) & (residence < n_counties) & (county_of_person != residence)
    )
    migrants_in = np.bincount(residence[in_migrant], minlength=n_counties)
    for c in range(n_counties):
        own_urban = plan.urban_resident[c] / weight - ext_here[c] - migrants_in[c]
        own_core = (
            plan.core_share[c] * plan.urban_resident[c] / weight - ext_core[c] - migrants_in[c]
        )
        urban_ids = hh_ids[(hh_county == c) & hh_urban]
        rural_ids = hh_ids[(hh_county == c) & rural_hh]
        # Rural-hukou households whose members at home live in a town or the county seat.
        need = own_urban - home_members[urban_ids].sum()
        pick = _quota_by_key(
            rng.uniforms(seed, 1, rural_ids, rng.POP_HOUSEHOLD), home_members[rural_ids], need
        )
        dwellers = rural_ids[pick]
        # Core or town for every urban household of the county.
        urbanites = np.concatenate([urban_ids, dwellers])
        urbanites.sort()
        in_core = _quota_by_key(
            rng.uniforms(seed, 2, urbanites, rng.POP_HOUSEHOLD), home_members[urbanites], own_core
        )
        is_dweller = np.zeros(n_hh, bool)
        is_dweller[dwellers] = True
        own_town = is_dweller[urbanites]
        fresh_town = _pick_town(
            world, np.full(len(urbanites), c), rng.uniforms(seed, 3, urbanites, rng.POP_PLACE)
        )
        own = world.town_of[np.maximum(village[urbanites], 0)]
        town = np.where(own_town & (world.town_seat[own] == 1), own, fresh_town)
        urban_place[urbanites] = np.where(in_core, c, town)

    person_village = village[hh]
    person_urban_place = urban_place[hh]
    hukou_place = np.where(
        p.hukou_urban[:n] == 1,
        np.where(person_urban_place >= 0, person_urban_place, county_of_person),
        person_village,
    )
    p.hukou_place[:n] = np.where(external, p.hukou_place[:n], hukou_place)
    home_res = np.where(person_urban_place >= 0, person_urban_place, person_village)
    p.residence[:n] = np.where(at_home & ~external, home_res, residence)
    if (p.residence[:n] < 0).any() or (p.hukou_place[:n] < 0).any():
        raise DataError("data: population synthesis left persons without a place")

    households.village[:] = village
    households.homestead[:] = rural_hh.astype(np.int8)
    land = np.round(10 * region.value("city", "land_per_rural_person", 2023) * members)
    households.land[:] = np.where(rural_hh, land, 0).astype(np.int32)


def fit_report(population: Population, world: World, region: RegionData) -> pd.DataFrame:
    """How well the synthetic population matches each 2023 marginal it was built from.

    Returns:
        One row per unit and marginal: target, synthetic value (real persons or a
        fraction) and the relative error.
    """
    p, plan, w = population.persons, population.plan, population.weight
    n = p.n
    res = p.residence[:n]
    kind = world.kind[res]
    in_region = kind != KIND_OUTSIDE
    county = world.county[res]
    urban = world.urban[res] == 1
    hukou_county = world.county[p.hukou_place[:n]]
    registered = hukou_county >= 0
    rows = []

    def add(unit: str, marginal: str, target: float, value: float) -> None:
        err = (value - target) / target if target else float("nan")
        rows.append((unit, marginal, target, value, err))

    for c, key in enumerate(region.county_keys):
        add(key, "registered_population", plan.registered[c], (hukou_county == c).sum() * w)
        add(
            key,
            "registered_urban_population",
            plan.registered_urban[c],
            ((hukou_county == c) & (p.hukou_urban[:n] == 1)).sum() * w,
        )
        add(key, "resident_population", plan.resident[c], (in_region & (county == c)).sum() * w)
        add(
            key,
            "urban_resident_population",
            plan.urban_resident[c],
            (in_region & (county == c) & urban).sum() * w,
        )
        add(
            key,
            "central_city_or_seat_residents",
            plan.core_share[c] * plan.urban_resident[c],
            (res == c).sum() * w,
        )
    add("city", "resident_population", plan.resident.sum(), in_region.sum() * w)
    add(
        "city",
        "urban_resident_population",
        plan.urban_resident.sum(),
        (in_region & urban).sum() * w,
    )
    add("city", "registered_population", plan.registered.sum(), registered.sum() * w)
    add(
        "city",
        "registered_living_outside",
        plan.outside_total.sum(),
        (registered & ~in_region).sum() * w,
    )
    for j, key in enumerate(region.outside_keys):
        add(
            "city",
            f"registered_living_in_{key}",
            plan.outside_total.sum() * plan.outside_split[j],
            (registered & (res == world.first_outside + j)).sum() * w,
        )
    add("city", "external_residents", plan.external.sum(), (~registered & in_region).sum() * w)
    ages = p.age[:n][registered]
    for (lo, hi), label in (
        ((0, 14), "0_14"),
        ((15, 59), "15_59"),
        ((60, 200), "60_plus"),
        ((65, 200), "65_plus"),
    ):
        target = float(
            region.age_shares[(region.age_bands[:, 0] >= lo) & (region.age_bands[:, 1] <= hi)].sum()
        )
        add(
            "city",
            f"registered_share_aged_{label}",
            target,
            float(((ages >= lo) & (ages <= hi)).mean()),
        )
    hh = p.household[:n][registered]
    add(
        "city",
        "registered_household_size",
        region.value("city", "registered_household_size", 2019),
        len(hh) / max(np.count_nonzero(np.bincount(hh)), 1),
    )
    male = (p.female[:n][registered] == 0).sum()
    add(
        "city",
        "sex_ratio",
        region.value("city", "sex_ratio", 2020),
        male / max((p.female[:n][registered] == 1).sum(), 1),
    )
    return pd.DataFrame(rows, columns=["unit", "marginal", "target", "synthetic", "relative_error"])
