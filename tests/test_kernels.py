import numpy as np

from sim.kernels import choice_weights
from sim.rules import choose_slot


def test_choice_weights_and_draws_follow_the_logit_with_a_stay_bonus():
    rng = np.random.default_rng(0)
    utility = rng.normal(size=(50, 11))
    utility[3, :2] = -np.inf
    weights = np.empty((50, 11))
    totals = np.empty(50)
    choice_weights(utility, weights, totals)
    boost = np.expm1(2.0)
    draws = (np.arange(20000) + 0.5) / 20000
    for cell in (0, 3, 49):
        for cur in (2, 7):
            logits = utility[cell] + 2.0 * (np.arange(11) == cur)
            prob = np.exp(logits - logits.max())
            prob /= prob.sum()
            got = np.bincount(
                [choose_slot(weights[cell], totals[cell], boost, cur, u) for u in draws],
                minlength=11,
            ) / len(draws)
            assert np.allclose(got, prob, atol=2e-4)
    assert (weights[3, :2] == 0).all()
    assert choose_slot(weights[3], totals[3], boost, 5, 0.0) >= 2
