"""Ensembles: many runs in one process tree, without a process or a Hydra composition each.

Calibration and uncertainty need thousands of runs that differ in seed, parameters and
lever plan. Started one by one (``ronghe run``), each pays an interpreter, imports, a
Hydra composition and the loading of the compiled kernels, which at scale 0.02 cost as
much as the run itself. :func:`run_ensemble` runs a list of validated configurations on
worker processes forked once from a process that has loaded the data (each loads the
compiled kernels from numba's cache once); runs with the same seed, scale and population
parameters start from copies of one synthesized population. Each run gives exactly the
indicator table ``ronghe run`` writes for the same configuration (tests/test_ensemble.py
checks it bit for bit).

Workers take one numba thread each, so ``workers`` runs share the cores without
oversubscription (see :mod:`sim.threads`).
"""

from __future__ import annotations

import functools
import math
import multiprocessing
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field

import numba
import pandas as pd

from sim.config import ValidConfig, resolve_county_area, validate
from sim.data import RegionData, load_region
from sim.errors import ConfigError
from sim.indicators import indicator_table
from sim.levers import lever_defaults
from sim.model import RongheModel, RunSpec
from sim.params import Params, resolve_params
from sim.paths import scenarios_folder
from sim.population import POPULATION_PARAMETERS, Population, synthesize
from sim.scenario import Scenario, load_scenario
from sim.threads import available_cores, fork_is_safe, prepare
from sim.world import World, build_world

# Persons in the populations a process keeps (least recently used dropped first): about
# 70 MB, room for 25 populations at scale 0.02 (a goal sweep's replicate seeds), none
# at full scale (3.7 million persons, about 250 MB).
PERSONS_KEPT_MAX = 2_000_000


@functools.lru_cache(maxsize=2)
def _inputs_for(region_name: str, data_hash: str) -> RunInputs:
    region = load_region(region_name)
    return RunInputs(region, build_world(region))


def process_inputs(region: RegionData, region_name: str) -> RunInputs:
    """The :class:`RunInputs` this process keeps for runs on ``region``'s data.

    The jobs a sweep worker runs one after another share populations through it (a goal
    sweep evaluates every package on the same replicate seeds). Keyed by the data files'
    hash, so edited data never meet a population synthesized from the old.
    """
    return _inputs_for(region_name, region.data_hash)


def population_key(seed: int, scale: float, params: Params) -> tuple:
    """What a synthesized population depends on: seed, scale and the parameters it reads."""
    return (seed, scale, tuple(getattr(params, name) for name in POPULATION_PARAMETERS))


def scenario_key(cfg: ValidConfig) -> tuple:
    """What a composed scenario depends on."""
    s = cfg.settings
    levers = tuple(sorted((k, repr(v)) for k, v in cfg.levers.items()))
    return (s.scenario, s.scenarios_dir, s.region, s.start_year, s.end_year, levers)


def compose_scenario(cfg: ValidConfig, region: RegionData) -> Scenario:
    """The run's scenario with its lever overrides, on ``region``'s 2023 lever values."""
    s = cfg.settings
    return load_scenario(
        s.scenario,
        scenarios_folder(s.scenarios_dir),
        period=(s.start_year, s.end_year),
        lever_overrides=cfg.levers,
        defaults=lever_defaults(region),
    )


@dataclass
class RunInputs:
    """What the runs of one process share: the data, the world, scenarios and populations."""

    region: RegionData
    world: World
    scenarios: dict[tuple, Scenario] = field(default_factory=dict)
    populations: OrderedDict = field(default_factory=OrderedDict)

    def scenario(self, cfg: ValidConfig) -> Scenario:
        """The run's scenario composed with its lever overrides (composed once per key)."""
        key = scenario_key(cfg)
        if key not in self.scenarios:
            self.scenarios[key] = compose_scenario(cfg, self.region)
        return self.scenarios[key]

    def population(self, seed: int, scale: float, params: Params) -> Population:
        """A fresh copy of a synthetic population (a run changes its arrays)."""
        key = population_key(seed, scale, params)
        if key in self.populations:
            self.populations.move_to_end(key)
        else:
            population = synthesize(self.region, self.world, params, scale, seed)
            if population.persons.n > PERSONS_KEPT_MAX:
                return population
            self.populations[key] = population
            while sum(p.persons.n for p in self.populations.values()) > PERSONS_KEPT_MAX:
                self.populations.popitem(last=False)
        base = self.populations[key]
        return Population(
            persons=base.persons.copy(),
            households=base.households.copy(),
            weight=base.weight,
            plan=base.plan,
        )


def model_arguments(
    cfg: ValidConfig,
    inputs: RunInputs,
    *,
    params: Params | None = None,
    population: Population | None = None,
) -> dict:
    """The keyword arguments of :class:`~sim.model.RongheModel` for one run.

    Args:
        cfg: The run's configuration.
        inputs: The shared data, world, scenarios and populations.
        params: The resolved parameters, if the caller has them.
        population: The run's own population; default a copy of the shared one.
    """
    s = cfg.settings
    params = params or resolve_params(inputs.region, cfg.params)
    spec = RunSpec(
        seed=s.seed,
        scale=s.scale,
        backend=s.backend,
        start_year=s.start_year,
        end_year=s.end_year,
        steps_per_year=s.steps_per_year,
        check_invariants=s.check_invariants,
    )
    population = population or inputs.population(s.seed, s.scale, params)
    return {
        "region": inputs.region,
        "world": inputs.world,
        "params": params,
        "population": population,
        "spec": spec,
        "policy_at": inputs.scenario(cfg).plan.policy_at,
    }


