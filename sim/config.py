"""Run configuration: every run setting declared once, and validation.

Each field of :class:`RunSettings` (and of its groups :class:`Targets2035` and
:class:`GoalSettings`) is the one declaration of a setting: its type (the annotation),
its default, the values it allows (a :class:`Rule`) and its meaning, made with
:func:`setting`. :data:`SETTINGS` lists them by key; validation (:func:`check_key`,
:func:`validate`), ``ronghe run --help`` and the docs' settings table read them from
there. The dataclass is the Hydra schema too (see :mod:`sim.cli`); the ``params`` node
is generated from the region's parameter table so that every behavioural parameter can
be overridden (``params.beta_income=0.8``) and swept. Validation errors name the key,
the value and the allowed values in one line.

Settings that depend on the region (``county_area``, ``targets_2035``) default to null,
"the region's own"; :func:`resolve_settings` gives their values for a loaded region.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sim.data import DEFAULT_REGION, RegionData, Target
from sim.errors import ConfigError

BACKENDS = ("numba", "agents")
PROGRESS = ("auto", "on", "off")
STEPS_PER_YEAR = (1, 2, 4, 12)
ENSEMBLES = ("none", "posterior")
BASE_YEAR = 2023
LAST_YEAR = 2050
MAX_SEED = 2**63 - 1
MAX_DRAWS = 10_000
MAX_DRAW_SEEDS = 16
# One agent per 10,000 persons (about 350 agents). Below it a county can have no
# children or no registered urban women, and its indicators are undefined (at 3e-5 the
# share of urban children is NaN; at 3e-6 a group is empty); a run that small says
# nothing about a county anyway.
MIN_SCALE = 1e-4


@dataclass(frozen=True)
class Rule:
    """The values a setting allows: words for people and a test for values.

    Attributes:
        text: The allowed values in words; ``{name}`` stands for another setting's value.
        test: ``test(value, context)`` is true for an allowed value of the right type;
            ``context`` maps setting keys to the run's values.
        refs: The settings ``text`` and ``test`` refer to.
    """

    text: str
    test: Callable[[Any, Mapping[str, Any]], bool] = lambda value, context: True
    refs: tuple[str, ...] = ()

    def describe(self, context: Mapping[str, Any] | None = None) -> str:
        """The allowed values in words, with the run's values of the settings referred to."""
        if not self.refs:
            return self.text
        if context is None:
            return self.text.format(**{name: name for name in self.refs})
        named = ", ".join(f"{name}={context[name]}" for name in self.refs)
        return f"{self.text.format(**{n: context[n] for n in self.refs})} ({named})"


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def between(
    low: float | str,
    high: float | str,
    *,
    what: str = "",
    open_low: bool = False,
    open_high: bool = False,
    note: str = "",
) -> Rule:
    """Numbers in an interval; a bound may be another setting's key (``"start_year"``).

    Args:
        low: Lower bound, or the key of the setting that gives it.
        high: Upper bound, or the key of the setting that gives it.
        what: A word before the interval (``"integer"``: "integer in [0, 10]").
        open_low: Whether ``low`` itself is excluded.
        open_high: Whether ``high`` itself is excluded.
        note: Said after the interval, in brackets.
    """
    refs = tuple(b for b in (low, high) if isinstance(b, str))
    shown = [f"{{{b}}}" if isinstance(b, str) else _number(b) for b in (low, high)]
    text = f"{'(' if open_low else '['}{shown[0]}, {shown[1]}{')' if open_high else ']'}"
    text = f"{what} in {text}" if what else text
    text = f"{text} ({note})" if note else text

    def test(value, context):
        lo, hi = (context[b] if isinstance(b, str) else b for b in (low, high))
        above = lo < value if open_low else lo <= value
        below = value < hi if open_high else value <= hi
        return above and below

    return Rule(text, test, refs)


def one_of(*choices: object, note: str = "") -> Rule:
    """One of ``choices`` (of the same type: ``True`` is not 1)."""
    names = [str(c) for c in choices]
    text = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    text = f"{text} ({note})" if note else text
    return Rule(text, lambda v, _: any(type(v) is type(c) and v == c for c in choices))


def words(text: str, test: Callable[[Any], bool] = lambda value: True) -> Rule:
    """Allowed values described in words, with a test beyond the setting's type."""
    return Rule(text, lambda value, _: test(value))


