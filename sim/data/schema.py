"""The schema of each data file, one place per rule.

Each file has a row model (pydantic) that types its columns and checks what one row can
check alone: allowed values, and plausible ranges by unit of measure (:data:`MEASURES`)
or by indicator (:data:`INDICATORS`). :data:`TABLES` adds the columns no two rows may
share and the rule over the whole file. Rules across files are in
:mod:`sim.data.consistency`, the rows the model needs in :mod:`sim.data.required`.
Plausibility caps are named constants with the reason for their size; ``docs/data.md``
(section Validation) summarises the rules for readers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sim.data import BASES
from sim.data.required import (
    AWAY_WEIGHTS,
    CITY_FRACTIONS_2023,
    COUNTY_FRACTIONS,
    OUTSIDE_FRACTIONS,
    REQUIRED_TARGETS,
    required_parameters,
)
from sim.errors import DataError, shown

FIRST_YEAR, LAST_YEAR = 1949, 2100  # the People's Republic's statistics start in 1949
REFERENCE_AREAS = ("sichuan", "china")  # figures quoted for comparison, not model units
TARGET_AREAS = ("city", "county_area")  # county_area: the counties the config names
SERIES_BREAKS = ("", "pre_census", "census", "preliminary", "h1")

# A county-level unit of China has some tens of township-level units and some hundreds
# of villages (Suining's largest: 24 and 262); the caps only stop misplaced digits.
MAX_TOWNSHIPS = 200
MAX_VILLAGES = 5000
OLDEST_AGE = 120  # no one has lived past 122
# The model's age pyramid has an 85+ band, so the bands must reach at least that age.
OLDEST_BAND_MIN_END = 85

# Shares that are meant to add to 1 (age bands; a quantity split over counties or
# destinations) come rounded to 0.1-1 point and the model rescales them to add to 1
# exactly. A sum more than 2 points away signals a missing or mistyped share.
SHARE_SUM_TOLERANCE = 0.02


@dataclass(frozen=True)
class Measure:
    """What a unit of measure allows: a range, with the reason for its bounds."""

    unit: str
    low: float
    high: float
    why: str
    low_open: bool = False  # low itself is not allowed (a distance of 0 km)

    def allows(self, value: float) -> bool:
        """Whether ``value`` lies in the range."""
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high

    def describe(self) -> str:
        """The range as text, e.g. ``[0, 1]`` or ``(0, 5,000]``."""
        return f"{'(' if self.low_open else '['}{_number(self.low)}, {_number(self.high)}]"


FRACTION = Measure("fraction", 0, 1, "a share of a whole")
PERSONS = Measure(
    "persons",
    0,
    35_000_000,
    "no city of China has 35 million residents; Chongqing, the largest, has about 32 million",
)
PERSONS_PER_HOUSEHOLD = Measure(
    "persons per household", 1, 10, "a household has a member; China averages 2.6"
)
PER_100K = Measure("persons per 100000", 0, 100_000, "a part of 100,000 persons")
PERSONS_PER_VILLAGE = Measure(
    "registered persons per administrative village",
    0,
    50_000,
    "Suining's villages average 2,407; 50,000 would be a town",
    low_open=True,
)
SEX_RATIO = Measure(
    "males per female",
    0.8,
    1.3,
    "China's sex ratio at birth peaked near 1.2 (2004); whole populations lie near 1.05",
)
YUAN_PER_PERSON = Measure(
    "yuan per person",
    0,
    1_000_000,
    "China's highest average disposable income, Shanghai's, is about 85,000 a year",
)
YUAN_PER_YEAR = Measure(
    "yuan per year",
    0,
    1_000_000,
    "average wages and pensions; China's non-private wage averaged 120,698 in 2023",
)
BUDGET_100M = Measure(
    "100M yuan a year",
    0,
    300_000,
    "government budgets in 亿元; China's general budget spending was about 274,600亿 in 2023",
)
YUAN_PER_MONTH = Measure("yuan per month", 0, 100_000, "a twelfth of the yearly cap, rounded up")
YUAN_PER_MU = Measure(
    "yuan per mu per year",
    0,
    10_000,
    "Sichuan's land rents are 682-928 yuan a mu; parameters.csv caps crop income at 10,000",
)
KM = Measure(
    "km",
    0,
    5_000,
    "every place in China lies within about 3,500 km of Suining",
    low_open=True,
)
CIRCUITY = Measure(
    "road km per straight-line km",
    1,
    3,
    "a road is never shorter than the straight line; measured factors are 1.2-1.6",
)
MU = Measure("mu", 0, 2e9, "China's cultivated land is about 1.92 billion mu (2019 survey)")
MU_PER_PERSON = Measure(
    "mu per rural-hukou person",
    0,
    100,
    "China's contracted land averages about 2 mu per rural person",
)
YEARS = Measure("years", 0, 120, "a human lifetime", low_open=True)
PER_BIRTH = Measure("per birth", 0, 1, "a probability per birth")
BIRTHS_PER_WOMAN = Measure(
    "births per woman", 0, 10, "no country's total fertility rate is above 7 today"
)
CRUDE_RATE = Measure(
    "per person per year",
    0,
    0.1,
    "crude birth and death rates; the highest in the world are about 0.045",
)
RATIO = Measure("ratio", 0, 100, "a ratio of two positive amounts", low_open=True)
INCOME_RATIO = Measure(
    "ratio",
    1,
    10,
    "urban incomes exceed rural ones across China; the national ratio peaked at 3.3 in 2009",
)
RELATIVE = Measure(
    "relative", 0, 100, "a weight against a reference of 1; none is 100 times the reference"
)
GROWTH = Measure("per year", -0.5, 1, "an average income neither halves nor doubles within a year")

# Every unit_of_measure the files may use. "fraction of ..." (naming the whole) is a
# fraction too; any other text is refused.
MEASURES: dict[str, Measure] = {
    "fraction": FRACTION,
    "persons": PERSONS,
    "persons per household": PERSONS_PER_HOUSEHOLD,
    "persons per 100000": PER_100K,
    "registered persons per administrative village": PERSONS_PER_VILLAGE,
    "males per female": SEX_RATIO,
    "yuan per person": YUAN_PER_PERSON,
    "yuan per person (Jan-Jun)": YUAN_PER_PERSON,
    "yuan per year": YUAN_PER_YEAR,
    "yuan per month": YUAN_PER_MONTH,
    "100M yuan a year": BUDGET_100M,
    "yuan per mu per year": YUAN_PER_MU,
    "km": KM,
    "road km per straight-line km": CIRCUITY,
    "mu": MU,
    "mu per rural-hukou person": MU_PER_PERSON,
    "years": YEARS,
    "per birth": PER_BIRTH,
    "births per woman": BIRTHS_PER_WOMAN,
    "per person per year": CRUDE_RATE,
    "ratio": RATIO,
    "relative": RELATIVE,
    "relative propensity to live away": RELATIVE,
}
FRACTION_OF = "fraction of "

# The measure of each indicator that the model reads or that history.csv and
# targets.csv may hold; a figure of one of these must use a unit_of_measure of this kind
# and lie in this range.
INDICATORS: dict[str, Measure] = {
    "resident_population": PERSONS,
    "registered_population": PERSONS,
    "urban_resident_population": PERSONS,
    "external_residents": PERSONS,
    **dict.fromkeys(COUNTY_FRACTIONS + OUTSIDE_FRACTIONS + CITY_FRACTIONS_2023, FRACTION),
    **dict.fromkeys(AWAY_WEIGHTS, RELATIVE),
    "sex_ratio": SEX_RATIO,
    "registered_household_size": PERSONS_PER_HOUSEHOLD,
    "persons_per_village": PERSONS_PER_VILLAGE,
    "land_per_rural_person": MU_PER_PERSON,
    "land_rent": YUAN_PER_MU,
    "road_circuity": CIRCUITY,
    "local_distance_km": KM,
    "town_to_seat_distance_km": KM,
    "distance_km": KM,
    "urban_income": YUAN_PER_PERSON,
    "rural_income": YUAN_PER_PERSON,
    "urban_income_per_capita": YUAN_PER_PERSON,
    "rural_income_per_capita": YUAN_PER_PERSON,
    "abandoned_land_rate": FRACTION,
    **{
        f"{area}_{source}_income_per_capita": YUAN_PER_PERSON
        for area in ("urban", "rural")
        for source in ("wage", "operating", "property", "transfer")
    },
    "income_ratio": INCOME_RATIO,
    "income_ratio_h1": INCOME_RATIO,
    "urban_income_growth": GROWTH,
    "rural_income_growth": GROWTH,
    "birth_rate": CRUDE_RATE,
    "death_rate": CRUDE_RATE,
}


# --- field types -----------------------------------------------------------------------


def invalid(reason: str, column: str | None = None) -> PydanticCustomError:
    """A row error whose message is ``reason`` (``column`` for rules over several fields)."""
    return PydanticCustomError("data", "{reason}", {"reason": reason, "column": column})


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) and abs(value) >= 1000 else f"{value:g}"


def _blank_to_none(text: Any) -> Any:
    return None if text == "" else text


def _between(low: float, high: float, what: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is not None and not low <= value <= high:
            raise invalid(f"is outside [{low:g}, {high:g}], the range of {what}")
        return value

    return check


def _one_of(allowed: Iterable[str]) -> Callable[[str], str]:
    choices = tuple(sorted(allowed))

    def check(value: str) -> str:
        if value not in choices:
            raise invalid(f"is not one of {', '.join(c or '(empty)' for c in choices)}")
        return value

    return check


def _region_unit(areas: tuple[str, ...]) -> Callable[[str, ValidationInfo], str]:
    """An aggregate area or one of the region's counties (``county_keys`` in the context)."""

    def check(value: str, info: ValidationInfo) -> str:
        return _one_of((*areas, *(info.context or {}).get("county_keys", ())))(value)

    return check


