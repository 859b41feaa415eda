import numpy as np
import pytest
from conftest import assert_marginals_fit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import ConfigError
from sim.population import POPULATION_PARAMETERS, fit_report, synthesize
from sim.world import KIND_OUTSIDE


@pytest.fixture(scope="module")
def pop(region, world, params):
    return synthesize(region, world, params, 0.01, 1)


def test_marginals_fit(pop, world, region):
    assert_marginals_fit(fit_report(pop, world, region))


def test_agent_weight_is_real_persons(pop):
    assert pop.weight == pytest.approx(100.0, rel=0.01)


def test_same_seed_same_population(region, world, params):
    a = synthesize(region, world, params, 0.002, 7)
    b = synthesize(region, world, params, 0.002, 7)
    c = synthesize(region, world, params, 0.002, 8)
    for name, arr in a.persons.arrays().items():
        assert np.array_equal(arr, b.persons.arrays()[name]), name
    assert not np.array_equal(a.persons.age[: a.persons.n], c.persons.age[: c.persons.n])


def test_household_structure(pop, world):
    p, h = pop.persons, pop.households
    n = p.n
    kids = np.flatnonzero(p.mother[:n] >= 0)
    gap = p.age[p.mother[kids]] - p.age[kids]
    assert (gap >= 16).all() and (gap <= 50).all()
    assert (p.female[p.mother[kids]] == 1).all()
    # Children live in their mother's household; households hold one hukou county.
    assert (p.household[kids] == p.household[p.mother[kids]]).all()
    hh_county = world.county[p.hukou_place[:n]]
    for hid in np.unique(p.household[:n])[::997]:
        members = np.flatnonzero(p.household[:n] == hid)
        assert len(set(hh_county[members])) == 1
    # Rural households hold land; urban ones do not.
    assert (h.land[h.village >= 0] > 0).all() and (h.land[h.village < 0] == 0).all()
    # Persons are ordered by household (cache-friendly kernels).
    assert (np.diff(p.household[:n]) >= 0).all()


def test_scale_must_be_positive(region, world, params):
    with pytest.raises(ConfigError, match=r"scale=0: outside the allowed range \(0, 1\]"):
        synthesize(region, world, params, 0, 1)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(scale=st.floats(min_value=0.0003, max_value=0.002), seed=st.integers(0, 2**40))
def test_every_person_has_a_place(region, world, params, scale, seed):
    pop = synthesize(region, world, params, scale, seed)
    p = pop.persons
    n = p.n
    assert (p.residence[:n] >= 0).all() and (p.residence[:n] < world.n_places).all()
    assert (p.hukou_place[:n] >= 0).all()
    registered = world.kind[p.hukou_place[:n]] != KIND_OUTSIDE
    assert registered.sum() * pop.weight == pytest.approx(3_531_200, rel=0.02)


def test_population_parameters_are_the_parameters_synthesis_reads(region, world, params):
    read = set()

    class Recording:
        def __getattr__(self, name):
            read.add(name)
            return getattr(params, name)

    synthesize(region, world, Recording(), 0.001, 2)
    assert read == set(POPULATION_PARAMETERS)


@given(shift=st.one_of(st.just(0.0), st.floats(1e-4, 1.0), st.floats(-1.0, -1e-4)))
def test_a_shifted_central_rate_keeps_the_citys_urban_residents(region, shift):
    from sim.population import residence_plan

    base = residence_plan(region)
    moved = residence_plan(region, shift)
    assert moved.urban_resident.sum() == pytest.approx(base.urban_resident.sum(), rel=1e-9)
    assert np.array_equal(moved.resident, base.resident)
    rates, base_rates = moved.urban_resident / moved.resident, base.urban_resident / base.resident
    # The central district moves one way, every other county the other way.
    if shift > 0:
        assert rates[0] > base_rates[0] and (rates[1:] < base_rates[1:]).all()
    elif shift < 0:
        assert rates[0] < base_rates[0] and (rates[1:] > base_rates[1:]).all()


def test_no_shift_keeps_the_assumed_county_rates_exactly(region):
    from sim.population import shifted_rates

    resident = np.array([1.0, 2.0, 3.0])
    rates = np.array([0.8, 0.4, 0.5])
    assert shifted_rates(resident, rates, 0.0) is rates
    with pytest.raises(ConfigError, match="central_urbanisation_shift_2023=-30"):
        shifted_rates(np.array([10.0, 1.0]), np.array([0.9, 0.1]), -30.0)
