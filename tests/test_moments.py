import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from sim.data import Observation
from sim.errors import ConfigError
from sim.moments import (
    PERSISTENCE_YEARS,
    compared,
    comparison,
    log_likelihood,
    model_years,
    moments_of,
    simulated_value,
)

START = 2023


def observation(**changes) -> Observation:
    base = Observation(
        moment="m",
        unit="city",
        indicator="resident_population",
        statistic="growth",
        of="",
        year_from=2021,
        year=2023,
        value=-0.006,
        sd_obs=0.003,
        sd_discrepancy=0.004,
        side="post_census",
        use="fit",
        basis="derived",
        source="s",
        note="n",
    )
    return dataclasses.replace(base, **changes)


def table(values: dict[str, dict[int, float]], unit: str = "city") -> pd.DataFrame:
    rows = [
        {"year": year, "unit": unit, "indicator": name, "value": value}
        for name, series in values.items()
        for year, value in series.items()
    ]
    return pd.DataFrame(rows)


def test_the_total_error_adds_observation_and_discrepancy_in_quadrature():
    assert observation().sd == pytest.approx(0.005)


@pytest.mark.parametrize(
    ("changes", "years"),
    [
        ({"statistic": "level", "year_from": None, "year": 2023}, (None, 2023)),
        ({"statistic": "level", "year_from": None, "year": 2026}, (None, 2026)),
        # A rate before the start: the model's first simulated year.
        (
            {"statistic": "level", "year_from": None, "year": 2022, "indicator": "birth_rate"},
            (None, START + 1),
        ),
        ({"year_from": 2024, "year": 2027}, (2024, 2027)),
        # A trend before the start: the model's first years, however long the window.
        ({"year_from": 2015, "year": 2019}, (START, START + PERSISTENCE_YEARS)),
        ({"year_from": 2021, "year": 2023}, (START, START + PERSISTENCE_YEARS)),
    ],
)
def test_each_moment_is_compared_over_the_years_the_model_simulates(changes, years):
    assert model_years(observation(**changes), START) == years


def test_a_stock_level_before_the_start_cannot_be_compared():
    with pytest.raises(ConfigError, match=r"before the model.s start .* input or context"):
        model_years(observation(statistic="level", year_from=None, year=2020), START)


def test_levels_changes_and_growth_from_a_table():
    t = table(
        {
            "resident_population": {2023: 100.0, 2024: 99.0, 2025: 98.01},
            "resident_urbanisation_rate": {2023: 0.60, 2024: 0.61, 2025: 0.625},
            "births": {2023: 0.0, 2024: 0.7},
        }
    )
    growth = simulated_value(t, observation(), START)
    assert growth == pytest.approx(-0.01)
    change = observation(indicator="resident_urbanisation_rate", statistic="change")
    assert simulated_value(t, change, START) == pytest.approx(0.0125)
    level = observation(statistic="level", year_from=None, year=2025)
    assert simulated_value(t, level, START) == pytest.approx(98.01)
    birth_rate = observation(indicator="birth_rate", statistic="level", year_from=None, year=2022)
    assert simulated_value(t, birth_rate, START) == pytest.approx(0.7 / 99.0)


def test_a_run_too_short_for_a_moment_is_named():
    t = table({"resident_population": {2023: 100.0, 2024: 99.0}})
    with pytest.raises(ConfigError, match="no resident_population for city in 2025"):
        simulated_value(t, observation(), START)


@given(
    start=st.floats(1e3, 1e7),
    rate=st.floats(-0.2, 0.2),
    years=st.integers(1, 6),
)
def test_growth_of_a_geometric_path_is_its_rate(start, rate, years):
    path = {2023 + k: start * (1 + rate) ** k for k in range(years + 1)}
    obs = observation(year_from=2023, year=2023 + years)
    assert simulated_value(table({"resident_population": path}), obs, START) == pytest.approx(
        rate, abs=1e-9
    )


def test_the_log_likelihood_is_the_gaussian_density_of_the_residuals():
    observations = [
        observation(moment="a", value=1.0, sd_obs=0.5, sd_discrepancy=0.0),
        observation(moment="b", value=-2.0, sd_obs=0.3, sd_discrepancy=0.4),
    ]
    simulated = pd.Series({"a": 1.2, "b": -1.0})
    expected = stats.norm.logpdf(1.2, 1.0, 0.5) + stats.norm.logpdf(-1.0, -2.0, 0.5)
    assert log_likelihood(observations, simulated) == pytest.approx(expected)
    z = comparison(observations, simulated).z
    assert z.to_dict() == pytest.approx({"a": 0.4, "b": 2.0})


def test_every_fitted_and_held_out_moment_is_comparable_with_a_run(region, stored_table):
    """The shipped observations against a stored run (scale 0.001, 2023-2035)."""
    run = stored_table[(stored_table.scenario == "baseline")]
    run = run[run.seed == run.seed.min()]
    observations = compared(region.observations)
    assert {o.use for o in observations} == {"fit", "holdout"}
    moments = moments_of(run, observations, START)
    assert list(moments.index) == [o.moment for o in observations]
    assert np.isfinite(moments).all()
    # The income levels of the start state are those the calibration set (2023 row).
    incomes = comparison(observations, moments).loc[["urban_income_2023", "rural_income_2023"]]
    assert (incomes.z.abs() < 3).all(), incomes
    assert math.isfinite(log_likelihood(observations, moments))


def test_the_record_is_split_by_use_and_census_side(region):
    by_use = {}
    for o in region.observations:
        by_use.setdefault(o.use, []).append(o)
    assert set(by_use) == {"fit", "holdout", "input", "context"}
    # No fitted or held-out moment is a pre-census level or crosses the census break.
    for o in by_use["fit"] + by_use["holdout"]:
        assert o.side != "across_break"
        assert not (o.side == "pre_census" and o.statistic == "level")
    # Pre-census changes enter with wide errors: wider than the post-census ones.
    pre = [o for o in by_use["fit"] if o.side == "pre_census"]
    post = {o.indicator: o for o in by_use["fit"] if o.side == "post_census"}
    assert pre
    for o in pre:
        assert o.sd > post[o.indicator].sd
