"""EMA Workbench models over Ronghe: levers, posterior draws and the 2027 targets.

>>> from ema_workbench import perform_experiments
>>> from sim.ema import ronghe_model
>>> model = ronghe_model(scale=0.01)  # the twelve levers of goal seeking, to 2027
>>> experiments, outcomes = perform_experiments(model, scenarios=8, policies=50)  # doctest: +SKIP

:func:`ronghe_model` returns an ``ema_workbench.Model`` whose levers are Ronghe's
policy levers (``RealParameter`` over a range within the lever catalogue's), whose
uncertainty is the posterior draw (``IntegerParameter("draw", 0, N - 1)``: draw ``k``
runs with its calibrated parameters and its own seed from ``sim/regions/suining/posterior.parquet``)
and whose outcomes are the three target indicators in the target year, whether each
target is met and all three are, and the city's lever spending that year
(:data:`OUTCOMES`). Each experiment is one :func:`sim.run`; EMA's evaluators, samplers,
PRIM and optimisers work on it as on any EMA model. The EMA Workbench is an optional
extra (``pip install "ronghe[ema]"``); nothing in the engine imports this module.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pandas as pd

from sim.errors import ConfigError, shown

try:
    import ema_workbench as ema
except ImportError as error:
    raise ConfigError(
        f'sim.ema needs the EMA Workbench ({error}): pip install "ronghe[ema]"'
    ) from None

from sim.api import configure, run
from sim.config import run_targets
from sim.data import Target, load_region
from sim.indicators import TARGET_INDICATORS
from sim.levers import LEVERS, region_defaults
from sim.paths import project_dir

TARGET_OUTCOMES = tuple(f"{unit}_{indicator}" for unit, indicator in TARGET_INDICATORS)
MET_OUTCOMES = tuple(f"{name}_met" for name in TARGET_OUTCOMES)
OUTCOMES = (*TARGET_OUTCOMES, *MET_OUTCOMES, "all_met", "lever_spending")
# What a better value of each outcome is, for EMA's optimisers (INFO: no direction).
_KINDS = {
    "city_resident_urbanisation_rate": ema.ScalarOutcome.MAXIMIZE,
    "county_area_resident_urbanisation_rate": ema.ScalarOutcome.MAXIMIZE,
    "city_income_ratio": ema.ScalarOutcome.MINIMIZE,
    "lever_spending": ema.ScalarOutcome.MINIMIZE,
}
GOAL_SEEK_FILE = ("experiment", "goal_seek.yaml")
_INTERVAL = re.compile(r"^interval\(\s*([^,\s]+)\s*,\s*([^)\s]+)\s*\)$")


def goal_seek_levers() -> dict[str, tuple[float, float]]:
    """The levers goal seeking searches and their intervals (``conf/experiment/goal_seek.yaml``).

    Each runs from the lever's 2023 value to the end of its range in the reform
    direction (``homestead_revitalisation`` to 0.5 of its 1.0).
    """
    import yaml

    path = project_dir("conf").joinpath(*GOAL_SEEK_FILE)
    searched = yaml.safe_load(path.read_text(encoding="utf-8"))["hydra"]["sweeper"]["params"]
    ranges = {}
    for key, value in searched.items():
        match = _INTERVAL.match(str(value))
        if key.startswith("levers.") and match:
            ranges[key.removeprefix("levers.")] = (float(match[1]), float(match[2]))
    return ranges


def reform_range(lever_id: str) -> tuple[float, float]:
    """From the lever's 2023 value to the end of its range in its reform direction."""
    lever = _lever(lever_id)
    default = region_defaults().value(lever_id)
    if lever.reform_direction > 0:
        return (default, lever.high)
    return (lever.low, default)


