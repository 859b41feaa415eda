"""Region data: sourced facts, documented assumptions, parameters and targets.

Every figure the model uses lives in a CSV file of this folder with its source; gaps are
filled by rows of ``assumptions.csv`` whose ``basis`` says so. :func:`load_region` reads
and validates the files and returns a :class:`RegionData`. A malformed or missing file
raises :class:`~sim.errors.DataError` with a one-line message naming the file, row and
column.
"""

from __future__ import annotations

import csv
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import DataError

DEFAULT_DATA_DIR = Path(__file__).parent
DATA_FILES = (
    "units.csv",
    "facts.csv",
    "assumptions.csv",
    "age_structure.csv",
    "parameters.csv",
    "targets.csv",
    "history.csv",
)
COUNTY_KEYS = ("chuanshan", "anju", "shehong", "pengxi", "daying")
OUTSIDE_KEYS = ("chengdu", "chongqing", "rest_of_sichuan", "other_provinces")
BASES = {"sourced", "derived", "computed", "assumption", "calibrated"}
_FIGURE_COLUMNS = (
    "unit",
    "indicator",
    "year",
    "value",
    "unit_of_measure",
    "basis",
    "source",
    "note",
)


@dataclass(frozen=True)
class Figure:
    """One number with its provenance."""

    unit: str
    indicator: str
    year: str
    value: float
    unit_of_measure: str
    basis: str
    source: str
    note: str
    file: str


@dataclass(frozen=True)
class Unit:
    """A county-level unit of Suining or an outside destination."""

    key: str
    kind: str
    name_zh: str
    name_en: str
    subdistricts: int
    towns: int
    villages: int | None
    lon: float | None
    lat: float | None
    source: str


@dataclass(frozen=True)
class ParameterSpec:
    """A behavioural parameter: value, unit, allowed range and provenance."""

    name: str
    value: float
    unit: str
    low: float
    high: float
    basis: str
    source: str
    description: str


@dataclass(frozen=True)
class Target:
    """A target of the decision (or a configurable 2035 threshold)."""

    unit: str
    indicator: str
    year: int
    value: float
    direction: str
    clause: str
    basis: str
    source: str

    def met(self, value):
        """Whether ``value`` (a number or a pandas Series) meets the target."""
        return value <= self.value if self.direction == "at_most" else value >= self.value


@dataclass(frozen=True)
class RegionData:
    """Everything the model reads from the data folder."""

    units: tuple[Unit, ...]
    figures: dict[tuple[str, str, str], Figure]
    age_bands: np.ndarray
    age_shares: np.ndarray
    parameters: dict[str, ParameterSpec]
    targets: tuple[Target, ...]
    history: tuple[dict, ...]
    data_dir: Path
    data_hash: str

    @property
    def counties(self) -> tuple[Unit, ...]:
        """The five county-level units, in the canonical order."""
        return tuple(u for u in self.units if u.kind == "county")

    @property
    def outside(self) -> tuple[Unit, ...]:
        """The outside destinations, in the canonical order."""
        return tuple(u for u in self.units if u.kind == "outside")

    def value(self, unit: str, indicator: str, year: int | str = "") -> float:
        """Return one figure's value; raise DataError naming the missing key."""
        key = (unit, indicator, str(year))
        if key not in self.figures:
            raise DataError(
                f"data: no figure for unit={unit!r} indicator={indicator!r} year={year!r} "
                f"in facts.csv or assumptions.csv"
            )
        return self.figures[key].value


