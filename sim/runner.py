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
    process_inputs,
    run_ensemble,
    scenario_key,
)
from sim.errors import ConfigError
from sim.goals import GOAL_FILE, assess
from sim.indicators import TARGET_INDICATORS, indicator_table, target_values
from sim.params import resolve_params
from sim.paths import PACKAGE_DIR
from sim.population import fit_report
from sim.results import DRAWS_FILE, git_commit, write_run
from sim.runfolder import RunKey
from sim.scenario import Scenario
from sim.sweeps import replicate_seeds
from sim.threads import configure as configure_threads
from sim.uncertainty import decomposition_table
from sim.world import build_world

log = logging.getLogger("ronghe")


def _progress_bar(total: int, mode: str, desc: str):
    if mode == "off":
        return nullcontext(None)
    from tqdm import tqdm

    disable = None if mode == "auto" else False  # None: quiet unless stderr is a terminal
    return tqdm(total=total, desc=desc, unit="step", disable=disable, file=sys.stderr, leave=False)


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
    region = region or load_region(s.region)
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


@dataclasses.dataclass(frozen=True)
class PosteriorEnsemble:
    """The runs of ``ensemble=posterior``: ``draw_seeds`` per draw, and their posterior.

    ``draw_of[i]`` is the draw member ``i`` runs; ``inputs`` has one row per member
    (``draw``, ``seed`` and the parameter values it ran with).
    """

    members: list[ValidConfig]
    draw_of: list[int]
    inputs: pd.DataFrame
    posterior: object
    digest: str
    stale: list[str]


def posterior_members(cfg: ValidConfig, region) -> PosteriorEnsemble:
    """``draw_seeds`` configurations per posterior draw (``draws`` of them; 0 = all).

    Draw ``k`` runs with its calibrated parameter values, over which the run's own
    ``params`` take precedence. Its ``j``-th seed is replicate seed ``k + j * draws`` of
    the run's ``seed`` (so a draw's first seed does not depend on ``draw_seeds``): the
    same draws and seeds in every scenario of a sweep, so differences between scenarios
    are paired. What changed since the posterior was fitted is logged as a warning and
    kept in the provenance.

    Raises:
        ConfigError: No posterior, or more draws asked for than it holds.
    """
    from sim.posterior import POSTERIOR_NAME, load_posterior, posterior_digest, stale_reasons

    s = cfg.settings
    posterior_file = region.data_dir / POSTERIOR_NAME
    posterior = load_posterior(posterior_file)
    available = len(posterior.draws)
    n = s.draws or available
    if n > available:
        raise ConfigError(f"draws={n}: allowed at most {available}, the posterior's draws")
    stale = stale_reasons(posterior, region)
    for reason in stale:
        log.warning("posterior: %s; refit: python experiments/calibration/history_match.py", reason)
    seeds = replicate_seeds(s.seed, n * s.draw_seeds)
    members, draw_of, inputs = [], [], []
    for j in range(s.draw_seeds):
        for k in range(n):
            seed = seeds[k + j * n]
            settings = dataclasses.replace(s, seed=seed, ensemble="none", draws=0, draw_seeds=1)
            params = {**posterior.params_of(k), **cfg.params}
            members.append(dataclasses.replace(cfg, settings=settings, params=params))
            draw_of.append(k)
            inputs.append({"draw": k, "seed": seed, **params})
    return PosteriorEnsemble(
        members, draw_of, pd.DataFrame(inputs), posterior, posterior_digest(posterior_file), stale
    )


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
    cfg = cfg.resolved(region)
    s = cfg.settings
    started = time.time()
    threads = configure_threads(s.threads)
    logging.getLogger("MESA").setLevel(logging.WARNING)
    log.info(
        "run: scenario %s (files %s), seed %d, scale %g, %s backend, %d-%d, %d steps a year",
        s.scenario,
        " -> ".join(scenario.chain),
        s.seed,
        s.scale,
        s.backend,
        s.start_year,
        s.end_year,
        s.steps_per_year,
    )
    log.info("overrides: %s", " ".join(overrides) or "(none)")
    log.info("levers changed from 2023: %s", ", ".join(scenario.plan.changed()) or "none")
    log.info("region: %s (data hash %s)", s.region, region.data_hash[:12])
    ensemble = posterior_members(cfg, region) if s.ensemble == "posterior" else None
    # A goal run evaluates one package on several replicate seeds; a plain run on one;
    # an ensemble run its first draw here and the others on the ensemble's workers.
    if ensemble is not None:
        runs = ensemble.members[:1]
    elif s.goal.replicates:
        runs = [
            dataclasses.replace(cfg, settings=dataclasses.replace(s, seed=seed))
            for seed in replicate_seeds(s.seed, s.goal.replicates)
        ]
    else:
        runs = [cfg]
    tables = []
    for run_cfg in runs:
        tic = time.time()
        model_k, fit_k, region, scenario = simulate(
            run_cfg, region, scenario, inputs=process_inputs(region, s.region)
        )
        log.info(
            "seed %d: %d agents (%.1f persons each) on %d numba threads, run in %.1f s",
            run_cfg.settings.seed,
            model_k.tallies[0].residents.sum() + model_k.tallies[0].outside_by_dest.sum(),
            model_k.weight,
            numba.get_num_threads(),
            time.time() - tic,
        )
        if run_cfg is runs[0]:
            model, fit = model_k, fit_k
        threads = numba.get_num_threads()
        tables.append(
            indicator_table(
                model_k.tallies,
                weight=model_k.weight,
                steps_per_year=s.steps_per_year,
                county_area=s.county_area,
                scenario=s.scenario,
                seed=run_cfg.settings.seed,
            )
        )
    seeds = [r.settings.seed for r in runs]
    if ensemble is not None:
        tic = time.time()
        log.info(
            "ensemble: %d posterior draws x %d seeds (posterior of commit %s)",
            len(set(ensemble.draw_of)),
            s.draw_seeds,
            ensemble.posterior.meta.get("commit", "?")[:12],
        )
        tables += run_ensemble(ensemble.members[1:])
        log.info("ensemble: %d more runs in %.1f s", len(ensemble.members) - 1, time.time() - tic)
        for k, table_k in zip(ensemble.draw_of, tables, strict=True):
            table_k["draw"] = np.int64(k)
        seeds = [m.settings.seed for m in ensemble.members]
    table = pd.concat(tables, ignore_index=True)
    extra = {}
    goal = None
    if ensemble is not None:
        # repr-exact floats: the file gives back the very values each member ran with.
        extra[DRAWS_FILE] = ensemble.inputs.to_csv(index=False, float_format=None)
    if s.goal.replicates:
        goal = assess(tables, region, scenario, s.goal, run_targets(region, s.targets_2035))
        extra[GOAL_FILE] = goal.to_json()
    wall = time.time() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    provenance = provenance_record(
        s,
        scenario,
        key,
        overrides,
        agent_weight=model.weight,
        wall_time_s=wall,
        agents_initial=int(
            model.tallies[0].residents.sum() + model.tallies[0].outside_by_dest.sum()
        ),
        numba_threads=threads,
        peak_memory_mb=round(peak_mb, 1),
    )
    if goal is not None:
        provenance["replicate_seeds"] = seeds
    if ensemble is not None:
        provenance["ensemble"] = {
            "kind": "posterior",
            "draws": len(set(ensemble.draw_of)),
            "draw_seeds": s.draw_seeds,
            "seeds": seeds,
            "posterior": ensemble.posterior.meta,
            "posterior_sha256": ensemble.digest,
            "stale": ensemble.stale,
        }
    write_run(
        run_dir,
        indicators=table,
        config=resolved,
        provenance=provenance,
        population_fit=fit,
        extra_files=extra,
    )
    for line in _yearly_lines(table):
        log.info("%s", line)
    log.info(
        "finished in %.1f s (peak memory %.0f MB); results written to %s",
        wall,
        peak_mb,
        run_dir,
    )
    return table, goal