def lever_ranges(
    levers: Iterable[str] | Mapping[str, tuple[float, float]] | None = None,
) -> dict[str, tuple[float, float]]:
    """Checked ranges of the levers an EMA model searches.

    Args:
        levers: Lever ids (each over its :func:`reform_range`), a mapping of lever ids
            to ``(low, high)`` within the catalogue's range, or None for
            :func:`goal_seek_levers`.

    Raises:
        ConfigError: An unknown lever, or a range that is empty or leaves the catalogue's.
    """
    if levers is None:
        ranges = goal_seek_levers()
    elif isinstance(levers, Mapping):
        ranges = {str(k): _pair(k, v) for k, v in levers.items()}
    elif isinstance(levers, str):
        raise ConfigError(f"levers={shown(levers)}: allowed a list of lever ids or a mapping")
    else:
        ranges = {str(k): reform_range(str(k)) for k in levers}
    if not ranges:
        raise ConfigError("levers: allowed at least one lever")
    for lever_id, (low, high) in ranges.items():
        lever = _lever(lever_id)
        if not lever.low <= low < high <= lever.high:
            raise ConfigError(
                f"levers.{lever_id}=({low:g}, {high:g}): allowed low < high within "
                f"[{lever.low:g}, {lever.high:g}]"
            )
    return ranges


def _pair(lever_id: str, bounds: Any) -> tuple[float, float]:
    try:
        low, high = bounds
        return (float(low), float(high))
    except (TypeError, ValueError):
        raise ConfigError(
            f"levers.{shown(lever_id)}={shown(bounds)}: allowed a pair (low, high)"
        ) from None


def _lever(lever_id: str):
    try:
        return LEVERS[lever_id]
    except KeyError:
        raise ConfigError(
            f"levers.{shown(lever_id)}: unknown lever; allowed one of `ronghe levers`"
        ) from None


@cache
def _posterior():
    from sim.posterior import load_posterior

    return load_posterior()


def year_targets(year: int = 2027, **settings: Any) -> tuple[Target, ...]:
    """The targets of the three target indicators in ``year``, as runs on ``settings`` see them.

    From the data's ``targets.csv``, with the ``targets_2035`` setting for 2035.

    Raises:
        ConfigError: A setting is not allowed, or the data has no such target in ``year``.
    """
    cfg = configure(**settings)
    targets = {
        (t.unit, t.indicator): t
        for t in run_targets(load_region(cfg.settings.region), cfg.settings.targets_2035)
        if t.year == year
    }
    missing = [f"{u}.{i}" for u, i in TARGET_INDICATORS if (u, i) not in targets]
    if missing:
        raise ConfigError(f"year={year}: no target for {', '.join(missing)} in targets.csv")
    return tuple(targets[key] for key in TARGET_INDICATORS)


def target_outcomes(table: pd.DataFrame, targets: tuple[Target, ...]) -> dict[str, Any]:
    """The outcomes (:data:`OUTCOMES`) of one run's indicator table.

    The three target indicators in the targets' year, whether each meets its target
    (a missing value meets none), whether all do, and the city's ``lever_spending`` that
    year (yuan).

    Args:
        table: One run's long indicator table (as :func:`sim.run` returns it).
        targets: The three targets, in the order of ``TARGET_INDICATORS``
            (:func:`year_targets`).
    """
    year = targets[0].year
    now = table[table["year"] == year].set_index(["unit", "indicator"])["value"]
    values: dict[str, Any] = {}
    met = []
    for target, name in zip(targets, TARGET_OUTCOMES, strict=True):
        value = float(now.get((target.unit, target.indicator), math.nan))
        values[name] = value
        met.append(bool(not math.isnan(value) and target.met(value)))
    values.update(zip(MET_OUTCOMES, met, strict=True))
    values["all_met"] = all(met)
    values["lever_spending"] = float(now.get(("city", "lever_spending"), math.nan))
    return values