def _treated_counties(value: str, info: ValidationInfo) -> str:
    counties = (info.context or {}).get("county_keys", ())
    names = value.split()
    if not names or any(n not in counties for n in names) or len(set(names)) != len(names):
        raise invalid(
            f"must name some of the region's counties ({', '.join(counties)}), space-separated, "
            f"each once"
        )
    if len(names) >= len(counties):
        raise invalid("leaves no control county; allowed fewer than all counties")
    return value


def _filled(text: str) -> str:
    if not text:
        raise invalid("is empty; a source or reason is required")
    return text


def _described(text: str) -> str:
    if not text:
        raise invalid("is empty; a name or description is required")
    return text


_KEY = re.compile(r"[a-z][a-z0-9_]*")


def _key(text: str) -> str:
    if not _KEY.fullmatch(text):
        raise invalid("is not a key (lower-case letters, digits and _, starting with a letter)")
    return text


Key = Annotated[str, AfterValidator(_key)]
OptionalKey = Annotated[
    str | None,
    BeforeValidator(_blank_to_none),
    AfterValidator(lambda text: None if text is None else _key(text)),
]
Source = Annotated[str, AfterValidator(_filled)]
Described = Annotated[str, AfterValidator(_described)]
Basis = Annotated[str, AfterValidator(_one_of(BASES))]
Year = Annotated[int, AfterValidator(_between(FIRST_YEAR, LAST_YEAR, "a year"))]
OptionalYear = Annotated[
    int | None,
    BeforeValidator(_blank_to_none),
    AfterValidator(_between(FIRST_YEAR, LAST_YEAR, "a year")),
]
# yes/no columns of units.csv; blank where a column does not apply to the unit's kind.
OptionalFlag = Annotated[bool | None, BeforeValidator(_blank_to_none)]
Townships = Annotated[
    int | None,
    BeforeValidator(_blank_to_none),
    AfterValidator(_between(0, MAX_TOWNSHIPS, "a county's township-level units")),
]
Villages = Annotated[
    int | None,
    BeforeValidator(_blank_to_none),
    AfterValidator(_between(0, MAX_VILLAGES, "a county's villages")),
]
# Every unit lies in China: 73-136 degrees east, 3-54 degrees north.
Longitude = Annotated[
    float | None, BeforeValidator(_blank_to_none), AfterValidator(_between(73, 136, "China"))
]
Latitude = Annotated[
    float | None, BeforeValidator(_blank_to_none), AfterValidator(_between(3, 54, "China"))
]
Age = Annotated[int, AfterValidator(_between(0, OLDEST_AGE, "an age"))]
Share = Annotated[float, AfterValidator(_between(0, 1, "a fraction"))]