def provenance_record(
    s,
    composed: Scenario,
    key: RunKey,
    overrides,
    *,
    agent_weight: float,
    wall_time_s: float,
    finished_utc: str | None = None,
    **extra,
) -> dict:
    """A run's ``provenance.json``: what it ran, on which code and data, and how long.

    ``composed`` is the run's composed scenario; ``extra`` entries (agents, threads,
    memory, who wrote it) are added last and win over the others.
    """
    return {
        "package": "ronghe",
        "version": __version__,
        "git_commit": git_commit(PACKAGE_DIR),
        **key.as_provenance(),
        "overrides": list(overrides),
        "scenario": s.scenario,
        "scenario_title_zh": composed.title_zh,
        "scenario_title_en": composed.title_en,
        "scenario_description": composed.description,
        "scenario_description_zh": composed.description_zh,
        "scenario_files": list(composed.chain),
        "levers": composed.levers,
        "seed": s.seed,
        "backend": s.backend,
        "scale": s.scale,
        "agent_weight": agent_weight,
        "steps_per_year": s.steps_per_year,
        "start_year": s.start_year,
        "end_year": s.end_year,
        "wall_time_s": round(wall_time_s, 3),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "mesa": mesa.__version__,
        "host": platform.node(),
        "finished_utc": finished_utc or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": asdict(s),
        **extra,
    }


def _yearly_lines(table: pd.DataFrame) -> list[str]:
    """One line a year with the city's headline indicators (medians over runs)."""
    wanted = {
        "resident_population": ("residents", lambda v: f"{v / 1e6:.3f} M"),
        "resident_urbanisation_rate": ("urbanisation", lambda v: f"{v:.2%}"),
        "income_ratio": ("income ratio", lambda v: f"{v:.3f}"),
        "lever_spending": ("lever spending", lambda v: f"{v / 1e8:.2f} 亿元"),
    }
    city = table[(table.unit == "city") & table.indicator.isin(list(wanted))]
    medians = city.groupby(["year", "indicator"])["value"].median()
    lines = []
    for year in sorted(city.year.unique()):
        parts = [
            f"{label} {show(medians[(year, name)])}"
            for name, (label, show) in wanted.items()
            if (year, name) in medians.index and np.isfinite(medians[(year, name)])
        ]
        lines.append(f"{year}: " + ", ".join(parts))
    return lines


