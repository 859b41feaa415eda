"""Ronghe from Python: one call per run or ensemble, and a Mesa model built by keywords.

>>> import sim
>>> table = sim.run("decision_package", levers={"rural_roads": 0.5}, scale=0.002,
...                 end_year=2027)
>>> sim.targets(table)  # doctest: +SKIP

:func:`run` returns the long indicator table that ``ronghe run`` writes (one row per
scenario, seed, year, unit and indicator; a ``draw`` column for a posterior ensemble) as
a pandas DataFrame, and raises the same one-line :class:`~sim.errors.RongheError` the
command line prints. It writes no files and leaves the working directory and logging as
they were. :class:`RongheModel` is the model for Mesa's own tools: ``mesa.batch_run``
constructs it from keywords, it stops (``running`` false) after ``end_year`` and its
``datacollector`` holds the yearly indicators.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.config import ValidConfig, check_key, validate
from sim.ensemble import model_arguments, process_inputs, run_ensemble
from sim.errors import ConfigError
from sim.indicators import CORE_INDICATORS, TARGET_INDICATORS, indicator_table, target_values
from sim.model import RongheModel as _EngineModel
from sim.params import resolve_params
from sim.runner import posterior_members
from sim.threads import configure as configure_threads

# The yearly indicators a RongheModel's datacollector records for the city: the core
# indicators and lever spending (and, besides, the county area's urbanisation).
REPORTED_INDICATORS = (*CORE_INDICATORS, "lever_spending")


def plain(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into Python numbers and lists.

    What a sweep library hands over (``np.float64(0.5)``, ``np.int64(3)``) is accepted
    wherever the same Python value is.
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def configure(
    scenario: str = "baseline",
    *,
    levers: Mapping[str, Any] | None = None,
    params: Mapping[str, float] | None = None,
    seed: int = 1,
    scale: float = 0.01,
    end_year: int = 2035,
    **settings: Any,
) -> ValidConfig:
    """A validated run configuration from keywords (the keys of ``conf/config.yaml``).

    Raises:
        ConfigError: An unknown key or a value outside its range, in one line.
    """
    mapping = {
        "scenario": scenario,
        "seed": seed,
        "scale": scale,
        "end_year": end_year,
        "progress": "off",
        **settings,
        "params": dict(params or {}),
        "levers": dict(levers or {}),
    }
    return validate(plain(mapping))


def run(
    scenario: str = "baseline",
    *,
    levers: Mapping[str, Any] | None = None,
    params: Mapping[str, float] | None = None,
    seed: int | Sequence[int] = 1,
    scale: float = 0.01,
    end_year: int = 2035,
    ensemble: str = "none",
    draws: int = 0,
    draw_seeds: int = 1,
    workers: int = 0,
    **settings: Any,
) -> pd.DataFrame:
    """Run a scenario, or an ensemble of it, and return the long indicator table.

    Args:
        scenario: A library scenario (``ronghe scenarios``) or one in ``scenarios_dir``.
        levers: Lever values over the scenario's (``{"rural_roads": 0.5}``, or a
            schedule as in a scenario file).
        params: Parameter values over the data's (``{"asc_home": 1.2}``).
        seed: A seed, or several: one run per seed.
        scale: Agents per registered person.
        end_year: Last simulated year.
        ensemble: ``"posterior"`` runs the posterior draws (each with its own seed).
        draws: With ``ensemble="posterior"``: how many draws (0 = all).
        draw_seeds: With ``ensemble="posterior"``: seeds per draw.
        workers: Processes for several runs (0 = one per available core).
        **settings: Any other key of ``conf/config.yaml`` (``county_area``,
            ``region``, ``scenarios_dir``, ``backend``, ``threads``, ...).

    Returns:
        Columns ``scenario, seed, year, unit, indicator, value`` (and ``draw`` for an
        ensemble), as ``ronghe run`` writes them.

    Raises:
        ConfigError: A key, value, scenario, lever or parameter is not allowed.
        DataError: The data folder is invalid.
    """
    seeds = [seed] if isinstance(seed, int | np.integer) else list(seed)
    if not seeds:
        raise ConfigError("seed=[]: allowed a seed or a non-empty list of seeds")
    cfg = configure(
        scenario,
        levers=levers,
        params=params,
        seed=seeds[0],
        scale=scale,
        end_year=end_year,
        ensemble=ensemble,
        draws=draws,
        draw_seeds=draw_seeds,
        **settings,
    )
    if cfg.settings.ensemble == "posterior":
        if len(seeds) > 1:
            raise ConfigError(
                f"seed={plain(seeds)}: allowed one seed with ensemble=posterior (each draw "
                "has its own; draw_seeds=N gives each draw N)"
            )
        region = process_inputs_for(cfg).region
        members = posterior_members(cfg, region)
        tables = run_ensemble(members.members, workers=workers)
        for k, table in zip(members.draw_of, tables, strict=True):
            table["draw"] = np.int64(k)
        return pd.concat(tables, ignore_index=True)
    for s in seeds[1:]:  # the first was checked with the configuration
        check_key("seed", plain(s))
    members = [
        dataclasses.replace(cfg, settings=dataclasses.replace(cfg.settings, seed=plain(s)))
        for s in seeds
    ]
    if len(members) == 1:
        return _run_one(members[0])
    return pd.concat(run_ensemble(members, workers=workers), ignore_index=True)


def process_inputs_for(cfg: ValidConfig):
    """The shared inputs (data, world, populations) of runs on ``cfg``'s data."""
    from sim.data import load_region

    return process_inputs(load_region(cfg.settings.region), cfg.settings.region)


