import os
import subprocess
import sys

import numba
import pandas as pd
import pytest

from sim import ensemble
from sim.config import validate
from sim.errors import ConfigError
from sim.indicators import indicator_table
from sim.runner import simulate

BASE = {"scale": 0.001, "end_year": 2025, "progress": "off"}
MEMBERS = [
    {**BASE, "seed": 1},
    {**BASE, "seed": 2},
    {**BASE, "seed": 1, "params": {"beta_income": 1.2}},
    {**BASE, "seed": 1, "levers": {"settlement_ease": 0.9}},
    {**BASE, "seed": 2, "scenario": "land_reform"},
]


def alone(member: dict) -> pd.DataFrame:
    """The indicator table of the member run the way `ronghe run` runs it."""
    cfg = validate(member)
    model, _fit, _region, _scenario = simulate(cfg)
    s = cfg.settings
    return indicator_table(
        model.tallies,
        weight=model.weight,
        steps_per_year=s.steps_per_year,
        county_area=cfg.resolved(model.region).settings.county_area,
        scenario=s.scenario,
        seed=s.seed,
    )


@pytest.fixture(scope="module")
def on_two_workers():
    return ensemble.run_ensemble(MEMBERS, workers=2)


def test_each_member_equals_its_run_alone_bit_for_bit(on_two_workers):
    assert len(on_two_workers) == len(MEMBERS)
    for member, table in zip(MEMBERS, on_two_workers, strict=True):
        pd.testing.assert_frame_equal(table, alone(member), check_exact=True)


def test_members_differ_where_their_configurations_differ(on_two_workers):
    values = [t["value"].to_numpy() for t in on_two_workers]
    for k in range(1, len(values)):
        assert not (values[0] == values[k]).all(), MEMBERS[k]


def test_one_worker_gives_the_same_tables_in_this_process(on_two_workers):
    before = numba.get_num_threads()
    in_process = ensemble.run_ensemble(MEMBERS, workers=1)
    assert numba.get_num_threads() == before
    for a, b in zip(on_two_workers, in_process, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_runs_with_the_same_seed_and_population_parameters_share_one_synthesis(monkeypatch):
    calls = []
    real = ensemble.synthesize

    def counting(region, world, params, scale, seed):
        calls.append(seed)
        return real(region, world, params, scale, seed)

    monkeypatch.setattr(ensemble, "synthesize", counting)
    members = [
        {**BASE, "end_year": 2024, "seed": 1},
        {**BASE, "end_year": 2024, "seed": 1, "params": {"beta_income": 1.2}},
        {**BASE, "end_year": 2024, "seed": 1, "params": {"skill_mid_share_new_cohorts": 0.5}},
        {**BASE, "end_year": 2024, "seed": 3},
    ]
    ensemble.run_ensemble(members, workers=1)
    assert sorted(calls) == [1, 1, 3]  # beta_income does not change the population


def test_batches_group_members_by_population_and_cover_each_once():
    keys = [("a",), ("b",), ("a",), ("a",), ("b",), ("c",)] * 5
    batches = ensemble._batches(keys, workers=2)
    flat = sorted(k for batch in batches for k in batch)
    assert flat == list(range(len(keys)))
    for batch in batches:
        assert len({keys[k] for k in batch}) == 1
    assert len(batches) >= 2 * 2  # enough batches to balance two workers


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([{**BASE, "end_year": 2027, "goal": {"replicates": 3}}], "members[0].goal.replicates=3"),
        ([BASE, {**BASE, "region": "/elsewhere"}], "region: an ensemble runs on one"),
        ([{**BASE, "scale": 7}], "scale"),
        ([{**BASE, "params": {"no_such": 1.0}}], "params.no_such"),
    ],
)
def test_bad_members_are_refused_before_any_run(members, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("[", r"\[")):
        ensemble.run_ensemble(members, workers=1)


@pytest.mark.parametrize("workers", [-1, 1.5, "2", True])
def test_a_bad_worker_count_is_refused_in_one_line(workers):
    with pytest.raises(ConfigError) as info:
        ensemble.run_ensemble([BASE], workers=workers)
    assert str(info.value) == (
        f"workers={workers!r}: allowed an integer >= 0 (0 = one per available core)"
    )


def test_an_empty_ensemble_returns_no_tables():
    assert ensemble.run_ensemble([]) == []


SCRIPT = """
import numba
from sim.ensemble import run_ensemble
members = [{"scale": 0.0005, "end_year": 2024, "seed": s} for s in (1, 2, 3)]
alone = run_ensemble(members, workers=1)  # starts numba's OpenMP threads in this process
assert numba.threading_layer() == "omp"
pooled = run_ensemble(members, workers=2)
assert all(a.equals(b) for a, b in zip(alone, pooled, strict=True))
print("same")
"""


def test_a_process_running_openmp_threads_starts_its_workers_from_a_server(tmp_path):
    """Forking it would hang the workers; they start from a fork server instead."""
    env = {**os.environ, "NUMBA_THREADING_LAYER": "omp"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "same"


def test_kept_populations_stay_within_the_persons_budget(monkeypatch, region, world, params):
    inputs = ensemble.RunInputs(region, world)
    one = inputs.population(1, 0.001, params)
    monkeypatch.setattr(ensemble, "PERSONS_KEPT_MAX", int(one.persons.n * 2.5))
    for seed in (1, 2, 3, 4):
        copy = inputs.population(seed, 0.001, params)
        assert copy is not inputs.populations[ensemble.population_key(seed, 0.001, params)]
    kept = [key[0] for key in inputs.populations]
    assert kept == [3, 4]  # the least recently used went first
    monkeypatch.setattr(ensemble, "PERSONS_KEPT_MAX", one.persons.n - 1)
    inputs.population(5, 0.001, params)  # larger than the whole budget: not kept
    assert [key[0] for key in inputs.populations] == [3, 4]
