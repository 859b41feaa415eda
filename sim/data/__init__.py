"""Region data: sourced facts, documented assumptions, parameters and targets.

Every figure the model uses lives in a CSV file of this folder with its source; gaps are
filled by rows of ``assumptions.csv`` whose ``basis`` says so. :func:`load_region` reads
and validates the files (rules in :mod:`sim.data.schema`, :mod:`sim.data.required` and
:mod:`sim.data.consistency`) and returns a :class:`RegionData`. A missing, malformed or
implausible file raises :class:`~sim.errors.DataError` with a one-line message naming
the file, line, column, value and what is allowed.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from sim.errors import DataError

# The library's regions: one folder of data files each (``sim/regions/<name>/``).
REGIONS_DIR = Path(__file__).parent.parent / "regions"
DEFAULT_REGION = "suining"
DEFAULT_DATA_DIR = REGIONS_DIR / DEFAULT_REGION
DATA_FILES = (
    "units.csv",
    "facts.csv",
    "assumptions.csv",
    "age_structure.csv",
    "parameters.csv",
    "targets.csv",
    "history.csv",
    "lever_evidence.csv",
    "levers.csv",
)
# What a calibration reads besides the model's data: the observed moments and the priors.
# Optional (a region without them cannot be calibrated); hashed on their own, so editing
# them does not make stored runs stale, only a posterior fitted to them.
CALIBRATION_FILES = ("observations.csv", "priors.csv")
# Optional too, read only by the virtual replications (sim/replications.py): which of the
# region's counties each study design treats. Runs never read it, so it is not hashed.
REPLICATION_FILE = "replications.csv"
BASES = {"sourced", "derived", "computed", "assumption", "calibrated"}


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
    """A county-level unit of the region or an outside destination."""

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
    seat_labour_market: str | None = None  # the county whose seat market this seat joins
    central: bool = False  # the central city (the first county)
    county_area: bool = False  # one of the counties that form the 县域 by default
    in_province: bool = True  # an outside destination in the region's province


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
class LeverEvidence:
    """The evidence interval of one mechanism parameter of a lever.

    ``central`` is the value the model uses: the parameter's value in parameters.csv,
    ``None`` for ``default`` (the catalogue's 2023 value, filled by ``sim.levers``), or
    a value held elsewhere that the row states.
    """

    lever: str
    parameter: str
    low: float
    central: float | None
    high: float
    unit: str
    basis: str
    source: str
    design: str
    note: str


@dataclass(frozen=True)
class LeverDefault:
    """A lever's 2023 value in the region: for every county (``unit`` all) or one."""

    lever: str
    unit: str
    value: float
    basis: str
    source: str


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
class Observation:
    """An observed moment of the record: a level, or an annual change between two years.

    ``statistic`` is ``level`` (the value in ``year``), ``change`` (the annual change of a
    share, ``(v[year] - v[year_from]) / years``) or ``growth`` (the annual growth of a
    stock or income, ``(v[year] / v[year_from]) ** (1 / years) - 1``) or ``share`` (the
    indicator over the total ``of`` in ``year``). ``sd_obs`` is the
    error of the observation; ``sd_discrepancy`` what the comparison adds (a trend before
    the model's start compared with the model's first years). ``use``: ``fit``,
    ``holdout`` (kept out of the fit, to validate), ``input`` (the start state is built
    to match it) or ``context`` (not comparable, for example a pre-census level).
    """

    moment: str
    unit: str
    indicator: str
    statistic: str
    of: str
    year_from: int | None
    year: int
    value: float
    sd_obs: float
    sd_discrepancy: float
    side: str
    use: str
    basis: str
    source: str
    note: str

    @property
    def sd(self) -> float:
        """The total error: observation and discrepancy, independent."""
        return float(np.hypot(self.sd_obs, self.sd_discrepancy))


@dataclass(frozen=True)
class PriorSpec:
    """The prior of a parameter (or ``lever:<lever>.<parameter>``) as priors.csv gives it."""

    name: str
    family: str
    loc: float | None
    scale: float | None
    low: float | None
    high: float | None
    basis: str
    role: str
    reasoning: str


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
    lever_evidence: tuple[LeverEvidence, ...] = ()
    observations: tuple[Observation, ...] = ()
    priors: dict[str, PriorSpec] = field(default_factory=dict)
    calibration_hash: str = ""
    replication_treated: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lever_defaults: tuple[LeverDefault, ...] = ()

    @property
    def counties(self) -> tuple[Unit, ...]:
        """The county-level units in file order, the central city first."""
        return tuple(u for u in self.units if u.kind == "county")

    @property
    def outside(self) -> tuple[Unit, ...]:
        """The outside destinations, in file order."""
        return tuple(u for u in self.units if u.kind == "outside")

    @property
    def county_keys(self) -> tuple[str, ...]:
        """The counties' keys, the central city first."""
        return tuple(u.key for u in self.counties)

    @property
    def outside_keys(self) -> tuple[str, ...]:
        """The outside destinations' keys."""
        return tuple(u.key for u in self.outside)

    @property
    def county_area_keys(self) -> tuple[str, ...]:
        """The counties that form the 县域 by default (units.csv, column county_area)."""
        return tuple(u.key for u in self.counties if u.county_area)

    def unit_names(self) -> dict[str, tuple[str, str]]:
        """Each unit's (Chinese, English) name by key, the region's own as ``city``."""
        return {u.key: (u.name_zh, u.name_en) for u in self.units}

    def value(self, unit: str, indicator: str, year: int | str = "") -> float:
        """Return one figure's value; raise DataError naming the missing key."""
        key = (unit, indicator, str(year))
        if key not in self.figures:
            raise DataError(
                f"data: no figure for unit={unit!r} indicator={indicator!r} year={year!r} "
                f"in facts.csv or assumptions.csv"
            )
        return self.figures[key].value


@cache
def region_county_keys(data_dir: Path = DEFAULT_DATA_DIR) -> tuple[str, ...]:
    """The county keys of a region folder, in order, read from its units.csv alone.

    Cheap (no validation): what lever plans need to lay out per-county values before a
    run loads and checks the whole folder (which then fails on a malformed units.csv).

    Raises:
        DataError: The folder has no readable units.csv.
    """
    path = Path(data_dir) / "units.csv"
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return tuple(
                row["key"] for row in csv.DictReader(handle) if row.get("kind") == "county"
            )
    except (OSError, KeyError, csv.Error, UnicodeDecodeError) as exc:
        raise DataError(f"data file {path}: cannot read the counties ({exc})") from None


def data_hash(data_dir: Path) -> str:
    """SHA-256 over the data files' names and bytes, in a fixed order."""
    digest = hashlib.sha256()
    for name in DATA_FILES:
        path = data_dir / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()


def calibration_hash(data_dir: Path) -> str:
    """SHA-256 over the model's data and the calibration's files: what a posterior fits."""
    digest = hashlib.sha256(data_hash(data_dir).encode())
    for name in CALIBRATION_FILES:
        path = data_dir / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()


def region_folder(region: str | Path | None = None) -> Path:
    """The folder of ``region``: a library region's name (``ronghe regions``) or a folder.

    A name without a path separator is looked up in the library first
    (``sim/regions/NAME``); anything else is a folder. None is the default region.
    """
    if region is None:
        return DEFAULT_DATA_DIR
    text = str(region)
    if "/" not in text and "\\" not in text and (REGIONS_DIR / text).is_dir():
        return REGIONS_DIR / text
    return Path(text)


def library_regions() -> dict[str, Path]:
    """The library's regions by name: every folder of ``sim/regions`` with a units.csv."""
    return {p.name: p for p in sorted(REGIONS_DIR.iterdir()) if (p / "units.csv").is_file()}


def load_region(data_dir: str | Path | None = None) -> RegionData:
    """Read and validate a region's data folder.

    Args:
        data_dir: A library region's name, or a folder holding the CSV files; the
            default region (``suining``) by default.

    Returns:
        The validated :class:`RegionData`.

    Raises:
        DataError: A file is missing or malformed; the message names it.
    """
    folder = region_folder(data_dir)
    if not folder.is_dir():
        raise DataError(
            f"region {str(data_dir)[:200]!r}: neither a library region ("
            f"{', '.join(library_regions())}) nor a directory"
        )
    # Imported here: validation needs pydantic (about 60 ms to import), which commands
    # that never read the data folder need not pay for.
    from sim.data.loading import read_region

    return read_region(folder)