def measure_of(text: str) -> Measure | None:
    """The measure a unit_of_measure names, or None if it is not known."""
    if text.startswith(FRACTION_OF):
        return FRACTION
    return MEASURES.get(text)


def _check_value(value: float, indicator: str | None, unit_of_measure: str | None) -> float:
    measure = INDICATORS.get(indicator or "") or measure_of(unit_of_measure or "")
    if measure is not None and not measure.allows(value):
        whose = indicator if indicator in INDICATORS else f"unit_of_measure {measure.unit!r}"
        raise invalid(f"is outside {measure.describe()}, the range of {whose}: {measure.why}")
    return value


class Row(BaseModel):
    """One CSV row: numbers must be finite, values are read-only."""

    model_config = ConfigDict(allow_inf_nan=False, frozen=True, extra="forbid")


# --- one row model per file ------------------------------------------------------------


class UnitRow(Row):
    """A row of units.csv."""

    key: Key
    kind: Annotated[str, AfterValidator(_one_of(("city", "county", "outside")))]
    name_zh: Described
    name_en: Described
    subdistricts: Townships
    towns: Townships
    townships: Townships = None
    villages: Villages
    lon: Longitude
    lat: Latitude
    seat_labour_market: OptionalKey = None
    central: OptionalFlag = None
    county_area: OptionalFlag = None
    in_province: OptionalFlag = None
    source: str = ""

    @model_validator(mode="after")
    def _complete(self) -> UnitRow:
        if self.kind == "county" and (self.towns is None or self.subdistricts is None):
            raise invalid("is empty; a county needs its subdistricts and towns", "towns")
        if self.kind == "county" and (self.central is None or self.county_area is None):
            column = "central" if self.central is None else "county_area"
            raise invalid("is empty; a county says yes or no", column)
        if self.kind == "outside" and self.in_province is None:
            raise invalid("is empty; an outside destination says yes or no", "in_province")
        if self.kind == "outside" and (self.central or self.county_area):
            raise invalid("must be empty or no for an outside destination", "central")
        if (self.lon is None) != (self.lat is None):
            raise invalid("must be given together with lon (both or neither)", "lat")
        return self


