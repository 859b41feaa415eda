"""Rules across rows and files of the data folder.

Required figures, totals that must agree and shares that must add up. Each tolerance is
a named constant with the reason for its size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sim.data.required import required_figures
from sim.data.schema import SHARE_SUM_TOLERANCE, Rows, listed, where
from sim.errors import DataError

# The counties' populations must add to the city's. The shipped figures match within one
# person; 0.5% (about 14,000 residents) leaves room for rounding and for county figures
# taken from other sources than the city's, while staying below one year's change of the
# city's residents (-24,000 in 2023), so a mismatch cannot pass for a trend.
COUNTY_SUM_TOLERANCE = 0.005
# The counties' urban residents (rate x residents) must give the city's urban residents.
# Rates with four decimals reproduce them within 0.01%; 0.2% allows rates with three
# decimals and keeps the model's 2023 urbanisation within 0.12 points of the published
# one, a sixth of its average yearly rise (0.8 points).
URBAN_TOTAL_TOLERANCE = 0.002
# Urban residents / residents against the published rate: rates are published to 0.01
# points and counts to 100 persons; 0.05 points is ten times that rounding, small enough
# to catch a mistyped digit in the first three decimals.
RATE_ROUNDING_TOLERANCE = 0.0005

FigureKey = tuple[str, str, str]


@dataclass(frozen=True)
class Located:
    """A figure's value and the file and line it comes from."""

    value: float
    path: Path
    line: int

    @property
    def at(self) -> str:
        """``data file PATH line N``."""
        return where(self.path, self.line)

    @property
    def short(self) -> str:
        """``FILE line N``, for a second figure named in a message."""
        return f"{self.path.name} line {self.line}"


def _keys(units: Rows, kind: str) -> tuple[str, ...]:
    return tuple(r.key for _, r in units if r.kind == kind)


def check_required_figures(figures: Mapping[FigureKey, Located], units: Rows, folder: Path) -> None:
    """Every figure the model reads is given in facts.csv or assumptions.csv."""
    needed = required_figures(_keys(units, "county"), _keys(units, "outside"))
    missing = sorted(needed - set(figures))
    if missing:
        names = [f"{u}/{i}/{y or '(no year)'}" for u, i, y in missing]
        raise DataError(
            f"{where(folder / 'facts.csv')} and assumptions.csv: no figure for "
            f"{listed(names)}; the model reads these, so each needs a row in one of the files"
        )


def check_distances(figures: Mapping[FigureKey, Located], units: Rows, folder: Path) -> None:
    """An outside destination without coordinates has a distance_km figure."""
    for line, unit in units:
        placed = unit.lon is not None
        if unit.kind == "outside" and not placed and (unit.key, "distance_km", "") not in figures:
            raise DataError(
                f"{where(folder / 'units.csv', line)}: {unit.key} has no lon/lat, so facts.csv "
                f"or assumptions.csv must give its distance_km (with no year)"
            )


def _years(figures: Mapping[FigureKey, Located], unit: str, indicator: str) -> list[str]:
    return sorted(y for u, i, y in figures if u == unit and i == indicator)


def _all(
    figures: Mapping[FigureKey, Located], keys: tuple[str, ...], indicator: str, year: str
) -> list[Located] | None:
    """The figure of each unit of ``keys``, or None if one of them is not given."""
    parts = [figures.get((k, indicator, year)) for k in keys]
    return None if any(p is None for p in parts) else parts  # type: ignore[return-value]


def _relative_gap(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1.0)


