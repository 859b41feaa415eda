import itertools

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim import rules
from sim.state import PERSON_FIELDS, WORK_NONE


def test_per_step_compounds_to_the_annual_probability():
    for spy in (1, 2, 4, 12):
        p = rules.per_step(0.3, spy)
        assert abs(1 - (1 - p) ** spy - 0.3) < 1e-12


def test_death_probability_rises_with_age_and_is_higher_for_men(params):
    args = (
        params.mortality_a_male,
        params.mortality_a_female,
        params.mortality_b,
        params.infant_mortality,
        1,
    )
    q = [rules.death_probability(a, 0, *args) for a in range(1, 100)]
    assert all(b > a for a, b in itertools.pairwise(q))
    assert rules.death_probability(70, 0, *args) > rules.death_probability(70, 1, *args)


@given(
    land=st.integers(0, 500),
    rented=st.integers(0, 500),
    workers=st.integers(0, 6),
    mu=st.floats(0.1, 20),
    withheld=st.floats(0, 1),
    q=st.floats(0, 1),
    u=st.floats(0, 0.999999),
)
def test_land_step_conserves_area(land, rented, workers, mu, withheld, q, u):
    rented = min(rented, land)
    new_rented, abandoned = rules.land_step(land, rented, workers, mu, withheld, q, u)
    own = land - new_rented - abandoned
    assert new_rented >= 0 and abandoned >= 0 and own >= 0
    assert own == min(land, rules.farm_capacity_tenths(workers, mu))


def test_withheld_land_is_not_let_but_running_leases_stay():
    # 100 tenths, no farm worker: all surplus; a quarter withheld, certain match.
    assert rules.land_offer(100, 0, 4.0, 0.25) == (100, 75)
    assert rules.land_step(100, 0, 0, 4.0, 0.25, 1.0, 0.0) == (75, 25)
    # A lease above the offer is not broken for fear; a returning farmer takes land back.
    assert rules.land_step(100, 90, 0, 4.0, 0.25, 1.0, 0.0) == (90, 10)
    assert rules.land_step(100, 90, 1, 4.0, 0.25, 1.0, 0.0) == (60, 0)
    assert rules.withheld_share(0.4, 0.18) == 0.18 * 0.6
    assert rules.withheld_share(1.0, 0.18) == 0.0


def test_land_guard_cost_is_the_change_from_2023():
    assert rules.land_guard_cost(0.4, 0.6, 0.4) == 0.0
    assert rules.land_guard_cost(0.0, 0.6, 0.4) == 0.6 * 0.4
    assert rules.land_guard_cost(1.0, 0.6, 0.4) < 0.0  # secure rights: leaving costs less
    costs = rules.land_guard_cost(np.array([0.0, 0.4, 1.0]), 0.6, 0.4)
    assert costs[0] - costs[2] == 0.6  # an expected reallocation against none: the full cost


@given(
    st.lists(st.floats(0.01, 10), min_size=2, max_size=11),
    st.floats(0, 0.999999),
    st.integers(0, 10),
    st.floats(0, 20),
)
def test_choose_slot_inverts_the_cumulative(weights, u, current, boost):
    w = np.array(weights)
    current = min(current, len(w) - 1)
    eff = w.copy()
    eff[current] *= 1 + boost
    cum = np.cumsum(eff) / eff.sum()
    s = rules.choose_slot(w, w.sum(), boost, current, u)
    assert 0 <= s < len(w)
    assert u < cum[s] + 1e-12 and (s == 0 or u >= cum[s - 1] - 1e-12)


def test_labour_roles():
    seek, farm, none = rules.ROLE_SEEK, rules.ROLE_FARM, rules.ROLE_NONE
    # A villager of working age commutes when the draw allows, farms otherwise.
    assert rules.labour_role(30, 64, 74, 0.1, 0.9, True, 0.1, 0.3) == seek
    assert rules.labour_role(30, 64, 74, 0.1, 0.9, True, 0.5, 0.3) == farm
    assert rules.labour_role(80, 64, 74, 0.1, 0.9, True, 0.1, 0.3) == none
    # A city dweller seeks wage work until the last working age.
    assert rules.labour_role(30, 60, 74, 0.1, 0.9, False, 0.9, 0.0) == seek
    assert rules.labour_role(61, 60, 74, 0.1, 0.9, False, 0.9, 0.0) == none
    assert rules.labour_role(12, 60, 74, 0.0, 1.0, True, 0.0, 1.0) == none


def test_slots_round_trip(world):
    village = int(np.flatnonzero(world.kind == 0)[0])
    for slot in range(world.n_slots):
        place = rules.slot_place(slot, village, world.kind, world.town_of)
        assert rules.current_slot(place, village, world.kind, world.town_of) == slot
    for place in range(world.first_outside, world.first_town):
        slot = rules.current_slot(place, village, world.kind, world.town_of)
        assert slot == world.slot_outside + place - world.first_outside


def test_a_newborn_takes_the_mother_s_hukou_residence_and_household(params):
    r = rules.rule_params(params, 4)
    child = dict(zip(PERSON_FIELDS, rules.newborn(7, 3, 40, 0, 41, 5, 1, 2, 1, r), strict=True))
    assert (child["alive"], child["age"], child["birth_quarter"], child["mother"]) == (1, 0, 1, 3)
    assert (child["hukou_place"], child["hukou_urban"], child["residence"]) == (40, 0, 41)
    assert child["household"] == 5 and child["work"] == WORK_NONE and child["income"] == 0.0


def test_months_at_the_residence_restart_on_a_move_and_stop_at_the_cap(params):
    r = rules.rule_params(params, 4)
    assert rules.settle(10, 11, 50, r) == (11, 0)
    assert rules.settle(10, 10, 50, r) == (10, 53)
    assert rules.settle(10, 10, rules.STAY_MONTHS_MAX, r) == (10, rules.STAY_MONTHS_MAX)


def test_hukou_application_deterred_by_land_fear():
    assert rules.hukou_application_probability(0.1, True, 0.6, 0.0) == 0.1 * 0.4
    assert rules.hukou_application_probability(0.1, True, 0.6, 1.0) == 0.1
    assert rules.hukou_application_probability(0.1, False, 0.6, 0.0) == 0.1
