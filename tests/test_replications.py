"""Virtual replications: each study's design re-run in the model lands in its interval.

The designs, intervals and their sources are in ``sim/replications.py`` and listed with
the simulated estimates in ``docs/evidence.md``. Where a mechanism's size was set from
the same study (``giles_mu_2018``: ``land_guard_cost``; ``chari_2021``:
``land_let_fear``) the test is a consistency check of the model's dynamics, not a
validation.
"""

import math

import numpy as np
import pytest

from sim.data import load_region
from sim.doctables import read_estimates
from sim.levers import LEVERS
from sim.paths import replication_estimates_file
from sim.replications import (
    BY_ID,
    REPLICATIONS,
    SCALE,
    SEEDS,
    Replication,
    estimate,
    simulate,
    treated_counties,
    treated_mask,
)

REGION = load_region()
COUNTY_KEYS = REGION.county_keys

KNOWN_MISSES = {
    "hukou_reform_cfps": (
        "the model's urban-hukou share rises 3.0 points (2.7, 3.0, 3.4 on seeds 1-3) where "
        "the study reports 1.9 (declared interval 0.95-2.85, not the study's confidence "
        "interval: its standard error was not read, so whether the real 95% CI contains 3.0 "
        "is unknown): with settlement opened from 0.5 to 0.95 the calibrated application "
        "rate converts more residents than the 2014 reform did; either hukou_apply_rate is "
        "too high or the reform opened less"
    ),
}


def _marks(rep: Replication):
    if rep.id in KNOWN_MISSES:
        return [pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[rep.id])]
    return []


@pytest.mark.parametrize("rep", [pytest.param(r, id=r.id, marks=_marks(r)) for r in REPLICATIONS])
def test_simulated_estimate_lies_in_the_study_interval(region, world, params, rep):
    """Treated against control counties, the study's outcome, horizon and estimator."""
    values = simulate(rep, region, world, params, SEEDS, SCALE)
    stored = read_estimates(replication_estimates_file()).get(rep.id)
    assert stored == values.tolist(), (
        f"{rep.id}: experiments/replications/estimates.csv holds {stored}, the model gives "
        f"{values.tolist()}: run python -m sim.replications, then python -m sim.doctables"
    )
    mean = float(values.mean())
    assert rep.low <= mean <= rep.high, (
        f"{rep.id}: simulated {mean:.2f} {rep.unit} (seeds {values.round(2).tolist()}); "
        f"{rep.study}: {rep.study_estimate:g}, interval [{rep.low:g}, {rep.high:g}] "
        f"({rep.interval_basis})"
    )


def test_designs_name_a_lever_and_split_the_counties():
    for rep in REPLICATIONS:
        lever = LEVERS[rep.lever]
        assert lever.per_county, rep.id
        for value in (rep.treated_value, rep.control_value, rep.before_value):
            assert lever.low <= value <= lever.high, rep.id
        treated_here = treated_counties(rep, REGION)
        assert set(treated_here) < set(COUNTY_KEYS) and treated_here, rep.id
        assert rep.pre_year < rep.start_year <= min(rep.post_years), rep.id
        assert rep.low <= rep.high and rep.interval_basis and rep.design, rep.id
        schedule = rep.levers(COUNTY_KEYS, treated_here)[rep.lever]
        treated = [k for k, s in schedule.items() if s["to"] == rep.treated_value]
        assert set(treated) >= set(treated_here)


def test_estimators_on_known_outcomes():
    rep = BY_ID["giles_mu_2018"]  # did_log, treated anju and pengxi, factor 100
    pre = np.full(5, 0.5)
    post = np.array([0.5, 0.4, 0.5, 0.4, 0.5])  # treated shares fall by a fifth
    assert estimate(
        rep, {rep.pre_year: pre, rep.post_years[0]: post}, treated_mask(rep, REGION)
    ) == (pytest.approx(-20.0))
    rep = BY_ID["hukou_reform_cfps"]  # did in points, treated chuanshan and shehong
    pre = np.array([0.30, 0.20, 0.25, 0.20, 0.20])
    rise = {
        2026: np.array([0.02, 0.01, 0.02, 0.01, 0.01]),
        2028: np.array([0.04, 0.01, 0.04, 0.01, 0.01]),
    }
    post = {year: pre + step for year, step in rise.items()}
    assert estimate(rep, {rep.pre_year: pre, **post}, treated_mask(rep, REGION)) == pytest.approx(
        2.0
    )


def test_every_interval_says_whether_it_is_the_study_confidence_interval():
    """A 95% CI holds the study's estimate; any other interval says what was searched (NC)."""
    for rep in REPLICATIONS:
        assert rep.interval_kind in ("ci95", "declared", "sign"), rep.id
        if rep.interval_kind == "ci95":
            assert "1.96" in rep.interval_basis, rep.id
            assert rep.low <= rep.study_estimate <= rep.high, rep.id
        else:
            assert "NC" in rep.interval_basis, rep.id
            assert "not the study's confidence interval" in rep.interval_basis or (
                rep.interval_kind == "sign"
            ), rep.id
        if rep.interval_kind == "sign":
            assert math.isnan(rep.study_estimate) and math.isinf(rep.high), rep.id


def test_the_sign_only_replication_says_so():
    rep = BY_ID["huangfu_2024"]
    assert math.isnan(rep.study_estimate) and rep.low == 0.0 and math.isinf(rep.high)