@dataclass(frozen=True)
class Setting:
    """One run setting: its key, type, default, allowed values and meaning.

    Attributes:
        key: The key, dotted inside a group (``goal.year``).
        kind: Its type annotation (``float``, ``str | None``, ``list[str] | None``...).
        default: Its default value.
        rule: The values it allows besides null.
        help: What it means.
        null: What null means, for a setting that may be null.
    """

    key: str
    kind: Any
    default: Any
    rule: Rule
    help: str
    null: str = ""

    def shown_default(self) -> str:
        """The default as it is written on the command line (``null``, ``true``, ``0.01``)."""
        return _yaml_text(self.default)

    def allowed(self, context: Mapping[str, Any] | None = None) -> str:
        """The allowed values in words (with the run's values of settings referred to)."""
        text = self.rule.describe(context)
        return f"{text}, or null for {self.null}" if self.null else text

    def check(self, value: object, context: Mapping[str, Any] | None = None) -> None:
        """Raise :class:`ConfigError` naming key, value and allowed values if not allowed.

        Args:
            value: The value to check.
            context: Values of the settings the rule refers to (default their defaults).
        """
        given = {k: context[k] for k in self.rule.refs if context and k in context}
        full = {k: SETTINGS[k].default for k in self.rule.refs} | given
        if value is None and self.null:
            return
        if not _is_a(self.kind, value) or not self.rule.test(value, full):
            raise ConfigError(f"{self.key}={value!r}: allowed {self.allowed(given or None)}")


