"""The dashboard's lever edits: slider positions as lever schedules, and scenario files.

An edit replaces one lever's schedule in the picked scenario, as a ``levers.ID=...``
override of ``ronghe run`` does: a constant, ``{step: YEAR, to: V}`` or ``{ramp: [Y0,
Y1], to: V}`` (both from the lever's 2023 value, as in a scenario file), city-wide or,
for a per-county lever, one value per county. Saved, the edits become a scenario file
that extends the picked scenario (``defaults: [PICKED, _self_]``) and sets only them.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import yaml

from sim.data import region_county_keys
from sim.errors import ScenarioError, clip
from sim.levers import CATALOGUE, LEVERS, Lever
from sim.paths import scenarios_folder
from sim.scenario import ANY_PERIOD, MAX_NAME_CHARS, NAME, Scenario, available, load_scenario

VALUE_YEAR = 2027  # sliders start at the picked scenario's value in force in this year
KINDS = ("constant", "step", "ramp")
FIRST_POLICY_YEAR = 2024  # the decision was adopted on 2023-12-29
MONEY_FACTOR = 1e6  # money levers' sliders move in million yuan


@dataclass(frozen=True)
class LeverEdit:
    """One lever's new schedule.

    Attributes:
        lever_id: The lever (``ronghe levers``).
        value: The value it moves to (the constant, or a step's or ramp's ``to``).
        kind: ``constant``, ``step`` or ``ramp``.
        start: A step's year, or a ramp's first year.
        end: A ramp's last year (the value is reached at its start).
        county_values: One value per county (per-county levers only), or None for one
            value in every county.
    """

    lever_id: str
    value: float
    kind: str = "constant"
    start: int = FIRST_POLICY_YEAR
    end: int = VALUE_YEAR
    county_values: tuple[float, ...] | None = None

    def schedule(self) -> object:
        """The lever's value as a scenario file or a ``levers=`` mapping writes it."""
        if self.county_values is None:
            return self._form(self.value)
        return {
            county: self._form(value)
            for county, value in zip(region_county_keys(), self.county_values, strict=True)
        }

    def _form(self, value: float) -> object:
        value = tidy(value)
        if self.kind == "step":
            return {"step": self.start, "to": value}
        if self.kind == "ramp":
            return {"ramp": [self.start, self.end], "to": value}
        return value

    def with_value(self, value: float) -> LeverEdit:
        """The edit moved to ``value`` in every county."""
        return replace(self, value=tidy(value), county_values=None)

    def with_county(self, county: str, value: float) -> LeverEdit:
        """The edit with ``county`` moved to ``value`` (the others keep theirs)."""
        values = list(self.county_values or (self.value,) * len(region_county_keys()))
        values[region_county_keys().index(county)] = tidy(value)
        return replace(self, county_values=tuple(values))


def tidy(value: float) -> float:
    """``value`` to 6 significant digits, so a slider's 0.30000000000000004 reads 0.3."""
    return float(f"{float(value):.6g}")


def slider_factor(lever: Lever) -> float:
    """What one slider unit is worth: a million yuan for money levers, else 1."""
    return MONEY_FACTOR if lever.unit.startswith("extra yuan") else 1.0


def slider_step(lever: Lever) -> float:
    """A round step of about a hundredth of the lever's range, in slider units."""
    span = (lever.high - lever.low) / slider_factor(lever)
    return 10.0 ** math.floor(math.log10(span / 100))


def levers_mapping(edits: Mapping[str, LeverEdit]) -> dict[str, object]:
    """The edits as a ``levers`` mapping (lever id to value or schedule), catalogue order."""
    return {lv.id: edits[lv.id].schedule() for lv in CATALOGUE if lv.id in edits}


def library_folder():
    """The scenario library's search path (``scenarios_dir`` unset)."""
    return scenarios_folder(None)


@cache
def library() -> dict[str, Scenario]:
    """The library scenarios by name: ``baseline`` first, ``decision_package`` last."""
    folder = library_folder()
    names = sorted(
        available(folder),
        key=lambda n: (n != "baseline", n != "stalled", n == "decision_package", n),
    )
    return {name: load_scenario(name, folder) for name in names}


def scenario_values(scenario: Scenario, lever_id: str, year: int = VALUE_YEAR) -> tuple:
    """The lever's value in force at the start of ``year`` in each county."""
    return tuple(tidy(s.at(float(year))) for s in scenario.plan.schedules[lever_id])