def check_urban_within_residents(figures: Mapping[FigureKey, Located]) -> None:
    """Urban residents do not exceed residents, and match the urbanisation rate."""
    for (unit, indicator, year), urban in figures.items():
        if indicator != "urban_resident_population":
            continue
        total = figures.get((unit, "resident_population", year))
        if total is not None and urban.value > total.value:
            raise DataError(
                f"{urban.at}: urban_resident_population of {unit} in {year or '(no year)'} is "
                f"{urban.value:,.0f}, more than its resident_population {total.value:,.0f} "
                f"({total.short}); allowed: at most the residents"
            )
        rate = figures.get((unit, "resident_urbanisation_rate", year))
        if total is not None and rate is not None and total.value > 0:
            implied = urban.value / total.value
            if abs(implied - rate.value) > RATE_ROUNDING_TOLERANCE:
                raise DataError(
                    f"{rate.at}: resident_urbanisation_rate of {unit} in {year} is "
                    f"{rate.value:g}, but urban residents / residents give {implied:.4f}; "
                    f"allowed difference {RATE_ROUNDING_TOLERANCE:g}"
                )


def check_counties_add_up(figures: Mapping[FigureKey, Located], counties: tuple[str, ...]) -> None:
    """The counties' populations add up to the city's in every year given for all."""
    for indicator in ("resident_population", "registered_population", "urban_resident_population"):
        for year in _years(figures, "city", indicator):
            parts = _all(figures, counties, indicator, year)
            if parts is None:
                continue
            city = figures[("city", indicator, year)]
            total = sum(p.value for p in parts)
            if _relative_gap(total, city.value) > COUNTY_SUM_TOLERANCE:
                raise DataError(
                    f"{city.at}: the {len(counties)} counties' {indicator} in {year} add to "
                    f"{total:,.0f}, "
                    f"the city's is {city.value:,.0f}; allowed difference "
                    f"{COUNTY_SUM_TOLERANCE:.1%}"
                )


def check_urban_totals(figures: Mapping[FigureKey, Located], counties: tuple[str, ...]) -> None:
    """The counties' urban residents (rate x population) add up to the city's."""
    pairs = (
        ("resident_population", "resident_urbanisation_rate"),
        ("registered_population", "registered_urbanisation_rate"),
    )
    for population, rate in pairs:
        for year in _years(figures, "city", rate):
            needed = [(k, x, year) for k in ("city", *counties) for x in (population, rate)]
            if any(key not in figures for key in needed):
                continue
            urban = sum(
                figures[(k, population, year)].value * figures[(k, rate, year)].value
                for k in counties
            )
            city_rate = figures[("city", rate, year)]
            city = figures[("city", population, year)].value * city_rate.value
            if _relative_gap(urban, city) > URBAN_TOTAL_TOLERANCE:
                raise DataError(
                    f"{city_rate.at}: the counties' {rate} x {population} in {year} give "
                    f"{urban:,.0f} urban persons, the city's figures {city:,.0f}; allowed "
                    f"difference {URBAN_TOTAL_TOLERANCE:.1%}"
                )


def check_shares_add_to_one(
    figures: Mapping[FigureKey, Located], counties: tuple[str, ...], outside: tuple[str, ...]
) -> None:
    """A quantity split over counties or destinations is split whole."""
    splits = (
        (counties, "external_resident_share"),
        (outside, "external_origin_share"),
        (outside, "absent_destination_share"),
    )
    for keys, indicator in splits:
        for year in sorted({y for u, i, y in figures if i == indicator and u in keys}):
            parts = _all(figures, keys, indicator, year)
            if parts is None:
                continue
            total = sum(p.value for p in parts)
            if abs(total - 1) > SHARE_SUM_TOLERANCE:
                low, high = 1 - SHARE_SUM_TOLERANCE, 1 + SHARE_SUM_TOLERANCE
                raise DataError(
                    f"{parts[0].at}: {indicator} of {', '.join(keys)} in {year} add to "
                    f"{total:.4f}; allowed {low:g}-{high:g}"
                )


def check_figures(figures: Mapping[FigureKey, Located], units: Rows, folder: Path) -> None:
    """Run every rule across facts.csv, assumptions.csv and units.csv, in a fixed order."""
    counties, outside = _keys(units, "county"), _keys(units, "outside")
    check_required_figures(figures, units, folder)
    check_distances(figures, units, folder)
    check_urban_within_residents(figures)
    check_counties_add_up(figures, counties)
    check_urban_totals(figures, counties)
    check_shares_add_to_one(figures, counties, outside)