def build_model(
    cfg: ValidConfig,
    inputs: RunInputs,
    *,
    params: Params | None = None,
    population: Population | None = None,
) -> RongheModel:
    """The model of one run, before its first step (arguments: :func:`model_arguments`)."""
    return RongheModel(**model_arguments(cfg, inputs, params=params, population=population))


def finish(model: RongheModel, *, scenario: str, county_area=None) -> pd.DataFrame:
    """Run ``model`` to its end year; return its indicator table.

    ``county_area`` None is the region's own (:func:`~sim.config.region_county_area`).
    """
    model.run()
    return indicator_table(
        model.tallies,
        weight=model.weight,
        steps_per_year=model.spy,
        county_area=resolve_county_area(county_area, model.region),
        scenario=scenario,
        seed=model.seed,
    )


def run_member(cfg: ValidConfig, inputs: RunInputs) -> pd.DataFrame:
    """Run one configuration; return its indicator table (as ``ronghe run`` writes it)."""
    s = cfg.settings
    return finish(build_model(cfg, inputs), scenario=s.scenario, county_area=s.county_area)


def _as_config(member: ValidConfig | Mapping) -> ValidConfig:
    return member if isinstance(member, ValidConfig) else validate(member)


def _check(configs: list[ValidConfig]) -> None:
    data = {c.settings.region for c in configs}
    if len(data) > 1:
        raise ConfigError(f"region: an ensemble runs on one region; got {sorted(map(str, data))}")
    for k, c in enumerate(configs):
        if c.settings.goal.replicates:
            raise ConfigError(
                f"members[{k}].goal.replicates={c.settings.goal.replicates}: allowed 0 in an "
                "ensemble (list the replicate seeds as members instead)"
            )


def _batches(keys: list[tuple], workers: int) -> list[list[int]]:
    """Member indices grouped by population, in batches that keep the workers busy."""
    order = sorted(range(len(keys)), key=lambda k: (repr(keys[k]), k))
    size = max(1, math.ceil(len(keys) / (4 * workers)))
    batches, current, current_key = [], [], None
    for k in order:
        if current and (keys[k] != current_key or len(current) == size):
            batches.append(current)
            current = []
        current.append(k)
        current_key = keys[k]
    if current:
        batches.append(current)
    return batches


# A worker's share of the ensemble: set once by the initializer in each worker process
# (inherited through fork, or unpickled from the server process), read by its batches.
_worker_state: dict = {}


def _start_worker(configs: list[ValidConfig], inputs: RunInputs) -> None:
    prepare()  # Ronghe's threading layer before set_num_threads starts one
    numba.set_num_threads(1)
    _worker_state["configs"] = configs
    _worker_state["inputs"] = inputs


def _run_batch(indices: list[int]) -> list[tuple[int, pd.DataFrame]]:
    configs, inputs = _worker_state["configs"], _worker_state["inputs"]
    return [(k, run_member(configs[k], inputs)) for k in indices]


def run_ensemble(
    members: Sequence[ValidConfig | Mapping],
    *,
    workers: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> list[pd.DataFrame]:
    """Run every member and return their indicator tables in member order.

    Args:
        members: Validated configurations (:func:`sim.config.validate`), or mappings
            of the keys of ``conf/config.yaml`` to validate (``{"seed": 3,
            "scenario": "land_reform", "params": {...}, "levers": {...}}``). All use the
            same ``region``; ``threads`` and ``progress`` are ignored.
        workers: Worker processes; 0 = one per available core, at most one per batch.
            With 1 the runs execute in this process.
        progress: Called with (runs done, runs in all) as runs finish.

    Returns:
        One indicator table per member, equal to the ``indicators`` that ``ronghe run``
        writes for the same configuration.

    Raises:
        ConfigError: ``workers`` is not a non-negative integer, a member is invalid,
            members use different data folders, or a member asks for goal replicates.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ConfigError(
            f"workers={workers!r}: allowed an integer >= 0 (0 = one per available core)"
        )
    configs = [_as_config(m) for m in members]
    if not configs:
        return []
    _check(configs)
    prepare()
    region = load_region(configs[0].settings.region)
    configs = [c.resolved(region) for c in configs]
    inputs = RunInputs(region, build_world(region))
    keys = [
        population_key(c.settings.seed, c.settings.scale, resolve_params(region, c.params))
        for c in configs
    ]
    for c in configs:
        inputs.scenario(c)  # compose (and check) every scenario before any run
    workers = workers or available_cores()
    batches = _batches(keys, workers)
    workers = min(workers, len(batches))
    tables: list[pd.DataFrame | None] = [None] * len(configs)
    done = 0
    if workers <= 1:
        before = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            for batch in batches:
                for k in batch:
                    tables[k] = run_member(configs[k], inputs)
                    done += 1
                    if progress is not None:
                        progress(done, len(configs))
        finally:
            numba.set_num_threads(before)
        return tables  # type: ignore[return-value]
    # Forked workers share the parent's loaded data without a copy; a process whose
    # OpenMP threads run cannot fork (sim.threads), so its workers start from a server
    # process and receive the data pickled.
    method = "fork" if fork_is_safe() else "forkserver"
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(method),
        initializer=_start_worker,
        initargs=(configs, inputs),
    ) as pool:
        pending = {pool.submit(_run_batch, batch) for batch in batches}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                for k, table in future.result():
                    tables[k] = table
                    done += 1
                if progress is not None:
                    progress(done, len(configs))
    return tables  # type: ignore[return-value]


__all__ = [
    "PERSONS_KEPT_MAX",
    "RunInputs",
    "build_model",
    "compose_scenario",
    "finish",
    "model_arguments",
    "population_key",
    "process_inputs",
    "run_ensemble",
    "run_member",
    "scenario_key",
]
