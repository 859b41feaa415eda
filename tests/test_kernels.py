import numpy as np

from sim.kernels import choice_cumulative


def test_choice_cumulative_matches_the_logit_with_a_stay_bonus():
    rng = np.random.default_rng(0)
    utility = rng.normal(size=(50, 11))
    utility[3, :2] = -np.inf
    out = np.empty((50, 11, 11))
    choice_cumulative(utility, 2.0, out)
    for cell in (0, 3, 49):
        for cur in range(11):
            logits = utility[cell] + 2.0 * (np.arange(11) == cur)
            prob = np.exp(logits - logits.max())
            prob /= prob.sum()
            assert np.allclose(out[cell, cur], np.cumsum(prob), atol=1e-12)
            assert out[cell, cur, -1] == 1.0
            assert (np.diff(out[cell, cur]) >= 0).all()
    assert (out[3, 5, :2] == 0).all()