def _run_one(cfg: ValidConfig) -> pd.DataFrame:
    """One run in this process, on the threads its ``threads`` setting asks for."""
    from sim.runner import simulate

    inputs = process_inputs_for(cfg)
    cfg = cfg.resolved(inputs.region)
    model, _, _, _ = simulate(cfg, inputs.region, inputs=inputs)
    return _table(model, cfg)


def _table(model, cfg: ValidConfig) -> pd.DataFrame:
    """The long indicator table of ``model``'s closed years, labelled by ``cfg``."""
    s = cfg.settings
    return indicator_table(
        model.tallies,
        weight=model.weight,
        steps_per_year=s.steps_per_year,
        county_area=s.county_area,
        scenario=s.scenario,
        seed=s.seed,
    )


def targets(table: pd.DataFrame, year: int = 2027) -> pd.DataFrame:
    """The three target indicators in ``year``: one row per run, one column per target.

    Columns are ``unit.indicator``; rows are indexed by what tells runs apart (scenario,
    seed and, in an ensemble, draw).
    """
    keys = [c for c in ("scenario", "draw", "seed") if c in table.columns]
    rows = []
    for run_keys, part in table.groupby(keys, sort=False):
        values = target_values(part, year)
        row = dict(zip(keys, run_keys if isinstance(run_keys, tuple) else (run_keys,), strict=True))
        row.update(
            {
                f"{unit}.{indicator}": values[(unit, indicator)]
                for unit, indicator in TARGET_INDICATORS
            }
        )
        rows.append(row)
    return pd.DataFrame(rows).set_index(keys)


class RongheModel(_EngineModel):
    """The model built from keywords, for Mesa's tools (``mesa.batch_run``).

    ``RongheModel(scenario="decision_package", seed=3, scale=0.002, end_year=2027)``
    builds the data, the world and the synthetic population and stops before the first
    step. Each step is a quarter; ``running`` turns false after the last step of
    ``end_year`` and stepping further raises. ``datacollector`` records the city's
    indicators (:data:`REPORTED_INDICATORS`) and the county area's urbanisation at the
    base year and at the end of every year (its ``model_vars`` also carry ``year``).

    Mesa's ``batch_run`` passes its ``rng`` (an int or None) when no ``seed`` is given:
    ``batch_run(RongheModel, {"seed": [1, 2]}, ...)`` and ``batch_run(RongheModel, {},
    rng=[1, 2])`` run the same two seeds.

    Raises:
        ConfigError: A key or value is not allowed (``ensemble`` is not: a model is
            one run; use :func:`run` for ensembles).
    """

    def __init__(
        self,
        scenario: str = "baseline",
        *,
        rng: int | None = None,
        levers: Mapping[str, Any] | None = None,
        params: Mapping[str, float] | None = None,
        **settings: Any,
    ):
        if "seed" not in settings or settings["seed"] is None:
            settings["seed"] = 1 if rng is None else rng
        for key in ("ensemble", "draws", "draw_seeds", "goal"):
            if key in settings:
                raise ConfigError(
                    f"{key}: not a setting of one model; allowed through sim.run(...) only"
                )
        cfg = configure(scenario, levers=levers, params=params, **settings)
        inputs = process_inputs_for(cfg)
        cfg = cfg.resolved(inputs.region)
        resolved = resolve_params(inputs.region, cfg.params)
        configure_threads(cfg.settings.threads)
        super().__init__(**model_arguments(cfg, inputs, params=resolved))
        self.config = cfg
        self._latest: tuple[int, dict] = (-1, {})
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "year": lambda m: m.tallies[-1].year,
                **{name: _reporter("city", name) for name in REPORTED_INDICATORS},
                "county_area_urbanisation": _reporter("county_area", "resident_urbanisation_rate"),
            }
        )
        self.datacollector.collect(self)

    def step(self) -> None:
        """One quarter (see the engine's ``step``); collects at each year's end."""
        super().step()
        if self.t % self.spy == 0:
            self.datacollector.collect(self)

    def indicators(self) -> pd.DataFrame:
        """The long indicator table of the years closed so far (as :func:`run` returns)."""
        return _table(self, self.config)

    def latest(self, unit: str, indicator: str) -> float:
        """``indicator`` of ``unit`` in the latest closed year (NaN if undefined)."""
        if self._latest[0] != self.t:
            table = self.indicators()
            table = table[table.year == table.year.max()]
            keys = zip(table.unit, table.indicator, strict=True)
            self._latest = (self.t, dict(zip(keys, table.value, strict=True)))
        return float(self._latest[1].get((unit, indicator), float("nan")))


def _reporter(unit: str, indicator: str):
    """A datacollector reporter: ``indicator`` of ``unit`` in the latest closed year."""
    return lambda model: model.latest(unit, indicator)


__all__ = ["REPORTED_INDICATORS", "RongheModel", "configure", "plain", "run", "targets"]
