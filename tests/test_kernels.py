import numba
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim import kernels as K
from sim.kernels import choice_weights
from sim.rules import cell_index, choose_slot
from sim.state import place_tables


def reference_utilities(base, service, service_kids, housing, asc, home_bonus, home_slot, is_town):
    """Straightforward V for every cell, to check the compiled weights against."""
    n_units, _, n_skills, _n_slots = base.shape
    out = {}
    for unit in range(n_units):
        for h in range(2):
            for s in range(n_skills):
                for band in range(len(home_bonus)):
                    for kids in range(2):
                        v = base[unit, h, s] + service[unit] + kids * service_kids[unit]
                        v = v - housing
                        hs = home_slot[unit, h]
                        v[hs] += housing[hs] + home_bonus[band] - asc[hs]
                        if h == 1 or not is_town[unit]:
                            v[0] = -np.inf
                        if not is_town[unit]:
                            v[1] = -np.inf
                        out[cell_index(unit, h, s, band, kids)] = v
    return out


def test_choice_weights_are_the_logit_of_the_utilities():
    rng = np.random.default_rng(0)
    n_units, slots = 6, 11
    base = rng.normal(size=(n_units, 2, 3, slots))
    service, kids = rng.normal(size=(n_units, slots)), rng.normal(size=(n_units, slots))
    housing, asc, home_bonus = rng.random(slots), rng.normal(size=slots), rng.normal(size=5)
    home_slot = np.array([[2, 2], [5, 5], [7, 7], [0, 1], [0, 1], [0, 1]])
    is_town = np.array([0, 0, 0, 1, 1, 1], np.int8)
    n_cells = n_units * 2 * 3 * 5 * 2
    weights, totals = np.empty((n_cells, slots)), np.empty(n_cells)
    choice_weights(
        base, service, kids, housing, asc, home_bonus, home_slot, is_town, weights, totals
    )
    ref = reference_utilities(base, service, kids, housing, asc, home_bonus, home_slot, is_town)
    for row, v in ref.items():
        assert np.allclose(weights[row], np.exp(v), rtol=1e-12)
        assert np.isclose(totals[row], np.exp(v).sum(), rtol=1e-12)
    assert (weights[cell_index(0, 0, 0, 0, 0), :2] == 0).all()


def test_draws_follow_the_logit_with_a_stay_bonus():
    rng = np.random.default_rng(1)
    utility = rng.normal(size=11)
    weights = np.exp(utility)
    boost = np.expm1(2.0)
    draws = (np.arange(20000) + 0.5) / 20000
    for cur in (0, 2, 10):
        logits = utility + 2.0 * (np.arange(11) == cur)
        prob = np.exp(logits) / np.exp(logits).sum()
        got = np.bincount(
            [choose_slot(weights, weights.sum(), boost, cur, u) for u in draws], minlength=11
        ) / len(draws)
        assert np.allclose(got, prob, atol=2e-4)


def test_counts_by_block_do_not_depend_on_the_number_of_blocks(make_model):
    """Integer counts are summed by block of persons, one block per thread."""
    model = make_model(scale=0.001, seed=4, end_year=2024)
    model.run()
    P, H = model.backend.state()
    w = model.world
    places = place_tables(w)

    def census(form, blocks):
        counts = tuple(
            np.zeros((blocks, *shape), np.int64)
            for shape in ((w.n_markets, 3), (w.n_places,), (w.n_places,), (3, w.n_counties))
        )
        form(P.view(), H.view(), places, 60.0, counts)
        return [c.sum(axis=0) for c in counts]

    one = census(K.person_census.serial, 1)
    for blocks in (2, 3, 7):
        for form in (K.person_census.serial, K.person_census.parallel):
            for a, b in zip(one, census(form, blocks), strict=True):
                assert np.array_equal(a, b)
    alive = P.alive[: P.n] == 1
    assert one[1].sum() == alive.sum()  # residents
    assert np.array_equal(one[1], np.bincount(P.residence[: P.n][alive], minlength=w.n_places))


def test_a_kernel_runs_its_serial_form_on_one_thread_only(monkeypatch):
    calls = []
    kernel = K.residents_by_place
    monkeypatch.setattr(kernel, "serial", lambda *a: calls.append("serial"))
    monkeypatch.setattr(kernel, "parallel", lambda *a: calls.append("parallel"))
    before = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            kernel(None, None)
    finally:
        numba.set_num_threads(before)
    assert calls == ["serial", "parallel"]


@given(
    sizes=st.lists(st.integers(1, 6), min_size=0, max_size=60),
    births=st.integers(0, 20),
    blocks=st.integers(1, 8),
)
def test_household_bounds_never_split_a_household(sizes, births, blocks):
    grouped_households = np.repeat(np.arange(len(sizes)), sizes)
    grouped = len(grouped_households)
    tail = np.arange(births) % max(len(sizes), 1)
    household = np.concatenate([grouped_households, tail]).astype(np.int32)
    n = len(household)
    bounds = K.household_bounds(household, grouped, n, blocks)
    assert len(bounds) == blocks + 2
    assert bounds[0] == 0 and bounds[-2] == grouped and bounds[-1] == n
    assert (np.diff(bounds) >= 0).all()
    for cut in bounds[1:-2]:
        assert cut in (0, grouped) or household[cut] != household[cut - 1]
