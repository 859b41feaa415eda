"""Lever schedules: a lever's value over time, per county, evaluated at each step.

A schedule is written in a scenario file as one of::

    0.9                                    # constant
    {step: 2025, to: 1.0}                  # the 2023 value until 2025, then 1.0
    {ramp: [2024, 2027], to: 0.9}          # linear from the start of 2024 to the start of 2027
    {per_year: {2024: 0.7, 2026: 0.8}}     # each value from the start of its year on

``step``, ``ramp`` and ``per_year`` take an optional ``from:`` (the value before the
schedule starts; the lever's 2023 default otherwise). A per-county lever also takes a
mapping from county id to any of these; counties left out keep their earlier value.

Every year a schedule names must lie within the run's period (``start_year`` to
``end_year``), except the end of a ramp, which may lie later (up to 2050): the run then
stops part-way up the ramp. Time is measured in years: the step that starts the second
quarter of 2025 is evaluated at ``t = 2025.25``. The 2023 base year is observed data, so
the model evaluates a plan from its first step on (:meth:`LeverPlan.policy_at`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from sim.data import region_county_keys
from sim.errors import ScenarioError, clip
from sim.levers import CATALOGUE, LEVERS, Lever, LeverDefaults, Policy, region_defaults

SCHEDULE_KINDS = ("step", "ramp", "per_year")
LAST_RAMP_YEAR = 2050  # the last year the model can simulate
FORMS = (
    "a number, {step: YEAR, to: V}, {ramp: [YEAR, YEAR], to: V} or "
    "{per_year: {YEAR: V, ...}} (each with an optional from: V)"
)


@dataclass(frozen=True)
class Schedule:
    """A piecewise schedule: ``before`` until the first knot, then knot to knot.

    Attributes:
        kind: ``constant``, ``step``, ``ramp`` or ``per_year``.
        before: Value before the first knot (the value of a constant).
        knots: ``(year, value)`` pairs in increasing year.
        linear: Interpolate linearly between knots (a ramp) instead of holding.
    """

    kind: str
    before: float
    knots: tuple[tuple[int, float], ...] = ()
    linear: bool = False

    def at(self, t: float) -> float:
        """Value in force at time ``t`` (years, e.g. 2025.25)."""
        value = self.before
        previous = None
        for year, knot_value in self.knots:
            if t < year:
                if self.linear and previous is not None:
                    y0, v0 = previous
                    return v0 + (knot_value - v0) * (t - y0) / (year - y0)
                return value
            value, previous = knot_value, (year, knot_value)
        return value

    @property
    def years(self) -> tuple[int, ...]:
        """The years the schedule names."""
        return tuple(year for year, _ in self.knots)

    def describe(self, lang: str = "en") -> str:
        """A short human-readable form: ``0.6 → 0.9 (linear 2024–2027)``.

        In Chinese (``lang="zh"``): ``0.6 → 0.9（2024–2027年线性）``.
        """
        zh = lang == "zh"
        if self.kind == "constant":
            return _number(self.before)
        if self.kind == "step":
            ((year, value),) = self.knots
            if zh:
                return f"{_number(self.before)} → {_number(value)}（{year}年起）"
            return f"{_number(self.before)} → {_number(value)} from {year}"
        if self.kind == "ramp":
            (y0, _), (y1, value) = self.knots
            if zh:
                return f"{_number(self.before)} → {_number(value)}（{y0}–{y1}年线性）"
            return f"{_number(self.before)} → {_number(value)} (linear {y0}–{y1})"
        if zh:
            steps = "，".join(f"{year}年起 {_number(value)}" for year, value in self.knots)
            return f"{_number(self.before)}；{steps}"
        steps = ", ".join(f"{year}: {_number(value)}" for year, value in self.knots)
        return f"{_number(self.before)}, then {steps}"


def describe_counties(
    per_county: tuple[Schedule, ...],
    label=str,
    each: str = "",
    lang: str = "en",
    counties: tuple[str, ...] | None = None,
) -> str:
    """One lever's schedules: one text if every county shares it, else ``county: text; ...``.

    ``label`` names a county key (for example in Chinese). ``each`` (e.g. ``each
    county``) prefixes a shared text, so that a per-county amount is not read as a
    city-wide one. ``lang`` is the language of the schedules' descriptions. ``counties``
    are the keys the schedules belong to (the default region's by default).
    """
    if len(set(per_county)) == 1:
        text = per_county[0].describe(lang)
        return f"{each}: {text}" if each else text
    return "; ".join(
        f"{label(c)}: {s.describe(lang)}"
        for c, s in zip(counties or region_county_keys(), per_county, strict=True)
    )


def _number(value: float) -> str:
    """``0.25``, ``300``, or whole numbers from 1,000 with separators: ``95,000,000``."""
    return f"{value:,.0f}" if abs(value) >= 1000 and value == int(value) else f"{value:g}"


def constant(value: float) -> Schedule:
    """A schedule that holds ``value``."""
    return Schedule("constant", float(value))


@dataclass(frozen=True)
class LeverPlan:
    """The schedules of every lever for each of the region's counties.

    ``defaults`` are the region's 2023 values the plan starts from.
    """

    schedules: dict[str, tuple[Schedule, ...]]
    defaults: LeverDefaults = field(default_factory=region_defaults, compare=False)

    def policy_at(self, t: float) -> Policy:
        """The :class:`Policy` in force at time ``t`` (years)."""
        return Policy(
            {
                lever_id: np.array([s.at(t) for s in per_county])
                for lever_id, per_county in self.schedules.items()
            }
        )

    def changed(self) -> dict[str, tuple[Schedule, ...]]:
        """Levers whose schedule differs from the 2023 default in some county."""
        out = {}
        for lever in CATALOGUE:
            per_county = self.schedules[lever.id]
            base = self.defaults.values[lever.id]
            if any(s != constant(b) for s, b in zip(per_county, base, strict=True)):
                out[lever.id] = per_county
        return out


def default_plan(defaults: LeverDefaults | None = None) -> LeverPlan:
    """Every lever held at its 2023 value in each county (the default region's by default)."""
    defaults = defaults or region_defaults()
    return LeverPlan(
        {lv.id: tuple(constant(v) for v in defaults.values[lv.id]) for lv in CATALOGUE},
        defaults,
    )


class _Parser:
    """Turns a ``levers`` mapping into schedules, with one-line errors."""

    def __init__(self, source: str, period: tuple[int, int], defaults: LeverDefaults):
        self.source = source
        self.period = period
        self.defaults = defaults
        self.counties = defaults.counties

    def fail(self, key: str, value: object, problem: str) -> ScenarioError:
        # Keys and values come from a file: echo a bounded, one-line part of them.
        return ScenarioError(
            f"{self.source}: {clip(f'levers.{key}')}={clip(repr(value))}: {problem}"
        )

    def number(self, lever: Lever, key: str, raw: object) -> float:
        allowed = f"allowed range [{lever.low:g}, {lever.high:g}] {lever.unit}"
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise self.fail(key, raw, f"not a number; {allowed}")
        value = float(raw)
        if not math.isfinite(value) or not lever.low <= value <= lever.high:
            raise self.fail(key, raw, f"outside the {allowed}")
        return value

    def year(self, key: str, raw: object, last: int | None = None) -> int:
        first, last = self.period[0], last or self.period[1]
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise self.fail(key, raw, f"not a year; allowed an integer in [{first}, {last}]")
        if not first <= raw <= last:
            raise self.fail(
                key, raw, f"year outside the simulated period; allowed [{first}, {last}]"
            )
        return raw

    def schedule(self, lever: Lever, key: str, raw: object, county: int) -> Schedule:
        """The schedule ``raw`` gives ``county`` (its 2023 value is the default ``from``)."""
        if not isinstance(raw, Mapping):
            return constant(self.number(lever, key, raw))
        kinds = [k for k in SCHEDULE_KINDS if k in raw]
        extra = set(raw) - {*SCHEDULE_KINDS, "to", "from"}
        if len(kinds) != 1 or extra:
            raise self.fail(key, dict(raw), f"not a schedule; allowed {FORMS}")
        kind = kinds[0]
        default = float(self.defaults.values[lever.id][county])
        before = self.number(lever, f"{key}.from", raw["from"]) if "from" in raw else default
        if kind == "per_year":
            if "to" in raw:
                raise self.fail(f"{key}.to", raw["to"], "per_year takes no 'to'")
            table = raw["per_year"]
            if not isinstance(table, Mapping) or not table:
                raise self.fail(
                    f"{key}.per_year", table, "allowed a non-empty mapping {YEAR: value}"
                )
            knots = sorted(
                (self.year(f"{key}.per_year", y), self.number(lever, f"{key}.per_year.{y}", v))
                for y, v in table.items()
            )
            return Schedule("per_year", before, tuple(knots))
        if "to" not in raw:
            raise self.fail(key, dict(raw), f"a {kind} needs 'to: VALUE'")
        to = self.number(lever, f"{key}.to", raw["to"])
        if kind == "step":
            year = self.year(f"{key}.step", raw["step"])
            return Schedule("step", before, ((year, to),))
        span = raw["ramp"]
        if not isinstance(span, list | tuple) or len(span) != 2:
            raise self.fail(f"{key}.ramp", span, "allowed [FIRST_YEAR, LAST_YEAR]")
        y0 = self.year(f"{key}.ramp", span[0])
        y1 = self.year(f"{key}.ramp", span[1], last=LAST_RAMP_YEAR)
        if y1 <= y0:
            raise self.fail(f"{key}.ramp", list(span), "the last year must follow the first")
        return Schedule("ramp", before, ((y0, before), (y1, to)), linear=True)

    def lever(self, key: str, raw: object, earlier: tuple[Schedule, ...]) -> tuple[Schedule, ...]:
        lever = LEVERS.get(key)
        if lever is None:
            raise ScenarioError(
                f"{self.source}: {clip(f'levers.{key}')}: unknown lever; allowed: "
                f"{', '.join(LEVERS)}"
            )
        is_county_map = isinstance(raw, Mapping) and not set(raw) & {*SCHEDULE_KINDS, "to", "from"}
        if not is_county_map:
            return tuple(self.schedule(lever, key, raw, c) for c in range(len(self.counties)))
        if not lever.per_county:
            if set(raw) <= set(self.counties):
                raise self.fail(
                    key,
                    dict(raw),
                    "not set per county; allowed one value or schedule for the whole city",
                )
            raise self.fail(key, dict(raw), f"not a schedule; allowed {FORMS}")
        out = list(earlier)
        for county, sub in raw.items():
            if county not in self.counties:
                raise ScenarioError(
                    f"{self.source}: {clip(f'levers.{key}.{county}')}: unknown county; allowed: "
                    f"{', '.join(self.counties)} (or a schedule: {FORMS})"
                )
            if isinstance(sub, Mapping) and not set(sub) & {*SCHEDULE_KINDS, "to", "from"}:
                raise self.fail(f"{key}.{county}", dict(sub), f"not a schedule; allowed {FORMS}")
            c = self.counties.index(county)
            out[c] = self.schedule(lever, f"{key}.{county}", sub, c)
        return tuple(out)


def plan_from_levers(
    source: str,
    levers: Mapping[str, object],
    period: tuple[int, int],
    base: LeverPlan | None = None,
    defaults: LeverDefaults | None = None,
) -> LeverPlan:
    """Build a plan from a ``levers`` mapping on top of ``base`` (the 2023 defaults).

    Args:
        source: File or origin named in error messages.
        levers: Lever id to a value, a schedule or (per-county levers) a county mapping.
        period: First and last year a schedule may name.
        base: Plan the mapping overrides; counties a mapping leaves out keep their value.
        defaults: The region's counties and 2023 lever values (the default region's by
            default).

    Raises:
        ScenarioError: Unknown lever or county, a value outside the lever's range, a year
            outside ``period``, or a malformed schedule.
    """
    defaults = base.defaults if base is not None else defaults or region_defaults()
    parser = _Parser(source, period, defaults)
    schedules = dict((base or default_plan(defaults)).schedules)
    for key, raw in levers.items():
        schedules[str(key)] = parser.lever(str(key), raw, schedules.get(str(key), ()))
    return LeverPlan(schedules, defaults)


__all__ = [
    "LeverPlan",
    "Schedule",
    "constant",
    "default_plan",
    "describe_counties",
    "plan_from_levers",
]