def _open_rows(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.is_file():
        raise DataError(f"data file {path}: missing")
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in required if c not in header]
            if missing:
                raise DataError(f"data file {path}: missing column(s) {', '.join(missing)}")
            rows = []
            for line, row in enumerate(reader, start=2):
                if None in row:
                    raise DataError(f"data file {path} line {line}: more fields than columns")
                row["_line"] = str(line)
                rows.append(row)
            return rows
    except UnicodeDecodeError as exc:
        raise DataError(f"data file {path}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise DataError(f"data file {path}: malformed CSV ({exc})") from None


def _number(path: Path, row: dict[str, str], column: str, *, optional: bool = False) -> float:
    text = (row.get(column) or "").strip()
    if not text and optional:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise DataError(
            f"data file {path} line {row['_line']}: column {column!r} value {text!r} "
            f"is not a number"
        ) from None
    if not math.isfinite(value):
        raise DataError(
            f"data file {path} line {row['_line']}: column {column!r} value {text!r} is not finite"
        )
    return value


def _basis(path: Path, row: dict[str, str]) -> str:
    basis = row["basis"].strip()
    if basis not in BASES:
        raise DataError(
            f"data file {path} line {row['_line']}: basis {basis!r} not one of "
            f"{', '.join(sorted(BASES))}"
        )
    return basis


def _read_units(path: Path) -> tuple[Unit, ...]:
    rows = _open_rows(
        path,
        ("key", "kind", "name_zh", "name_en", "subdistricts", "towns", "villages", "lon", "lat"),
    )
    units = []
    for row in rows:
        kind = row["kind"].strip()
        if kind not in ("county", "outside"):
            raise DataError(
                f"data file {path} line {row['_line']}: kind {kind!r} not county or outside"
            )
        lon = _number(path, row, "lon", optional=True)
        lat = _number(path, row, "lat", optional=True)
        villages = _number(path, row, "villages", optional=True)
        towns = _number(path, row, "towns", optional=True)
        townships = _number(path, row, "townships", optional=True) if "townships" in row else 0
        subdistricts = _number(path, row, "subdistricts", optional=True)
        if kind == "county" and (math.isnan(towns) or math.isnan(subdistricts)):
            raise DataError(f"data file {path} line {row['_line']}: a county needs towns")
        units.append(
            Unit(
                key=row["key"].strip(),
                kind=kind,
                name_zh=row["name_zh"].strip(),
                name_en=row["name_en"].strip(),
                subdistricts=0 if math.isnan(subdistricts) else int(subdistricts),
                towns=0
                if math.isnan(towns)
                else int(towns) + (0 if math.isnan(townships) else int(townships)),
                villages=None if math.isnan(villages) else int(villages),
                lon=None if math.isnan(lon) else lon,
                lat=None if math.isnan(lat) else lat,
                source=row.get("source", ""),
            )
        )
    keys = tuple(u.key for u in units if u.kind == "county")
    outside = tuple(u.key for u in units if u.kind == "outside")
    if keys != COUNTY_KEYS or outside != OUTSIDE_KEYS:
        raise DataError(
            f"data file {path}: units must be {', '.join(COUNTY_KEYS + OUTSIDE_KEYS)} in this "
            f"order, found {', '.join(keys + outside)}"
        )
    return tuple(units)


def _read_figures(path: Path) -> list[Figure]:
    figures = []
    for row in _open_rows(path, _FIGURE_COLUMNS):
        if not row["source"].strip():
            raise DataError(f"data file {path} line {row['_line']}: no source or reason given")
        figures.append(
            Figure(
                unit=row["unit"].strip(),
                indicator=row["indicator"].strip(),
                year=row["year"].strip(),
                value=_number(path, row, "value"),
                unit_of_measure=row["unit_of_measure"].strip(),
                basis=_basis(path, row),
                source=row["source"].strip(),
                note=row["note"].strip(),
                file=path.name,
            )
        )
    return figures


def _read_ages(path: Path) -> tuple[np.ndarray, np.ndarray]:
    rows = _open_rows(path, ("age_from", "age_to", "share", "basis", "source"))
    bands, shares = [], []
    expected_from = 0
    for row in rows:
        lo, hi = int(_number(path, row, "age_from")), int(_number(path, row, "age_to"))
        share = _number(path, row, "share")
        _basis(path, row)
        if lo != expected_from or hi < lo or share < 0:
            raise DataError(
                f"data file {path} line {row['_line']}: age bands must be contiguous from 0 "
                f"with non-negative shares (got {lo}-{hi}, {share})"
            )
        expected_from = hi + 1
        bands.append((lo, hi))
        shares.append(share)
    total = sum(shares)
    if not 0.98 <= total <= 1.02:
        raise DataError(f"data file {path}: shares add to {total:.4f}, allowed 0.98-1.02")
    return np.array(bands, dtype=np.int64), np.array(shares) / total


def _read_parameters(path: Path) -> dict[str, ParameterSpec]:
    rows = _open_rows(
        path, ("name", "value", "unit", "min", "max", "basis", "source", "description")
    )
    specs: dict[str, ParameterSpec] = {}
    for row in rows:
        name = row["name"].strip()
        if name in specs:
            raise DataError(f"data file {path} line {row['_line']}: duplicate parameter {name!r}")
        if not row["source"].strip():
            raise DataError(f"data file {path} line {row['_line']}: no source or reason given")
        value = _number(path, row, "value")
        low, high = _number(path, row, "min"), _number(path, row, "max")
        if not low <= value <= high:
            raise DataError(
                f"data file {path} line {row['_line']}: parameter {name}={value:g} outside its "
                f"range [{low:g}, {high:g}]"
            )
        specs[name] = ParameterSpec(
            name=name,
            value=value,
            unit=row["unit"].strip(),
            low=low,
            high=high,
            basis=_basis(path, row),
            source=row["source"].strip(),
            description=row["description"].strip(),
        )
    return specs


def _read_targets(path: Path) -> tuple[Target, ...]:
    rows = _open_rows(
        path, ("unit", "indicator", "year", "value", "direction", "clause", "basis", "source")
    )
    targets = []
    for row in rows:
        direction = row["direction"].strip()
        if direction not in ("at_least", "at_most"):
            raise DataError(
                f"data file {path} line {row['_line']}: direction {direction!r} not "
                f"at_least or at_most"
            )
        targets.append(
            Target(
                unit=row["unit"].strip(),
                indicator=row["indicator"].strip(),
                year=int(_number(path, row, "year")),
                value=_number(path, row, "value"),
                direction=direction,
                clause=row["clause"].strip(),
                basis=_basis(path, row),
                source=row["source"].strip(),
            )
        )
    return tuple(targets)


def _read_history(path: Path) -> tuple[dict, ...]:
    rows = _open_rows(path, ("unit", "indicator", "year", "value", "basis", "source"))
    out = []
    for row in rows:
        out.append(
            {
                "unit": row["unit"].strip(),
                "indicator": row["indicator"].strip(),
                "year": int(_number(path, row, "year")),
                "value": _number(path, row, "value"),
                "basis": _basis(path, row),
                "series_break": row.get("series_break", "").strip(),
                "source": row["source"].strip(),
            }
        )
    return tuple(out)


def data_hash(data_dir: Path) -> str:
    """SHA-256 over the data files' names and bytes, in a fixed order."""
    digest = hashlib.sha256()
    for name in DATA_FILES:
        path = data_dir / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()


def load_region(data_dir: str | Path | None = None) -> RegionData:
    """Read and validate the data folder.

    Args:
        data_dir: Folder holding the CSV files; the package's own data by default.

    Returns:
        The validated :class:`RegionData`.

    Raises:
        DataError: A file is missing or malformed; the message names it.
    """
    folder = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    if not folder.is_dir():
        raise DataError(f"data_dir {str(folder)!r}: not a directory")
    units = _read_units(folder / "units.csv")
    figures: dict[tuple[str, str, str], Figure] = {}
    for name in ("facts.csv", "assumptions.csv"):
        for fig in _read_figures(folder / name):
            key = (fig.unit, fig.indicator, fig.year)
            if key in figures:
                raise DataError(
                    f"data file {folder / name}: figure {fig.unit}/{fig.indicator}/{fig.year} "
                    f"is given twice"
                )
            figures[key] = fig
    bands, shares = _read_ages(folder / "age_structure.csv")
    return RegionData(
        units=units,
        figures=figures,
        age_bands=bands,
        age_shares=shares,
        parameters=_read_parameters(folder / "parameters.csv"),
        targets=_read_targets(folder / "targets.csv"),
        history=_read_history(folder / "history.csv"),
        data_dir=folder,
        data_hash=data_hash(folder),
    )