class FigureRow(Row):
    """A row of facts.csv or assumptions.csv (fields in the order they are checked)."""

    unit: Key
    indicator: Key
    year: OptionalYear
    unit_of_measure: str
    value: float
    basis: Basis
    source: Source
    note: str

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, unit: str, info: ValidationInfo) -> str:
        allowed = (info.context or {}).get("figure_units", ())
        if unit not in allowed:
            raise invalid(f"is not one of {', '.join(allowed)}")
        return unit

    @field_validator("unit_of_measure")
    @classmethod
    def _known_measure(cls, text: str, info: ValidationInfo) -> str:
        measure = measure_of(text)
        if measure is None:
            known = ", ".join([*MEASURES, FRACTION_OF + "..."])
            raise invalid(f"is not a known unit of measure; allowed: {known}")
        expected = INDICATORS.get(info.data.get("indicator", ""))
        if expected is not None and measure.unit != expected.unit:
            raise invalid(f"does not suit {info.data['indicator']}, allowed: {expected.unit}")
        return text

    @field_validator("value")
    @classmethod
    def _plausible(cls, value: float, info: ValidationInfo) -> float:
        if "unit_of_measure" not in info.data:
            return value  # its own error is reported first
        return _check_value(value, info.data.get("indicator"), info.data["unit_of_measure"])


class AgeBandRow(Row):
    """A row of age_structure.csv."""

    age_from: Age
    age_to: Age
    share: Share
    basis: Basis
    source: Source

    @field_validator("age_to")
    @classmethod
    def _not_before_start(cls, age_to: int, info: ValidationInfo) -> int:
        start = info.data.get("age_from")
        if start is not None and age_to < start:
            raise invalid(f"is below age_from ({start}); a band ends at or after its start")
        return age_to