def flow_yaml(value: object) -> str:
    """``value`` as YAML on one line (flow style), as a scenario file writes a lever."""
    dumped = yaml.safe_dump(
        value, default_flow_style=True, width=10_000, sort_keys=False, allow_unicode=True
    )
    return dumped.removesuffix("...\n").strip()  # a lone scalar ends its document


def describe_edit(edit: LeverEdit) -> str:
    """The edit as a scenario file would write it, on one line."""
    return flow_yaml(edit.schedule())


def scenario_text(
    *,
    parent: str,
    edits: Mapping[str, LeverEdit],
    title_zh: str,
    title_en: str,
    description: str,
) -> str:
    """A scenario file that extends ``parent`` with the edits, in the library's format."""
    lines = [
        "# Written by the Ronghe dashboard (ronghe dashboard).",
        "defaults:",
        f"  - {parent}",
        "  - _self_",
        f"title_zh: {flow_yaml(title_zh)}",
        f"title_en: {flow_yaml(title_en)}",
        f"description: {flow_yaml(description)}",
        "levers:" if edits else "levers: {}",
    ]
    for lever_id, value in levers_mapping(edits).items():
        lever = LEVERS[lever_id]
        comment = f"# {lever.clause} {lever.name_zh} / {lever.name_en} ({lever.unit})"
        if isinstance(value, dict) and set(value) <= set(region_county_keys()):
            lines.append(f"  {lever_id}:  {comment}")
            lines += [f"    {county}: {flow_yaml(v)}" for county, v in value.items()]
        else:
            lines.append(f"  {lever_id}: {flow_yaml(value)}  {comment}")
    return "\n".join(lines) + "\n"


class ScenarioExistsError(ScenarioError):
    """The scenario file exists and the user has not confirmed overwriting it."""

    def __init__(self, path: Path):
        super().__init__(f"{path}: exists; overwrite it only if you mean to")
        self.path = path


def check_scenario_name(name: str) -> None:
    """Refuse a name ``ronghe run scenario=NAME`` would not find, or a library name.

    Raises:
        ScenarioError: Not a scenario name, or the name of a library scenario (a file of
            that name in the user's folder would hide the library's).
    """
    if not isinstance(name, str) or len(name) > MAX_NAME_CHARS or not NAME.fullmatch(name):
        raise ScenarioError(
            f"scenario name {clip(repr(name))}: allowed letters, digits, _ and - "
            f"(at most {MAX_NAME_CHARS})"
        )
    if name in library():
        raise ScenarioError(
            f"scenario name {name!r}: a library scenario has it; allowed another name"
        )


def save_scenario(
    folder: str | Path,
    name: str,
    *,
    parent: str,
    edits: Mapping[str, LeverEdit],
    title_zh: str,
    title_en: str,
    description: str,
    overwrite: bool = False,
) -> Path:
    """Write ``FOLDER/NAME.yaml`` extending ``parent`` with the edits; return its path.

    The edits are composed over ``parent`` first (the checks ``ronghe run`` makes), so
    a file is written only if it would run. A new file is created exclusively; an
    existing one is replaced (through a temporary file and a rename) only with
    ``overwrite``.

    Raises:
        ScenarioExistsError: The file exists and ``overwrite`` is false.
        ScenarioError: A bad name, or edits the scenario rules refuse.
        OSError: The folder or file cannot be written.
    """
    check_scenario_name(name)
    load_scenario(
        parent, library_folder(), period=ANY_PERIOD, lever_overrides=levers_mapping(edits)
    )
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    body = scenario_text(
        parent=parent,
        edits=edits,
        title_zh=title_zh,
        title_en=title_en,
        description=description,
    ).encode("utf-8")
    if not overwrite:
        try:
            with path.open("xb") as handle:
                handle.write(body)
        except FileExistsError:
            raise ScenarioExistsError(path) from None
        return path
    temporary = folder / f".{name}.yaml.{uuid.uuid4().hex}"
    try:
        temporary.write_bytes(body)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


__all__ = [
    "KINDS",
    "LeverEdit",
    "ScenarioExistsError",
    "check_scenario_name",
    "describe_edit",
    "levers_mapping",
    "library",
    "save_scenario",
    "scenario_text",
    "scenario_values",
    "slider_factor",
    "slider_step",
    "tidy",
]
