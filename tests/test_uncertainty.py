import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.uncertainty import MIN_DRAWS, decomposition_table, variance_decomposition

ROLES = {"income_2023": "base_data", "asc_home": "parameter", "stay_bonus": "parameter"}


def ensemble(draws, seeds, base_sd, param_sd, seed_sd, rng_seed=0, correlation=0.0):
    """Runs of y = income_2023 + asc_home + noise: known variance components."""
    rng = np.random.default_rng(rng_seed)
    base = rng.normal(0, 1, draws)
    asc = correlation * base + np.sqrt(1 - correlation**2) * rng.normal(0, 1, draws)
    inputs = pd.DataFrame(
        {
            "draw": np.arange(draws),
            "income_2023": base,
            "asc_home": asc,
            "stay_bonus": rng.normal(0, 1, draws),  # irrelevant to y
            "fixed": 1.0,  # the same in every draw
        }
    )
    mean = base_sd * base + param_sd * asc
    runs = pd.DataFrame(
        {
            "draw": np.repeat(np.arange(draws), seeds),
            "value": np.repeat(mean, seeds) + rng.normal(0, seed_sd, draws * seeds),
        }
    )
    return runs, inputs


def test_independent_components_are_recovered():
    runs, inputs = ensemble(400, 3, base_sd=2.0, param_sd=1.0, seed_sd=1.0)
    shares = variance_decomposition(runs, inputs, ROLES)
    total = 4 + 1 + 1
    assert shares.seeds == pytest.approx(1 / total, abs=0.03)
    assert shares.base_data == pytest.approx(4 / total, abs=0.05)
    assert shares.parameters == pytest.approx(1 / total, abs=0.05)
    assert shares.explained > 0.75  # the draw means still carry a third of the seed noise
    assert shares.draws == 400 and shares.seeds_per_draw == 3


def test_correlated_groups_share_their_common_part_fairly():
    """A posterior correlates base data and parameters; neither alone takes it all."""
    runs, inputs = ensemble(400, 2, base_sd=1.0, param_sd=1.0, seed_sd=0.1, correlation=0.8)
    shares = variance_decomposition(runs, inputs, ROLES)
    assert shares.base_data == pytest.approx(shares.parameters, abs=0.06)
    assert shares.seeds < 0.01


def test_one_seed_per_draw_leaves_the_seeds_unseparated():
    runs, inputs = ensemble(200, 1, base_sd=1.0, param_sd=0.0, seed_sd=0.5)
    shares = variance_decomposition(runs, inputs, ROLES)
    assert shares.seeds is None
    assert shares.base_data + shares.parameters == pytest.approx(1.0)
    assert shares.base_data > 0.9


def test_too_few_draws_or_no_variance_split_nothing():
    runs, inputs = ensemble(MIN_DRAWS - 1, 2, base_sd=1.0, param_sd=1.0, seed_sd=0.5)
    shares = variance_decomposition(runs, inputs, ROLES)
    assert shares.parameters is None and shares.base_data is None
    assert 0 < shares.seeds < 1
    flat = runs.assign(value=3.0)
    assert variance_decomposition(flat, inputs, ROLES).seeds is None


@settings(max_examples=8, deadline=None)
@given(
    st.integers(MIN_DRAWS, 60),
    st.integers(1, 3),
    st.floats(0, 3),
    st.floats(0, 3),
    st.floats(0.01, 3),
    st.integers(0, 10_000),
)
def test_shares_are_fractions_that_add_up_to_one(draws, seeds, base, param, noise, seed):
    runs, inputs = ensemble(draws, seeds, base, param, noise, rng_seed=seed)
    shares = variance_decomposition(runs, inputs, ROLES)
    parts = [shares.parameters, shares.base_data, shares.seeds or 0.0]
    if shares.parameters is not None:
        assert all(0 <= p <= 1 for p in parts)
        assert sum(parts) == pytest.approx(1.0)
    assert shares.explained is None or 0 <= shares.explained <= 1


def test_the_table_has_a_row_per_scenario_and_indicator():
    runs, inputs = ensemble(40, 2, base_sd=1.0, param_sd=1.0, seed_sd=0.3)
    rows = []
    for scenario in ("baseline", "package"):
        for unit in ("city", "county_area"):
            rows.append(
                runs.assign(
                    run_id=scenario,
                    scenario=scenario,
                    seed=np.arange(len(runs)),
                    year=2027,
                    unit=unit,
                    indicator="resident_urbanisation_rate",
                )
            )
    table = pd.concat(rows, ignore_index=True)
    keys = [("city", "resident_urbanisation_rate"), ("county_area", "resident_urbanisation_rate")]
    out = decomposition_table(table, {"baseline": inputs}, ROLES, keys, 2027)
    # A run without its inputs (no draws.csv) is left out, not guessed.
    assert out.scenario.tolist() == ["baseline", "baseline"]
    assert out.unit.tolist() == ["city", "county_area"]
    assert np.allclose(out.parameters + out.base_data + out.seeds, 1.0)
