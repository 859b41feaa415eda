import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim import rng

ints = st.integers(min_value=0, max_value=2**62)


@given(ints, ints, ints, st.integers(min_value=0, max_value=200))
def test_uniform_is_a_pure_function_in_unit_interval(seed, step, agent, purpose):
    u = rng.uniform(seed, step, agent, purpose)
    assert 0.0 <= u < 1.0
    assert u == rng.uniform(seed, step, agent, purpose)


def test_vector_draws_equal_scalar_draws():
    ids = np.arange(1000)
    vec = rng.uniforms(42, 7, ids, rng.MOVE_CHOICE)
    assert all(vec[i] == rng.uniform(42, 7, int(i), rng.MOVE_CHOICE) for i in range(0, 1000, 97))


def test_draws_look_uniform_and_independent_across_purposes():
    ids = np.arange(200_000)
    a = rng.uniforms(1, 3, ids, rng.DEATH)
    b = rng.uniforms(1, 3, ids, rng.BIRTH)
    assert abs(a.mean() - 0.5) < 0.005
    assert abs(a.var() - 1 / 12) < 0.002
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.01
    hist = np.histogram(a, bins=20, range=(0, 1))[0]
    assert hist.min() > 0.95 * len(a) / 20


def test_changing_any_counter_changes_the_draw():
    base = rng.uniform(5, 6, 7, 8)
    assert (
        len(
            {
                base,
                rng.uniform(6, 6, 7, 8),
                rng.uniform(5, 7, 7, 8),
                rng.uniform(5, 6, 8, 8),
                rng.uniform(5, 6, 7, 9),
            }
        )
        == 5
    )