class BoundedRow(Row):
    """A row with an interval: ``low`` <= ``high`` (their columns: ``bound_columns``)."""

    bound_columns: ClassVar[tuple[str, str]] = ("low", "high")

    @field_validator("high", check_fields=False)
    @classmethod
    def _not_below_low(cls, high: float, info: ValidationInfo) -> float:
        low_column, high_column = cls.bound_columns
        if "low" in info.data and high < info.data["low"]:
            raise invalid(
                f"is below {low_column} ({info.data['low']:g}); "
                f"allowed: {high_column} >= {low_column}"
            )
        return high


class ParameterRow(BoundedRow):
    """A row of parameters.csv (the range is read before the value it bounds)."""

    bound_columns: ClassVar[tuple[str, str]] = ("min", "max")
    name: Annotated[str, AfterValidator(_key)]
    low: float = Field(alias="min")
    high: float = Field(alias="max")
    value: float
    unit: Described
    basis: Basis
    source: Source
    description: Described

    @field_validator("value")
    @classmethod
    def _in_range(cls, value: float, info: ValidationInfo) -> float:
        low, high = info.data.get("low"), info.data.get("high")
        if low is not None and high is not None and not low <= value <= high:
            raise invalid(
                f"puts parameter {info.data.get('name')}={value:g} outside its range "
                f"[{low:g}, {high:g}] (columns min, max)"
            )
        return value


class LeverEvidenceRow(BoundedRow):
    """A row of lever_evidence.csv: the interval of one mechanism parameter of a lever.

    ``parameter`` names a row of parameters.csv or ``default`` (the lever's 2023 value
    in the catalogue); then ``central`` is blank because the value lives there. Any
    other name is a value held elsewhere (named in the source) and gives ``central``.
    """

    lever: Key
    parameter: Key
    low: float
    central: Annotated[float | None, BeforeValidator(_blank_to_none)] = None
    high: float
    unit: Described
    basis: Basis
    source: Source
    design: Described
    note: str = ""

    @model_validator(mode="after")
    def _central_inside(self) -> LeverEvidenceRow:
        if self.central is not None and not self.low <= self.central <= self.high:
            raise invalid(
                f"puts central={self.central:g} outside the interval "
                f"[{self.low:g}, {self.high:g}] (columns low, high)",
                "central",
            )
        return self


class TargetRow(Row):
    """A row of targets.csv."""

    unit: Annotated[str, AfterValidator(_region_unit(TARGET_AREAS))]
    indicator: Annotated[str, AfterValidator(_one_of(INDICATORS))]
    year: Year
    value: float
    direction: Annotated[str, AfterValidator(_one_of(("at_least", "at_most")))]
    clause: Described
    basis: Basis
    source: Source

    @field_validator("value")
    @classmethod
    def _plausible(cls, value: float, info: ValidationInfo) -> float:
        return _check_value(value, info.data.get("indicator"), None)


class LeverDefaultRow(Row):
    """A row of levers.csv: a lever's 2023 value, for every county (all) or one county."""

    lever: Key
    unit: Annotated[str, AfterValidator(_region_unit(("all",)))]
    value: float
    basis: Basis
    source: Source


class ReplicationRow(Row):
    """A row of replications.csv: the counties a study design treats in this region."""

    replication: Key
    treated: Annotated[str, AfterValidator(_treated_counties)]
    note: str = ""


class HistoryRow(Row):
    """A row of history.csv."""

    unit: Annotated[str, AfterValidator(_region_unit(("city",)))]
    indicator: Annotated[str, AfterValidator(_one_of(INDICATORS))]
    year: Year
    value: float
    basis: Basis
    series_break: Annotated[str, AfterValidator(_one_of(SERIES_BREAKS))] = ""
    source: Source

    @field_validator("value")
    @classmethod
    def _plausible(cls, value: float, info: ValidationInfo) -> float:
        return _check_value(value, info.data.get("indicator"), None)


# Observed moments (observations.csv): what the calibration compares the model with.
STATISTICS = ("level", "change", "growth", "share")
OBSERVATION_AREAS = ("city", "county_area")
CENSUS_SIDES = ("post_census", "census", "pre_census", "across_break")
OBSERVATION_USES = ("fit", "holdout", "input", "context")
# An annual change of a share by more than 10 points, or a stock or income growing or
# shrinking by half in a year, is a misplaced digit for a prefecture's statistics.
CHANGE = Measure("per year", -0.1, 0.1, "a share does not move 10 points in a year")
MOMENT_GROWTH = Measure("per year", -0.5, 1, "a stock or income neither halves nor doubles yearly")


