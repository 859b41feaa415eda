"""A second prefecture, Ziyang (资阳), from its own data folder: it loads and its 2023 state
reproduces its own facts within the tolerances of Suining's equivalent tests
(tests/test_population.py::test_marginals_fit, tests/test_model.py::
test_2023_reproduces_the_baseline_facts). Nothing here is Suining's: the region is only
the folder sim/regions/ziyang (docs/data.md, section Ziyang)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import assert_marginals_fit

import sim
from sim.data import load_region
from sim.params import resolve_params
from sim.population import fit_report, synthesize
from sim.world import build_world

FOLDER = Path(__file__).resolve().parent.parent / "sim" / "regions" / "ziyang"
SCALE = 0.005  # about 11,000 residents' agents: fast, and within the tolerances below


@pytest.fixture(scope="module")
def region():
    return load_region(FOLDER)


@pytest.fixture(scope="module")
def world(region):
    return build_world(region)


@pytest.fixture(scope="module")
def params(region):
    return resolve_params(region)


@pytest.fixture(scope="module")
def pop(region, world, params):
    return synthesize(region, world, params, SCALE, 1)


def test_the_region_is_its_own_folder(region):
    assert region.county_keys == ("yanjiang", "anyue", "lezhi")
    assert region.outside_keys == ("chengdu", "chongqing", "rest_of_sichuan", "other_provinces")
    # The counties' figures add up to the city's published 2023 totals.
    for indicator in ("resident_population", "registered_population"):
        total = sum(region.value(k, indicator, 2023) for k in region.county_keys)
        assert total == pytest.approx(region.value("city", indicator, 2023), abs=1)


def test_marginals_fit(pop, world, region):
    """As Suining's test_marginals_fit (tests/test_population.py), at 1:200."""
    assert_marginals_fit(fit_report(pop, world, region))


@pytest.fixture(scope="module")
def base_year():
    """The 2023 state of a run on the region's folder (the base year runs on the 2023 policy)."""
    table = sim.run("baseline", scale=SCALE, end_year=2024, seed=1, region=str(FOLDER))
    return table.set_index(["year", "unit", "indicator"])["value"].loc[2023]


def test_the_county_area_is_the_two_counties(base_year):
    assert ("county_area", "resident_urbanisation_rate") in base_year.index


def test_2023_reproduces_the_facts(base_year, region):
    """As Suining's test_2023_reproduces_the_baseline_facts (tests/test_model.py)."""
    v, fact = base_year, region.value
    for indicator in ("resident_population", "registered_population"):
        assert v[("city", indicator)] == pytest.approx(fact("city", indicator, 2023), rel=0.01)
    for indicator in ("resident_urbanisation_rate", "registered_urbanisation_rate"):
        assert abs(v[("city", indicator)] - fact("city", indicator, 2023)) < 0.003
    documented = fact("city", "urban_income", 2023) / fact("city", "rural_income", 2023)
    assert abs(v[("city", "income_ratio")] - documented) < 0.05
    assert v[("yanjiang", "resident_population")] == pytest.approx(
        fact("yanjiang", "resident_population", 2023), rel=0.01
    )


def test_2023_incomes_match_the_calibration_targets(base_year, region):
    """The calibrated income constants reproduce the 2023 levels (within 2% at 1:200)."""
    for area in ("urban", "rural"):
        level = base_year[("city", f"{area}_income_per_capita")]
        assert level == pytest.approx(region.value("city", f"{area}_income", 2023), rel=0.02)


def test_counties_keep_their_2023_urbanisation(base_year, region):
    """Each county's urbanisation as assumed (assumptions.csv), within 0.01 at 1:200."""
    for key in region.county_keys:
        rate = base_year[(key, "resident_urbanisation_rate")]
        assert np.isclose(rate, region.value(key, "resident_urbanisation_rate", 2023), atol=0.01)
