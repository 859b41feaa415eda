import numpy as np

from sim.kernels import choice_weights
from sim.rules import cell_index, choose_slot


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