class ObservationRow(Row):
    """A row of observations.csv: one observed moment and how sure it is."""

    moment: Key
    unit: Annotated[str, AfterValidator(_region_unit(OBSERVATION_AREAS))]
    indicator: Annotated[str, AfterValidator(_one_of(INDICATORS))]
    statistic: Annotated[str, AfterValidator(_one_of(STATISTICS))]
    of: Annotated[str, AfterValidator(lambda t: t if not t else _one_of(INDICATORS)(t))] = ""
    year_from: OptionalYear = None
    year: Year
    value: float
    sd_obs: Annotated[float, AfterValidator(_between(1e-12, math.inf, "a standard deviation"))]
    sd_discrepancy: Annotated[float, AfterValidator(_between(0, math.inf, "a standard deviation"))]
    side: Annotated[str, AfterValidator(_one_of(CENSUS_SIDES))]
    use: Annotated[str, AfterValidator(_one_of(OBSERVATION_USES))]
    basis: Basis
    source: Source
    note: Source

    @model_validator(mode="after")
    def _consistent(self) -> ObservationRow:
        if (self.statistic == "share") != bool(self.of):
            raise invalid("names the total of a share, and only of a share", "of")
        if self.statistic == "share":
            if self.year_from is not None:
                raise invalid("must be empty for a share", "year_from")
            if not FRACTION.allows(self.value):
                raise invalid(f"is outside {FRACTION.describe()}, the range of a share", "value")
        elif self.statistic == "level":
            if self.year_from is not None:
                raise invalid(
                    "must be empty for a level (it is the first year of a change)", "year_from"
                )
            _check_value(self.value, self.indicator, None)
        else:
            if self.year_from is None or self.year_from >= self.year:
                raise invalid(
                    f"must be a year before {self.year} for a {self.statistic}", "year_from"
                )
            measure = CHANGE if self.statistic == "change" else MOMENT_GROWTH
            if not measure.allows(self.value):
                raise invalid(
                    f"is outside {measure.describe()}, the range of a {self.statistic} "
                    f"{measure.unit}: {measure.why}",
                    "value",
                )
        if self.use in ("fit", "holdout"):
            if self.side == "across_break":
                raise invalid(
                    "is across_break, which the census revision makes incomparable; allowed "
                    "use: context",
                    "use",
                )
            if self.side == "pre_census" and self.statistic == "level":
                raise invalid(
                    "is a pre-census level, revised by the 2020 census; use its change "
                    "instead, or allowed use: context",
                    "use",
                )
        return self


PRIOR_FAMILIES = ("uniform", "normal", "lognormal", "fixed")
PRIOR_BASES = ("evidence", "calibrated", "judgement")
# What a prior's uncertainty is about: the base year's state as the record gives it
# (levels of 2023), how the model behaves, or a lever's effect. A variance decomposition
# of the projections attributes uncertainty by these roles.
PRIOR_ROLES = ("base_data", "parameter", "lever")
LEVER_PRIOR = re.compile(r"lever:([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)")


def _prior_name(text: str) -> str:
    if text.startswith("lever:"):
        if not LEVER_PRIOR.fullmatch(text):
            raise invalid("is not lever:<lever>.<parameter> with keys as in lever_evidence.csv")
        return text
    return _key(text)


OptionalNumber = Annotated[float | None, BeforeValidator(_blank_to_none)]


