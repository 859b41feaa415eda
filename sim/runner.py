"""Run one simulation from a validated configuration and write its results."""

from __future__ import annotations

import dataclasses
import logging
import platform
import resource
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path

import mesa
import numba
import numpy as np
import pandas as pd

from sim import __version__
from sim.config import ValidConfig, run_targets
from sim.data import load_region
from sim.ensemble import (
    RunInputs,
    build_model,
    compose_scenario,
    process_inputs,
    scenario_key,
)
from sim.goals import GOAL_FILE, assess
from sim.indicators import TARGET_INDICATORS, indicator_table, target_values
from sim.params import resolve_params
from sim.paths import PACKAGE_DIR
from sim.population import fit_report
from sim.results import git_commit, write_run
from sim.runfolder import RunKey
from sim.scenario import Scenario
from sim.sweeps import replicate_seeds
from sim.threads import configure as configure_threads
from sim.world import build_world

log = logging.getLogger("ronghe")


def _progress_bar(total: int, mode: str, desc: str):
    if mode == "off":
        return nullcontext(None)
    from tqdm import tqdm

    disable = None if mode == "auto" else False  # None: quiet unless stderr is a terminal
    return tqdm(total=total, desc=desc, unit="step", disable=disable, file=sys.stderr, leave=False)


def load_run_scenario(cfg: ValidConfig) -> Scenario:
    """The scenario of a run, composed with the run's lever overrides."""
    return compose_scenario(cfg)


def simulate(
    cfg: ValidConfig,
    region=None,
    scenario: Scenario | None = None,
    *,
    inputs: RunInputs | None = None,
):
    """Build and run the model; return ``(model, population fit, region, scenario)``.

    Args:
        cfg: The run's configuration.
        region: Its loaded data (loaded here if None).
        scenario: Its composed scenario (composed here if None).
        inputs: Shared inputs (:func:`sim.ensemble.process_inputs`) whose kept
            populations the run may start from; None synthesizes afresh.
    """
    s = cfg.settings
    region = region or load_region(s.data_dir)
    params = resolve_params(region, cfg.params)
    if inputs is None:
        inputs = RunInputs(region, build_world(region))
    if scenario is not None:
        inputs.scenarios[scenario_key(cfg)] = scenario
    scenario = inputs.scenario(cfg)
    population = inputs.population(s.seed, s.scale, params)
    configure_threads(s.threads, agents=population.persons.n)
    fit = fit_report(population, inputs.world, region)
    model = build_model(cfg, inputs, params=params, population=population)
    with _progress_bar(model.n_steps, s.progress, f"{s.scenario} seed={s.seed}") as bar:
        model.run(progress=bar.update if bar is not None else None)
    return model, fit, region, scenario


def run_to_directory(
    cfg: ValidConfig,
    resolved: dict,
    run_dir: Path,
    *,
    region,
    scenario: Scenario,
    key: RunKey,
    overrides: list[str],
):
    """Run the simulation and write indicators, config and provenance into ``run_dir``.

    Args:
        cfg: The validated configuration.
        resolved: The resolved configuration, written as ``config.yaml``.
        run_dir: The run folder, held by the caller (:func:`sim.runfolder.claim`).
        region: The loaded data.
        scenario: The composed scenario.
        key: What resuming compares, recorded in the provenance.
        overrides: The run's command-line overrides, recorded in the provenance.

    Returns:
        ``(indicators, goal)``: the indicator table (all replicate seeds of a goal run)
        and the :class:`~sim.goals.GoalResult` of a goal run, else None.
    """
    s = cfg.settings
    started = time.time()
    threads = configure_threads(s.threads)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    # A goal run evaluates one package on several replicate seeds; a plain run on one.
    seeds = replicate_seeds(s.seed, s.goal.replicates) if s.goal.replicates else [s.seed]
    tables = []
    for seed in seeds:
        run_cfg = dataclasses.replace(cfg, settings=dataclasses.replace(s, seed=seed))
        model_k, fit_k, region, scenario = simulate(
            run_cfg, region, scenario, inputs=process_inputs(region, s.data_dir)
        )
        if seed == s.seed:
            model, fit = model_k, fit_k
        threads = numba.get_num_threads()
        tables.append(
            indicator_table(
                model_k.tallies,
                weight=model_k.weight,
                steps_per_year=s.steps_per_year,
                county_area=s.county_area,
                scenario=s.scenario,
                seed=seed,
            )
        )
    table = pd.concat(tables, ignore_index=True)
    extra = {}
    goal = None
    if s.goal.replicates:
        goal = assess(tables, region, scenario, s.goal, run_targets(region, s.targets_2035))
        extra[GOAL_FILE] = goal.to_json()
    wall = time.time() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    provenance = {
        "package": "ronghe",
        "version": __version__,
        "git_commit": git_commit(PACKAGE_DIR),
        **key.as_provenance(),
        "overrides": list(overrides),
        "scenario": s.scenario,
        "scenario_title_zh": scenario.title_zh,
        "scenario_title_en": scenario.title_en,
        "scenario_description": scenario.description,
        "scenario_files": list(scenario.chain),
        "levers": scenario.levers,
        "seed": s.seed,
        "backend": s.backend,
        "scale": s.scale,
        "agents_initial": int(
            model.tallies[0].residents.sum() + model.tallies[0].outside_by_dest.sum()
        ),
        "agent_weight": model.weight,
        "steps_per_year": s.steps_per_year,
        "start_year": s.start_year,
        "end_year": s.end_year,
        "numba_threads": threads,
        "wall_time_s": round(wall, 3),
        "peak_memory_mb": round(peak_mb, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "mesa": mesa.__version__,
        "host": platform.node(),
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": asdict(s),
    }
    if goal is not None:
        provenance["replicate_seeds"] = seeds
    write_run(
        run_dir,
        indicators=table,
        config=resolved,
        provenance=provenance,
        population_fit=fit,
        extra_files=extra,
    )
    return table, goal


def target_summary(table: pd.DataFrame, region, year: int = 2027) -> str:
    """Lines comparing the target indicators in ``year`` with the decision's targets."""
    values = target_values(table, year)
    targets = {(t.unit, t.indicator): t for t in region.targets if t.year == year}
    labels = {
        ("city", "resident_urbanisation_rate"): "resident urbanisation 常住人口城镇化率",
        ("county_area", "resident_urbanisation_rate"): "county-area urbanisation 县域城镇化率",
        ("city", "income_ratio"): "urban-rural income ratio 城乡居民收入比",
    }
    lines = [f"{year} target indicators (model vs decision):"]
    for key in TARGET_INDICATORS:
        value, target = values[key], targets.get(key)
        if key[1] == "income_ratio":
            shown = f"{value:.3f}"
            goal = f"{'≤' if target.direction == 'at_most' else '≥'} {target.value:.2f}"
        else:
            shown = f"{value:.2%}"
            goal = f"≥ {target.value:.1%}"
        met = (value <= target.value) if target.direction == "at_most" else (value >= target.value)
        lines.append(
            f"  {labels[key]:<42} {shown:>8}   target {goal:<8} {'met' if met else 'not met'}"
        )
    return "\n".join(lines)
