"""Run configuration: the dataclass schema, its allowed ranges and validation.

The schema is registered in Hydra's ConfigStore (see :mod:`sim.cli`); the ``params``
node is generated from the data folder's parameter table so that every behavioural
parameter can be overridden (``params.beta_income=0.8``) and swept. Validation errors
name the key, the value and the allowed range in one line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.data import COUNTY_KEYS, RegionData, Target
from sim.errors import ConfigError

BACKENDS = ("numba", "agents")
PROGRESS = ("auto", "on", "off")
STEPS_PER_YEAR = (1, 2, 4, 12)
BASE_YEAR = 2023
LAST_YEAR = 2050
MAX_SEED = 2**63 - 1
# One agent per 10,000 persons (about 350 agents). Below it a county can have no
# children or no registered urban women, and its indicators are undefined (at 3e-5 the
# share of urban children is NaN; at 3e-6 a group is empty); a run that small says
# nothing about a county anyway.
MIN_SCALE = 1e-4
DEFAULT_COUNTY_AREA = ("anju", "shehong", "pengxi", "daying")


@dataclass
class Targets2035:
    """Thresholds read as 'significantly narrowed' by 2035 (the decision gives none)."""

    resident_urbanisation_rate: float = 0.70
    county_area_urbanisation: float = 0.56
    income_ratio: float = 1.80


# Target (unit, indicator) -> the ``targets_2035`` key that sets its 2035 threshold.
TARGETS_2035_KEYS = {
    ("city", "resident_urbanisation_rate"): "resident_urbanisation_rate",
    ("county_area", "resident_urbanisation_rate"): "county_area_urbanisation",
    ("city", "income_ratio"): "income_ratio",
}


def run_targets(region: RegionData, later: Targets2035) -> tuple[Target, ...]:
    """The decision's targets, with a run's configurable 2035 thresholds."""
    out = []
    for t in region.targets:
        key = TARGETS_2035_KEYS.get((t.unit, t.indicator))
        if t.year == 2035 and key is not None:
            t = dataclasses.replace(t, value=float(getattr(later, key)))
        out.append(t)
    return tuple(out)


@dataclass
class GoalSettings:
    """Goal seeking (``+experiment=goal_seek``): replicates per package and the targets.

    ``replicates=0`` (the default) is an ordinary run.
    """

    replicates: int = 0
    probability: float = 0.8
    year: int = 2027
    penalty: float = 20000.0  # million yuan per unit of probability or target shortfall


@dataclass
class RunSettings:
    """Run-level keys of ``ronghe run`` (everything except ``params``)."""

    scenario: str = "baseline"
    seed: int = 1
    scale: float = 0.01
    backend: str = "numba"
    start_year: int = BASE_YEAR
    end_year: int = 2035
    steps_per_year: int = 4
    threads: int = 0
    progress: str = "auto"
    check_invariants: bool = False
    county_area: list[str] = field(default_factory=lambda: list(DEFAULT_COUNTY_AREA))
    data_dir: str | None = None
    scenarios_dir: str | None = None
    targets_2035: Targets2035 = field(default_factory=Targets2035)
    goal: GoalSettings = field(default_factory=GoalSettings)
    ensemble: str = "none"
    draws: int = 0
    draw_seeds: int = 1


ENSEMBLES = ("none", "posterior")
MAX_DRAWS = 10_000
MAX_DRAW_SEEDS = 16

RANGES = {
    "scenario": "a scenario name: NAME.yaml in scenarios_dir or in the library's scenarios/ "
    "(see `ronghe scenarios`)",
    "seed": f"integer in [0, {MAX_SEED}]",
    "scale": f"[{MIN_SCALE:g}, 1]",
    "backend": " or ".join(BACKENDS),
    "start_year": f"[{BASE_YEAR}, {BASE_YEAR}] (the data describe {BASE_YEAR})",
    "end_year": f"[start_year, {LAST_YEAR}]",
    "steps_per_year": ", ".join(map(str, STEPS_PER_YEAR)),
    "threads": "integer in [0, 1024] (0 = automatic)",
    "progress": ", ".join(PROGRESS),
    "check_invariants": "true or false",
    "county_area": f"non-empty list drawn from {', '.join(COUNTY_KEYS)}",
    "data_dir": "a folder with the data files, or null for the packaged data",
    "scenarios_dir": "a folder of your scenario files, searched before the library's "
    "scenarios/ (which they may extend), or null for the library only",
    "targets_2035.resident_urbanisation_rate": "(0, 1)",
    "targets_2035.county_area_urbanisation": "(0, 1)",
    "targets_2035.income_ratio": "[1, 5]",
    "goal.replicates": "integer in [0, 1000] (0 = an ordinary run)",
    "goal.probability": "(0, 1]",
    "goal.year": "a year with targets: 2027 or 2035, within [start_year, end_year]",
    "goal.penalty": "[0, 1e9] million yuan",
    "ensemble": "none or posterior (the draws of sim/data/posterior.parquet)",
    "draws": f"integer in [0, {MAX_DRAWS}] (with ensemble=posterior; 0 = every draw)",
    "draw_seeds": f"integer in [1, {MAX_DRAW_SEEDS}] (seeds per posterior draw; 2 or more "
    "separates the seeds' share of the variance)",
}


def _fail(key: str, value: object) -> ConfigError:
    return ConfigError(f"{key}={value!r}: allowed {RANGES[key]}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_key(key: str, value: object, *, start_year: int = BASE_YEAR) -> None:
    """Validate one run-level key (also used on command-line overrides before a sweep).

    Raises:
        ConfigError: Unknown key or value outside the allowed range.
    """
    if key == "scenario":
        if not isinstance(value, str) or not value:
            raise _fail(key, value)
    elif key == "seed":
        if not _is_int(value) or not 0 <= value <= MAX_SEED:
            raise _fail(key, value)
    elif key == "scale":
        if not _is_number(value) or not MIN_SCALE <= value <= 1:
            raise _fail(key, value)
    elif key == "backend":
        if value not in BACKENDS:
            raise _fail(key, value)
    elif key == "start_year":
        if not _is_int(value) or value != BASE_YEAR:
            raise _fail(key, value)
    elif key == "end_year":
        if not _is_int(value) or not start_year <= value <= LAST_YEAR:
            raise ConfigError(
                f"end_year={value!r}: allowed [{start_year}, {LAST_YEAR}] (start_year={start_year})"
            )
    elif key == "steps_per_year":
        if value not in STEPS_PER_YEAR or not _is_int(value):
            raise _fail(key, value)
    elif key == "threads":
        if not _is_int(value) or not 0 <= value <= 1024:
            raise _fail(key, value)
    elif key == "progress":
        if value not in PROGRESS:
            raise _fail(key, value)
    elif key == "check_invariants":
        if not isinstance(value, bool):
            raise _fail(key, value)
    elif key == "county_area":
        items = list(value) if isinstance(value, list | tuple) else None
        if not items or any(k not in COUNTY_KEYS for k in items) or len(set(items)) != len(items):
            raise _fail(key, value)
    elif key in ("data_dir", "scenarios_dir"):
        if value is not None and not isinstance(value, str):
            raise _fail(key, value)
    elif key in (
        "targets_2035.resident_urbanisation_rate",
        "targets_2035.county_area_urbanisation",
    ):
        if not _is_number(value) or not 0 < value < 1:
            raise _fail(key, value)
    elif key == "targets_2035.income_ratio":
        if not _is_number(value) or not 1 <= value <= 5:
            raise _fail(key, value)
    elif key == "goal.replicates":
        if not _is_int(value) or not 0 <= value <= 1000:
            raise _fail(key, value)
    elif key == "goal.probability":
        if not _is_number(value) or not 0 < value <= 1:
            raise _fail(key, value)
    elif key == "goal.year":
        if value not in (2027, 2035):
            raise _fail(key, value)
    elif key == "goal.penalty":
        if not _is_number(value) or not 0 <= value <= 1e9:
            raise _fail(key, value)
    elif key == "ensemble":
        if value not in ENSEMBLES:
            raise _fail(key, value)
    elif key == "draws":
        if not _is_int(value) or not 0 <= value <= MAX_DRAWS:
            raise _fail(key, value)
    elif key == "draw_seeds":
        if not _is_int(value) or not 1 <= value <= MAX_DRAW_SEEDS:
            raise _fail(key, value)
    else:
        raise ConfigError(f"unknown key {key!r}; allowed: {', '.join(sorted(RANGES))}, params.*")


@dataclass(frozen=True)
class ValidConfig:
    """A validated run configuration (plain Python values)."""

    settings: RunSettings
    params: dict[str, float]
    levers: dict[str, Any] = field(default_factory=dict)


def validate(cfg: Mapping[str, Any]) -> ValidConfig:
    """Validate a composed configuration (a plain nested mapping).

    Raises:
        ConfigError: The first unknown key or out-of-range value, in one line.
    """
    known = {f.name for f in dataclasses.fields(RunSettings)} | {"params", "levers"}
    for key in cfg:
        if key not in known and key != "hydra":
            raise ConfigError(f"unknown key {key!r}; allowed: {', '.join(sorted(known))}")
    settings = RunSettings()
    start = cfg.get("start_year", BASE_YEAR)
    check_key("start_year", start)
    for f in dataclasses.fields(RunSettings):
        if f.name not in cfg:
            continue
        value = cfg[f.name]
        if f.name in ("targets_2035", "goal"):
            node = Targets2035() if f.name == "targets_2035" else GoalSettings()
            for sub, sub_value in dict(value or {}).items():
                check_key(f"{f.name}.{sub}", sub_value)
                kind = type(getattr(node, sub))
                setattr(node, sub, kind(sub_value))
            setattr(settings, f.name, node)
            continue
        check_key(f.name, value, start_year=start)
        if f.name == "county_area":
            value = list(value)
        if f.name == "scale":
            value = float(value)
        setattr(settings, f.name, value)
    goal = settings.goal
    if goal.replicates and not settings.start_year <= goal.year <= settings.end_year:
        raise ConfigError(
            f"goal.year={goal.year}: allowed a year within start_year..end_year "
            f"({settings.start_year}..{settings.end_year})"
        )
    if settings.draws and settings.ensemble == "none":
        raise ConfigError(
            f"draws={settings.draws}: allowed 0 without an ensemble (add ensemble=posterior)"
        )
    if settings.draw_seeds > 1 and settings.ensemble == "none":
        raise ConfigError(
            f"draw_seeds={settings.draw_seeds}: allowed 1 without an ensemble (add "
            f"ensemble=posterior, or seeds=N for replicate runs)"
        )
    if settings.ensemble != "none" and goal.replicates:
        raise ConfigError(
            f"ensemble={settings.ensemble}: allowed none with goal.replicates="
            f"{goal.replicates} (a goal run draws its own replicates)"
        )
    params = dict(cfg.get("params") or {})
    levers = {k: v for k, v in dict(cfg.get("levers") or {}).items() if v is not None}
    return ValidConfig(settings=settings, params=params, levers=levers)


def params_schema(region: RegionData) -> type:
    """A dataclass whose fields are the parameters of ``region`` with their file values."""
    return dataclasses.make_dataclass(
        "ParamsSchema",
        [(name, float, field(default=spec.value)) for name, spec in region.parameters.items()],
    )