class PriorRow(Row):
    """A row of priors.csv: the prior distribution of a parameter or a lever interval."""

    name: Annotated[str, AfterValidator(_prior_name)]
    family: Annotated[str, AfterValidator(_one_of(PRIOR_FAMILIES))]
    loc: OptionalNumber = None
    scale: OptionalNumber = None
    low: OptionalNumber = None
    high: OptionalNumber = None
    basis: Annotated[str, AfterValidator(_one_of(PRIOR_BASES))]
    role: Annotated[str, AfterValidator(_one_of(PRIOR_ROLES))]
    reasoning: Source

    @model_validator(mode="after")
    def _complete(self) -> PriorRow:
        if (self.role == "lever") != self.name.startswith("lever:"):
            allowed = "lever" if self.name.startswith("lever:") else "base_data or parameter"
            raise invalid(f"is {self.role}; allowed for {self.name}: {allowed}", "role")
        if self.family == "fixed":
            for column in ("loc", "scale", "low", "high"):
                if getattr(self, column) is not None:
                    raise invalid(
                        "must be empty for a fixed parameter (its value lives in parameters.csv)",
                        column,
                    )
            return self
        if self.low is None or self.high is None:
            raise invalid(
                "is empty; a prior needs its support [low, high]",
                "low" if self.low is None else "high",
            )
        if not self.low < self.high:
            raise invalid(f"is not above low ({self.low:g}); allowed: high > low", "high")
        if self.family == "uniform":
            for column in ("loc", "scale"):
                if getattr(self, column) is not None:
                    raise invalid("must be empty for a uniform prior", column)
            return self
        if self.loc is None or self.scale is None:
            raise invalid(
                f"is empty; a {self.family} prior needs loc and scale",
                "loc" if self.loc is None else "scale",
            )
        if self.scale <= 0:
            raise invalid("is not above 0; allowed: a positive standard deviation", "scale")
        if self.family == "lognormal" and (self.loc <= 0 or self.low <= 0):
            column = "loc" if self.loc <= 0 else "low"
            raise invalid("is not above 0; a lognormal prior lives on positive values", column)
        if not self.low <= self.loc <= self.high:
            raise invalid(
                f"lies outside [{self.low:g}, {self.high:g}]; the centre must lie in the support",
                "loc",
            )
        return self


# --- rules over a whole file -----------------------------------------------------------

Rows = list[tuple[int, Any]]  # (line, validated row)
# What the region's units.csv says to the other files' rules: county_keys, outside_keys,
# figure_units.
Context = Mapping[str, Any] | None