def _yaml_text(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return f"[{', '.join(map(_yaml_text, value))}]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _is_a(kind: Any, value: object) -> bool:
    """Whether ``value`` is of type ``kind`` (``bool`` is not a number here)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (types.UnionType, typing.Union):
        return any(_is_a(a, value) for a in args)
    if kind is type(None):
        return value is None
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if origin is list:
        return isinstance(value, list | tuple) and all(_is_a(args[0], v) for v in value)
    return isinstance(value, kind)


def setting(default: Any, rule: Rule, help: str, *, null: str = "") -> Any:
    """Declare a run setting: a dataclass field with its rule and meaning.

    Args:
        default: Its default value.
        rule: The values it allows besides null.
        help: What it means, in a line.
        null: What null means, for a setting that may be null (its type allows None).
    """
    return field(default=default, metadata={"rule": rule, "help": help, "null": null})


def _distinct(items: list) -> bool:
    return bool(items) and all(items) and len(set(items)) == len(items)


@dataclass
class Targets2035:
    """Thresholds read as 'significantly narrowed' by 2035 (the decision gives none)."""

    resident_urbanisation_rate: float | None = setting(
        None,
        between(0, 1, open_low=True, open_high=True),
        "2035 threshold of the city's resident urbanisation rate",
        null="the region's value in targets.csv",
    )
    county_area_urbanisation: float | None = setting(
        None,
        between(0, 1, open_low=True, open_high=True),
        "2035 threshold of the county area's (县域) resident urbanisation rate",
        null="the region's value in targets.csv",
    )
    income_ratio: float | None = setting(
        None,
        between(1, 5),
        "2035 threshold of the urban-rural income ratio (at most)",
        null="the region's value in targets.csv",
    )


# Target (unit, indicator) -> the ``targets_2035`` key that sets its 2035 threshold.
TARGETS_2035_KEYS = {
    ("city", "resident_urbanisation_rate"): "resident_urbanisation_rate",
    ("county_area", "resident_urbanisation_rate"): "county_area_urbanisation",
    ("city", "income_ratio"): "income_ratio",
}


@dataclass
class GoalSettings:
    """Goal seeking (``+experiment=goal_seek``): replicates per package and the targets.

    ``replicates=0`` (the default) is an ordinary run.
    """

    replicates: int = setting(
        0,
        between(0, 1000, what="integer", note="0 = an ordinary run"),
        "goal seeking: replicate seeds per lever package",
    )
    probability: float = setting(
        0.8,
        between(0, 1, open_low=True),
        "goal seeking: the chance with which every target is to be met",
    )
    year: int = setting(
        2027,
        one_of(2027, 2035, note="a year with targets, within [start_year, end_year]"),
        "goal seeking: the targets' year",
    )
    penalty: float = setting(
        20000.0,
        between(0, 1e9, note="million yuan"),
        "goal seeking: million yuan a year per unit of probability or target shortfall",
    )


@dataclass
class RunSettings:
    """Run-level keys of ``ronghe run`` (everything except ``params`` and ``levers``)."""

    scenario: str = setting(
        "baseline",
        words(
            "a scenario name: NAME.yaml in scenarios_dir or in the library's scenarios/ "
            "(see `ronghe scenarios`)",
            bool,
        ),
        "the policy scenario: a library scenario or one of scenarios_dir",
    )
    seed: int = setting(
        1,
        between(0, MAX_SEED, what="integer"),
        "the same seed gives the same numbers on any machine and launcher",
    )
    scale: float = setting(
        0.01,
        between(MIN_SCALE, 1),
        "agents per real person; 1.0 = every registered person an agent (below 1:10,000 a "
        "county can lack whole groups and its indicators are undefined)",
    )
    backend: str = setting(
        "numba",
        one_of(*BACKENDS),
        "the engine: compiled kernels (numba) or persons as Mesa agents (agents: slow, the "
        "oracle the kernels are tested against)",
    )
    start_year: int = setting(
        BASE_YEAR,
        one_of(BASE_YEAR),
        "the base year: the year the data describe",
    )
    end_year: int = setting(2035, between("start_year", LAST_YEAR), "the last simulated year")
    steps_per_year: int = setting(4, one_of(*STEPS_PER_YEAR), "time steps a year (4 = quarters)")
    threads: int = setting(
        0,
        between(0, 1024, what="integer", note="0 = automatic"),
        "numba threads; 0 = automatic: SLURM_CPUS_PER_TASK, else 1 per 500,000 agents "
        "up to the cores, so small runs use one",
    )
    progress: str = setting(
        "auto",
        one_of(*PROGRESS),
        "a progress bar on stderr (auto: on a terminal only)",
    )
    check_invariants: bool = setting(
        False,
        words("true or false"),
        "check that persons, land and money are conserved at every step (slow)",
    )
    region: str = setting(
        DEFAULT_REGION,
        words("a library region's name or a folder of region data files", bool),
        "the region: a name listed by `ronghe regions`, or a folder of data files in the "
        "format of the library's regions, checked against its schema before any run "
        "(docs/regions.md)",
    )
    county_area: list[str] | None = setting(  # noqa: RUF009 (setting() is a field())
        None,
        words("a non-empty list of the region's counties, without repeats", _distinct),
        "the units that form the county area (县域)",
        null="the region's own (units.csv)",
    )
    scenarios_dir: str | None = setting(
        None,
        words(
            "a folder of your scenario files, searched before the library's scenarios/ "
            "(which they may extend)"
        ),
        "your scenarios folder, searched before the library",
        null="the library only",
    )
    targets_2035: Targets2035 = field(default_factory=Targets2035)
    goal: GoalSettings = field(default_factory=GoalSettings)
    ensemble: str = setting(
        "none",
        one_of(*ENSEMBLES, note="the draws of the region's posterior.parquet"),
        "posterior runs the calibration's posterior draws, each with its own seed",
    )
    draws: int = setting(
        0,
        between(0, MAX_DRAWS, what="integer", note="0 = every draw"),
        "with ensemble=posterior: how many draws to run",
    )
    draw_seeds: int = setting(
        1,
        between(1, MAX_DRAW_SEEDS, what="integer"),
        "with ensemble=posterior: seeds per draw (2 or more separates the seeds' share of "
        "the variance)",
    )


GROUPS = {"targets_2035": Targets2035, "goal": GoalSettings}


def _declared(cls: type, prefix: str = "") -> dict[str, Setting]:
    kinds = typing.get_type_hints(cls)
    out: dict[str, Setting] = {}
    for f in dataclasses.fields(cls):
        if f.name in GROUPS and cls is RunSettings:
            out |= _declared(GROUPS[f.name], f"{f.name}.")
            continue
        meta = f.metadata
        if bool(meta["null"]) != _is_a(kinds[f.name], None):
            raise TypeError(f"{prefix}{f.name}: give null= if and only if None is allowed")
        out[prefix + f.name] = Setting(
            prefix + f.name, kinds[f.name], f.default, meta["rule"], meta["help"], meta["null"]
        )
    return out


SETTINGS: dict[str, Setting] = _declared(RunSettings)
"""Every run setting by key (``goal.year`` inside a group), in declaration order."""

RANGES = {key: s.allowed() for key, s in SETTINGS.items()}
"""The allowed values of every setting in words (derived from :data:`SETTINGS`)."""


def check_key(key: str, value: object, *, start_year: int = BASE_YEAR) -> None:
    """Validate one run-level key (also used on command-line overrides before a sweep).

    Args:
        key: A setting's key (``scale``, ``goal.year``).
        value: Its value.
        start_year: The run's start year, for settings bounded by it.

    Raises:
        ConfigError: Unknown key or value outside the allowed range.
    """
    if key not in SETTINGS:
        raise ConfigError(f"unknown key {key!r}; allowed: {', '.join(sorted(SETTINGS))}, params.*")
    SETTINGS[key].check(value, {"start_year": start_year})


def _plain(key: str, value: object) -> object:
    """A checked value in its declared type (an int for a float is a float)."""
    kind = SETTINGS[key].kind
    if isinstance(value, int) and not isinstance(value, bool) and _is_a(kind, 0.5):
        return float(value)
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class ValidConfig:
    """A validated run configuration (plain Python values)."""

    settings: RunSettings
    params: dict[str, float]
    levers: dict[str, Any] = field(default_factory=dict)

    def resolved(self, region: RegionData) -> ValidConfig:
        """This configuration for ``region`` (see :func:`resolve_settings`)."""
        return dataclasses.replace(self, settings=resolve_settings(self.settings, region))


def validate(cfg: Mapping[str, Any]) -> ValidConfig:
    """Validate a composed configuration (a plain nested mapping).

    Raises:
        ConfigError: The first unknown key or out-of-range value, in one line.
    """
    known = {f.name for f in dataclasses.fields(RunSettings)} | {"params", "levers"}
    for key in cfg:
        if key not in known and key != "hydra":
            raise ConfigError(f"unknown key {key!r}; allowed: {', '.join(sorted(known))}")
    start = cfg.get("start_year", BASE_YEAR)
    check_key("start_year", start)
    values: dict[str, Any] = {}
    for name in (f.name for f in dataclasses.fields(RunSettings) if f.name in cfg):
        if name in GROUPS:
            node = {}
            for sub, sub_value in dict(cfg[name] or {}).items():
                check_key(f"{name}.{sub}", sub_value)
                node[sub] = _plain(f"{name}.{sub}", sub_value)
            values[name] = GROUPS[name](**node)
        else:
            check_key(name, cfg[name], start_year=start)
            values[name] = _plain(name, cfg[name])
    settings = RunSettings(**values)
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


def region_county_area(region: RegionData) -> tuple[str, ...]:
    """The region's own county area (县域): its counties marked so in units.csv.

    Without such marks, every county but the first (the first is the central city).
    """
    return region.county_area_keys or region.county_keys[1:]


def resolve_county_area(value: list[str] | None, region: RegionData) -> list[str]:
    """The ``county_area`` setting for ``region``: null is the region's own.

    Raises:
        ConfigError: A name that is not one of the region's counties.
    """
    if value is None:
        return list(region_county_area(region))
    keys = region.county_keys
    if any(k not in keys for k in value):
        raise ConfigError(
            f"county_area={list(value)!r}: allowed a non-empty list drawn from the region's "
            f"counties {', '.join(keys)}"
        )
    return list(value)


def resolve_settings(settings: RunSettings, region: RegionData) -> RunSettings:
    """``settings`` with the region-dependent ones given: ``county_area`` and ``targets_2035``.

    Null means the region's own: its county area (:func:`region_county_area`) and the
    2035 thresholds of its ``targets.csv``; an explicit value replaces it.

    Raises:
        ConfigError: ``county_area`` names a unit that is not one of the region's counties.
    """
    later = dataclasses.asdict(settings.targets_2035)
    for t in region.targets:
        key = TARGETS_2035_KEYS.get((t.unit, t.indicator))
        if t.year == 2035 and key is not None and later[key] is None:
            later[key] = t.value
    return dataclasses.replace(
        settings,
        county_area=resolve_county_area(settings.county_area, region),
        targets_2035=Targets2035(**later),
    )


def run_targets(region: RegionData, later: Targets2035) -> tuple[Target, ...]:
    """The region's targets, with a run's 2035 thresholds where they are set (not null)."""
    out = []
    for t in region.targets:
        key = TARGETS_2035_KEYS.get((t.unit, t.indicator))
        value = getattr(later, key) if key is not None else None
        if t.year == 2035 and value is not None:
            t = dataclasses.replace(t, value=float(value))
        out.append(t)
    return tuple(out)


def params_schema(region: RegionData) -> type:
    """A dataclass whose fields are the parameters of ``region`` with their file values."""
    return dataclasses.make_dataclass(
        "ParamsSchema",
        [(name, float, field(default=spec.value)) for name, spec in region.parameters.items()],
    )