TARGET_LABELS = {
    ("city", "resident_urbanisation_rate"): "resident urbanisation 常住人口城镇化率",
    ("county_area", "resident_urbanisation_rate"): "county-area urbanisation 县域城镇化率",
    ("city", "income_ratio"): "urban-rural income ratio 城乡居民收入比",
}


def _value_text(key: tuple[str, str]):
    """How a target indicator's value is shown: a ratio to 3 decimals, a rate in %."""
    return (lambda v: f"{v:.3f}") if key[1] == "income_ratio" else (lambda v: f"{v:.2%}")


def _goal_text(target) -> str:
    """A target as ``≤ 1.94`` or ``≥ 63.0%``."""
    if target.indicator == "income_ratio":
        return f"{'≤' if target.direction == 'at_most' else '≥'} {target.value:.2f}"
    return f"≥ {target.value:.1%}"


def _target_summary_over_runs(table: pd.DataFrame, region, year: int, scale) -> str:
    """The targets' median, 90% interval and chance of being met over the table's runs."""
    runs = table["seed"].nunique()
    what = f"{runs} seeds"
    if "draw" in table.columns:
        draws = table["draw"].nunique()
        what = f"{draws} posterior draws"
        if runs > draws:
            what += f" x {runs // draws} seeds"
    targets = {(t.unit, t.indicator): t for t in region.targets if t.year == year}
    now = table[table["year"] == year]
    at = f" at scale {scale:g}" if scale is not None else ""
    lines = [f"{year} target indicators over {what}{at} (median, 90% interval):"]
    for key in TARGET_INDICATORS:
        values = now[(now.unit == key[0]) & (now.indicator == key[1])].groupby("seed")["value"]
        values = values.first()
        target = targets[key]
        low, mid, high = np.quantile(values, [0.05, 0.5, 0.95])
        show = _value_text(key)
        shown = f"{show(mid)} ({show(low)}-{show(high)})"
        chance = float(target.met(values).mean())
        lines.append(
            f"  {TARGET_LABELS[key]:<42} {shown:>24}   target {_goal_text(target):<8} "
            f"P(met in {year}) = {chance:.2f} over {what}"
        )
    return "\n".join(lines)


UNRELIABLE_FIT = 0.5  # below it, the split between parameters and base data is noise


def _variance_lines(table: pd.DataFrame, inputs: pd.DataFrame, region, year: int) -> list[str]:
    """Where each target's variance in ``year`` comes from (an ensemble's inputs given)."""
    roles = {name: spec.role for name, spec in region.priors.items()}
    shares = decomposition_table(
        table.assign(run_id="."), {".": inputs}, roles, list(TARGET_INDICATORS), year
    )
    if shares.empty or shares.parameters.isna().all():
        return []

    def share(value) -> str:
        return "  - " if value is None or value != value else f"{value:4.0%}"

    lines = [f"Where the {year} variance comes from (parameters / base data / seeds):"]
    for r in shares.itertuples():
        fit = f"linear fit R² {r.explained:.2f}"
        if r.explained < UNRELIABLE_FIT:
            fit += ": too few draws to split parameters from base data"
        seeds = share(r.seeds) if r.seeds_per_draw > 1 else "not separated (draw_seeds=1)"
        lines.append(
            f"  {TARGET_LABELS[(r.unit, r.indicator)]:<42} {share(r.parameters)} / "
            f"{share(r.base_data)} / {seeds}   ({fit})"
        )
    return lines


def target_summary(
    table: pd.DataFrame,
    region,
    year: int = 2027,
    scale=None,
    inputs: pd.DataFrame | None = None,
) -> str:
    """Lines comparing the target indicators in ``year`` with the decision's targets.

    Over several runs: medians, intervals and chances; with an ensemble's ``inputs``
    (``draws.csv``), also where the variance comes from (:mod:`sim.uncertainty`).
    """
    if table["seed"].nunique() > 1:
        text = _target_summary_over_runs(table, region, year, scale)
        if inputs is not None and "draw" in table.columns:
            text = "\n".join([text, *_variance_lines(table, inputs, region, year)])
        return text
    values = target_values(table, year)
    targets = {(t.unit, t.indicator): t for t in region.targets if t.year == year}
    labels = TARGET_LABELS
    lines = [f"{year} target indicators (model vs decision):"]
    for key in TARGET_INDICATORS:
        value, target = values[key], targets.get(key)
        shown = _value_text(key)(value)
        goal = _goal_text(target)
        met = (value <= target.value) if target.direction == "at_most" else (value >= target.value)
        lines.append(
            f"  {labels[key]:<42} {shown:>8}   target {goal:<8} {'met' if met else 'not met'}"
        )
    return "\n".join(lines)