def where(path: Path, line: int | None = None) -> str:
    """``data file PATH`` or ``data file PATH line N``, printable on one line."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(path))
    return f"data file {shown}" + (f" line {line}" if line is not None else "")


def listed(items: list[str], limit: int = 6) -> str:
    """The first ``limit`` items joined by commas, and how many more there are."""
    head = ", ".join(items[:limit])
    return head + (f" and {len(items) - limit} more" if len(items) > limit else "")


def check_units(path: Path, rows: Rows, context: Context = None) -> None:
    """At least one county, the first the central city and no other; area names free."""
    counties = [(line, r) for line, r in rows if r.kind == "county"]
    keys = tuple(r.key for _, r in counties)
    if not counties:
        raise DataError(f"{where(path)}: no unit of kind county; a region needs at least one")
    reserved = [
        r.key
        for _, r in rows
        if r.key in (*TARGET_AREAS, *REFERENCE_AREAS) and (r.kind, r.key) != ("city", "city")
    ]
    if reserved:
        raise DataError(
            f"{where(path)}: unit key {reserved[0]} is reserved for an aggregate; allowed: "
            f"any other key"
        )
    cities = [(line, r) for line, r in rows if r.kind == "city"]
    if len(cities) != 1 or cities[0][1].key != "city":
        line = cities[1][0] if len(cities) > 1 else None
        raise DataError(
            f"{where(path, line)}: needs one row of kind city, key city, that names the "
            f"region as a whole; found {len(cities)}"
        )
    line, first = counties[0]
    if not first.central:
        raise DataError(
            f"{where(path, line)}: the first county, {first.key}, must be the central city "
            f"(central yes): the model lays the central city out first"
        )
    for line, r in counties[1:]:
        if r.central:
            raise DataError(
                f"{where(path, line)}: {r.key} is a second central city; allowed: one, the "
                f"first county"
            )
    for line, r in rows:
        joins = r.seat_labour_market
        if joins is None:
            continue
        if r.kind != "county" or joins not in keys or joins == r.key:
            raise DataError(
                f"{where(path, line)}: seat_labour_market {shown(joins)} must be another "
                f"county's key ({', '.join(keys)}), and only a county's seat can join one"
            )
        target = next(t for _, t in rows if t.key == joins)
        if target.seat_labour_market is not None:
            raise DataError(
                f"{where(path, line)}: seat_labour_market {joins} itself joins "
                f"{target.seat_labour_market}; name the market's own county instead"
            )


def check_age_bands(path: Path, rows: Rows, context: Context = None) -> None:
    """Bands contiguous from 0 to at least OLDEST_BAND_MIN_END; shares add to about 1."""
    if not rows:
        raise DataError(f"{where(path)}: no rows after the header; the age bands are required")
    expected = 0
    for line, row in rows:
        if row.age_from != expected:
            raise DataError(
                f"{where(path, line)}: column 'age_from' value '{row.age_from}' breaks the "
                f"bands; allowed: {expected} (contiguous from 0)"
            )
        expected = row.age_to + 1
    line, last = rows[-1]
    if last.age_to < OLDEST_BAND_MIN_END:
        raise DataError(
            f"{where(path, line)}: column 'age_to' value '{last.age_to}' ends the last band; "
            f"allowed: at least {OLDEST_BAND_MIN_END}, the model's oldest age band"
        )
    total = sum(r.share for _, r in rows)
    if abs(total - 1) > SHARE_SUM_TOLERANCE:
        raise DataError(
            f"{where(path)}: shares add to {total:.4f}, allowed "
            f"{1 - SHARE_SUM_TOLERANCE:g}-{1 + SHARE_SUM_TOLERANCE:g}"
        )


def check_parameters(path: Path, rows: Rows, context: Context = None) -> None:
    """Every parameter the model reads is given (per-destination ones for each)."""
    given = {r.name for _, r in rows}
    needed = required_parameters((context or {}).get("outside_keys", ()))
    missing = [name for name in needed if name not in given]
    if missing:
        raise DataError(
            f"{where(path)}: missing parameter(s) {listed(missing)}; the model reads them, "
            f"so each needs a row"
        )


def check_targets(path: Path, rows: Rows, context: Context = None) -> None:
    """The decision's target indicators have targets."""
    given = {(r.unit, r.indicator, r.year) for _, r in rows}
    missing = ["/".join(map(str, key)) for key in REQUIRED_TARGETS if key not in given]
    if missing:
        raise DataError(
            f"{where(path)}: no target for {listed(missing)}; each of the decision's three "
            f"target indicators needs one for 2027 and 2035"
        )


def check_history(path: Path, rows: Rows, context: Context = None) -> None:
    """The record of the past is not empty (a header alone is a truncated file)."""
    if not rows:
        raise DataError(f"{where(path)}: no rows after the header; the record is required")


def check_observations(path: Path, rows: Rows, context: Context = None) -> None:
    """Something to fit: at least one moment with use 'fit'."""
    if not any(r.use == "fit" for _, r in rows):
        raise DataError(f"{where(path)}: no moment with use 'fit'; a calibration needs one")


@dataclass(frozen=True)
class Table:
    """A file's schema: its row model, the columns no two rows may share, its file rule."""

    row: type[Row]
    key: tuple[str, ...] = ()
    check: Callable[[Path, Rows, Context], None] | None = None


# facts.csv and assumptions.csv share one key across both files (check_figures_unique).
TABLES: dict[str, Table] = {
    "units.csv": Table(UnitRow, ("key",), check_units),
    "facts.csv": Table(FigureRow),
    "assumptions.csv": Table(FigureRow),
    "age_structure.csv": Table(AgeBandRow, ("age_from",), check_age_bands),
    "parameters.csv": Table(ParameterRow, ("name",), check_parameters),
    "targets.csv": Table(TargetRow, ("unit", "indicator", "year"), check_targets),
    "history.csv": Table(HistoryRow, ("unit", "indicator", "year"), check_history),
    "lever_evidence.csv": Table(LeverEvidenceRow, ("lever", "parameter")),
    "observations.csv": Table(ObservationRow, ("moment",), check_observations),
    "priors.csv": Table(PriorRow, ("name",)),
    "replications.csv": Table(ReplicationRow, ("replication",)),
    "levers.csv": Table(LeverDefaultRow, ("lever", "unit")),
}