@dataclass(frozen=True, eq=False)
class RongheExperiment:
    """The function an EMA model calls: one :func:`sim.run` and its outcomes.

    Keyword inputs are sorted by name: lever ids go to ``levers``, ``draw`` selects a
    posterior draw (its parameters and its own seed), ``seed`` sets the seed (over the
    draw's), and any other name is a parameter (over the draw's value). numpy scalars,
    as EMA hands them over, are accepted. Picklable, so any EMA evaluator can ship it.
    """

    targets: tuple[Target, ...]
    scenario: str = "baseline"
    scale: float = 0.01
    end_year: int = 2027
    seed: int = 1
    settings: Mapping[str, Any] = field(default_factory=dict)

    def member(self, **inputs: Any) -> dict[str, Any]:
        """The run these inputs ask for: keywords of :func:`sim.run` and ``scenario``.

        Also a member of :func:`sim.run_ensemble`, which runs it to the same table.

        Raises:
            ConfigError: ``draw`` is not a draw of the posterior.
        """
        levers = {k: v for k, v in inputs.items() if k in LEVERS}
        params = {k: v for k, v in inputs.items() if k not in LEVERS}
        draw = params.pop("draw", None)
        seed = params.pop("seed", None)
        if draw is not None:
            posterior = _posterior()
            k = int(draw)
            if not 0 <= k < len(posterior.draws):
                raise ConfigError(
                    f"draw={k}: allowed 0 to {len(posterior.draws) - 1}, the posterior's draws"
                )
            params = {**posterior.params_of(k), **params}
            if seed is None:
                seed = int(posterior.draws.seed.iloc[k])
        return {
            "scenario": self.scenario,
            "levers": levers,
            "params": params,
            "seed": self.seed if seed is None else seed,
            "scale": self.scale,
            "end_year": self.end_year,
            **self.settings,
        }

    def __call__(self, **inputs: Any) -> dict[str, Any]:
        """Run Ronghe on ``inputs`` and return its outcomes (:data:`OUTCOMES`)."""
        keywords = self.member(**inputs)
        return target_outcomes(run(keywords.pop("scenario"), **keywords), self.targets)


def ronghe_model(
    name: str = "ronghe",
    *,
    levers: Iterable[str] | Mapping[str, tuple[float, float]] | None = None,
    scenario: str = "baseline",
    scale: float = 0.01,
    end_year: int = 2027,
    year: int = 2027,
    draws: bool | int = True,
    seed: int = 1,
    **settings: Any,
) -> ema.Model:
    """An EMA Workbench model of Ronghe: levers, posterior draws, the targets in ``year``.

    Args:
        name: The model's name (a Python identifier, as EMA requires).
        levers: The model's levers: lever ids (each from its 2023 value to the end of
            its range in the reform direction), a mapping of ids to ``(low, high)``, or
            None for the twelve levers and intervals of goal seeking. A lever holds its
            value from 2024 over the scenario's schedule; levers not named keep the
            scenario's.
        scenario: The scenario the levers are set on.
        scale: Agents per registered person.
        end_year: Last simulated year (``year`` or later).
        year: The targets' year: 2027, or 2035 (the ``targets_2035`` thresholds).
        draws: True: the uncertainty ``draw`` runs over every posterior draw; N: over
            the first N; False: no draw (the data's parameter values, and ``seed``).
        seed: The seed of every run when ``draws`` is False.
        **settings: Other keys of ``conf/config.yaml`` for every run (``county_area``,
            ``region``, ``scenarios_dir``, ``targets_2035``, ``backend``, ...).

    Raises:
        ConfigError: A lever, range or setting is not allowed, ``year`` has no targets
            or lies after ``end_year``, or there is no posterior.
    """
    for key in ("ensemble", "draw_seeds", "goal"):
        if key in settings:
            raise ConfigError(f"{key}: not a setting of an EMA model; its uncertainty is `draws`")
    ranges = lever_ranges(levers)
    targets = year_targets(
        year, scenario=scenario, seed=seed, scale=scale, end_year=end_year, **settings
    )
    if year > end_year:
        raise ConfigError(f"year={year}: allowed up to end_year={end_year}")
    function = RongheExperiment(targets, scenario, scale, end_year, seed, dict(settings))
    model = ema.Model(name, function=function)
    model.levers = [ema.RealParameter(k, low, high) for k, (low, high) in ranges.items()]
    if draws is not False:
        available = len(_posterior().draws)
        n = available if draws is True else draws
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= available:
            raise ConfigError(f"draws={shown(draws)}: allowed True, False or 1 to {available}")
        model.uncertainties = [ema.IntegerParameter("draw", 0, n - 1)]
    model.outcomes = [
        ema.ScalarOutcome(outcome, kind=_KINDS.get(outcome, ema.ScalarOutcome.INFO))
        for outcome in OUTCOMES
    ]
    return model


__all__ = [
    "GOAL_SEEK_FILE",
    "MET_OUTCOMES",
    "OUTCOMES",
    "TARGET_OUTCOMES",
    "RongheExperiment",
    "goal_seek_levers",
    "lever_ranges",
    "reform_range",
    "ronghe_model",
    "target_outcomes",
    "year_targets",
]
