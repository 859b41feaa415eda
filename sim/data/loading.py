"""Reading the data folder: CSV text to validated rows to :class:`~sim.data.RegionData`.

The rules live in :mod:`sim.data.schema`; this module reads the CSV files robustly,
applies the rules and turns the first broken one into a one-line
:class:`~sim.errors.DataError`.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from sim.data import (
    Figure,
    LeverDefault,
    LeverEvidence,
    Observation,
    ParameterSpec,
    PriorSpec,
    RegionData,
    Target,
    Unit,
    calibration_hash,
    data_hash,
)
from sim.data.consistency import Located, check_figures
from sim.data.schema import REFERENCE_AREAS, TABLES, Row, Rows, Table, listed, where
from sim.errors import DataError, shown


def _columns(row_model: type[Row]) -> tuple[list[str], list[str]]:
    required, optional = [], []
    for name, field in row_model.model_fields.items():
        (required if field.is_required() else optional).append(field.alias or name)
    return required, optional


def read_csv(path: Path, table: Table) -> list[tuple[int, dict[str, str]]]:
    """The file's rows as (line, column -> stripped text), after checking its shape.

    Raises:
        DataError: Missing, unreadable, not UTF-8, empty, a bad header, a row whose
            fields do not match the header, or a quoted field that runs past its line.
    """
    if not path.is_file():
        raise DataError(f"{where(path)}: missing")
    start = 1
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:  # -sig: drop a BOM
            records = []
            reader = csv.reader(handle)
            for fields in reader:
                records.append((start, fields))
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{where(path)}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except csv.Error as exc:
        raise DataError(f"{where(path, start)}: malformed CSV ({exc})") from None
    except OSError as exc:
        raise DataError(f"{where(path)}: cannot be read ({exc.strerror})") from None
    return _rows(path, table, records)


def _rows(
    path: Path, table: Table, records: list[tuple[int, list[str]]]
) -> list[tuple[int, dict[str, str]]]:
    required, optional = _columns(table.row)
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    for line, fields in records:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue  # a blank line
        for text in fields:
            if "\n" in text or "\r" in text:
                raise DataError(
                    f"{where(path, line)}: a quoted field runs past the end of the line "
                    f"(unclosed quote?)"
                )
        if header is None:
            header = [text.strip() for text in fields]
            _check_header(path, line, header, required, optional)
            continue
        if len(fields) != len(header):
            more = "more" if len(fields) > len(header) else "fewer"
            raise DataError(
                f"{where(path, line)}: {more} fields than columns ({len(fields)} fields, "
                f"the header has {len(header)} columns)"
            )
        rows.append((line, {c: text.strip() for c, text in zip(header, fields, strict=True)}))
    if header is None:
        raise DataError(f"{where(path)}: empty; expected a header row: {', '.join(required)}")
    return rows


def _check_header(
    path: Path, line: int, header: list[str], required: list[str], optional: list[str]
) -> None:
    doubled = sorted({c for c in header if header.count(c) > 1})
    if doubled:
        raise DataError(f"{where(path, line)}: column(s) {shown(', '.join(doubled))} given twice")
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(f"{where(path)}: missing column(s) {', '.join(missing)}")
    unknown = [c for c in header if c not in required and c not in optional]
    if unknown:
        raise DataError(
            f"{where(path, line)}: unknown column(s) {shown(', '.join(unknown))}; allowed: "
            f"{', '.join(required + optional)}"
        )


def _reason(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind in ("float_parsing", "float_type"):
        return "is not a number"
    if kind == "finite_number":
        return "is not finite"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "is not a whole number"
    return str(error["msg"])


def validate_rows(path: Path, table: Table, context: dict[str, Any] | None = None) -> Rows:
    """The file's rows validated against ``table``; its key and its file rule checked.

    Raises:
        DataError: The first row, key or file rule that fails, on one line.
    """
    rows = []
    seen: dict[tuple, int] = {}
    for line, fields in read_csv(path, table):
        try:
            row = table.row.model_validate(fields, context=context)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            column = error["loc"][0] if error["loc"] else (error.get("ctx") or {}).get("column")
            raise DataError(
                f"{where(path, line)}: column {column!r} value {shown(fields.get(column, ''))} "
                f"{_reason(error)}"
            ) from None
        if table.key:
            key = tuple(getattr(row, name) for name in table.key)
            if key in seen:
                raise DataError(
                    f"{where(path, line)}: {'/'.join(map(str, key))} is given twice (first on "
                    f"line {seen[key]}); allowed: one row per {', '.join(table.key)}"
                )
            seen[key] = line
        rows.append((line, row))
    if table.check is not None:
        table.check(path, rows, context)
    return rows


def _unit(row: Any) -> Unit:
    return Unit(
        key=row.key,
        kind=row.kind,
        name_zh=row.name_zh,
        name_en=row.name_en,
        subdistricts=row.subdistricts or 0,
        towns=(row.towns or 0) + (row.townships or 0),
        villages=row.villages,
        lon=row.lon,
        lat=row.lat,
        source=row.source,
        seat_labour_market=row.seat_labour_market,
        central=bool(row.central),
        county_area=bool(row.county_area),
        in_province=row.in_province is not False,
    )


def _figure(row: Any, file: str) -> Figure:
    return Figure(
        unit=row.unit,
        indicator=row.indicator,
        year="" if row.year is None else str(row.year),
        value=row.value,
        unit_of_measure=row.unit_of_measure,
        basis=row.basis,
        source=row.source,
        note=row.note,
        file=file,
    )


def unit_context(unit_rows: Rows) -> dict[str, Any]:
    """What the units say to the other files' rules (see ``sim.data.schema.Context``)."""
    return {
        "figure_units": (
            "city",
            *(r.key for _, r in unit_rows if r.kind != "city"),
            *REFERENCE_AREAS,
        ),
        "county_keys": tuple(r.key for _, r in unit_rows if r.kind == "county"),
        "outside_keys": tuple(r.key for _, r in unit_rows if r.kind == "outside"),
    }


def _figures(folder: Path, unit_rows: Rows) -> tuple[dict, dict]:
    context = unit_context(unit_rows)
    figures: dict[tuple[str, str, str], Figure] = {}
    located: dict[tuple[str, str, str], Located] = {}
    for name in ("facts.csv", "assumptions.csv"):
        path = folder / name
        for line, row in validate_rows(path, TABLES[name], context):
            figure = _figure(row, name)
            key = (figure.unit, figure.indicator, figure.year)
            if key in located:
                first = located[key]
                raise DataError(
                    f"{where(path, line)}: figure {'/'.join(key)} is given twice (first in "
                    f"{first.path.name} line {first.line}); allowed: one row per unit, "
                    f"indicator and year across facts.csv and assumptions.csv"
                )
            figures[key] = figure
            located[key] = Located(figure.value, path, line)
    return figures, located


def read_region(folder: Path) -> RegionData:
    """Read, validate and cross-check every file of ``folder``.

    Raises:
        DataError: The first rule a file breaks, on one line naming the file.
    """
    unit_rows = validate_rows(folder / "units.csv", TABLES["units.csv"])
    context = unit_context(unit_rows)
    figures, located = _figures(folder, unit_rows)
    check_figures(located, unit_rows, folder)
    ages = validate_rows(folder / "age_structure.csv", TABLES["age_structure.csv"])
    shares = [r.share for _, r in ages]
    parameters = {
        r.name: ParameterSpec(
            name=r.name,
            value=r.value,
            unit=r.unit,
            low=r.low,
            high=r.high,
            basis=r.basis,
            source=r.source,
            description=r.description,
        )
        for _, r in validate_rows(folder / "parameters.csv", TABLES["parameters.csv"], context)
    }
    targets = tuple(
        Target(
            unit=r.unit,
            indicator=r.indicator,
            year=r.year,
            value=r.value,
            direction=r.direction,
            clause=r.clause,
            basis=r.basis,
            source=r.source,
        )
        for _, r in validate_rows(folder / "targets.csv", TABLES["targets.csv"], context)
    )
    history = tuple(
        {
            "unit": r.unit,
            "indicator": r.indicator,
            "year": r.year,
            "value": r.value,
            "basis": r.basis,
            "series_break": r.series_break,
            "source": r.source,
        }
        for _, r in validate_rows(folder / "history.csv", TABLES["history.csv"], context)
    )
    evidence = _lever_evidence(folder / "lever_evidence.csv", parameters)
    return RegionData(
        units=tuple(_unit(r) for _, r in unit_rows),
        figures=figures,
        age_bands=np.array([(r.age_from, r.age_to) for _, r in ages], dtype=np.int64),
        age_shares=np.array(shares) / sum(shares),
        parameters=parameters,
        targets=targets,
        history=history,
        data_dir=folder,
        data_hash=data_hash(folder),
        lever_evidence=evidence,
        observations=_observations(folder / "observations.csv", context),
        priors=_priors(folder / "priors.csv", parameters, evidence),
        calibration_hash=calibration_hash(folder),
        replication_treated=_replications(folder / "replications.csv", context),
        lever_defaults=tuple(
            LeverDefault(**r.model_dump())
            for _, r in validate_rows(folder / "levers.csv", TABLES["levers.csv"], context)
        ),
    )


def _replications(path: Path, context: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    if not path.is_file():
        return {}
    rows = validate_rows(path, TABLES["replications.csv"], context)
    return {r.replication: tuple(r.treated.split()) for _, r in rows}


def _observations(path: Path, context: dict[str, Any]) -> tuple[Observation, ...]:
    if not path.is_file():
        return ()
    rows = validate_rows(path, TABLES["observations.csv"], context)
    return tuple(Observation(**r.model_dump()) for _, r in rows)


def _priors(
    path: Path, parameters: dict[str, ParameterSpec], evidence: tuple[LeverEvidence, ...]
) -> dict[str, PriorSpec]:
    """The priors, each checked against what it is a prior of.

    A parameter's prior lies inside the parameter's allowed range and holds its current
    value; a lever's prior (``lever:<lever>.<parameter>``, for a catalogue default or a
    value held outside parameters.csv) lies inside the evidence interval it stands for.
    Every parameter that is not sourced, and every such lever interval, has a prior
    (``fixed`` declares one held at its value).
    """
    if not path.is_file():
        return {}
    intervals = {f"lever:{e.lever}.{e.parameter}": e for e in evidence}
    priors: dict[str, PriorSpec] = {}
    for line, r in validate_rows(path, TABLES["priors.csv"]):
        spec = PriorSpec(**r.model_dump())
        if spec.name.startswith("lever:"):
            interval = intervals.get(spec.name)
            if interval is None:
                raise DataError(
                    f"{where(path, line)}: {spec.name} names no row of lever_evidence.csv; "
                    f"allowed: lever:<lever>.<parameter> of one of its rows"
                )
            if interval.parameter in parameters:
                raise DataError(
                    f"{where(path, line)}: {spec.name}: {interval.parameter} is a parameter, "
                    f"whose own row is its prior; allowed: one prior per value"
                )
            low, high, what = interval.low, interval.high, "its evidence interval"
            value = interval.central
        else:
            parameter = parameters.get(spec.name)
            if parameter is None:
                raise DataError(
                    f"{where(path, line)}: {spec.name!r} is not a parameter of parameters.csv"
                )
            low, high, what = parameter.low, parameter.high, "the parameter's allowed range"
            value = parameter.value
        if spec.family != "fixed":
            if spec.low < low or spec.high > high:
                raise DataError(
                    f"{where(path, line)}: {spec.name} prior [{spec.low:g}, {spec.high:g}] "
                    f"reaches outside [{low:g}, {high:g}], {what}"
                )
            if value is not None and not spec.low <= value <= spec.high:
                raise DataError(
                    f"{where(path, line)}: {spec.name} = {value:g} lies outside its prior "
                    f"[{spec.low:g}, {spec.high:g}]; a prior must hold the value in use"
                )
        priors[spec.name] = spec
    missing = [
        name
        for name, parameter in parameters.items()
        if parameter.basis != "sourced" and name not in priors
    ]
    for name, interval in intervals.items():
        own = interval.parameter if interval.parameter in parameters else name
        if own not in priors and own not in missing:
            missing.append(own)
    if missing:
        raise DataError(
            f"{where(path)}: no prior for {listed(missing)}; every parameter that is not "
            f"sourced and every lever interval needs one (family 'fixed' to hold it)"
        )
    return priors


def _lever_evidence(path: Path, parameters: dict) -> tuple[LeverEvidence, ...]:
    """Evidence rows with the central value read where it lives (one place per value)."""
    out = []
    for line, r in validate_rows(path, TABLES["lever_evidence.csv"]):
        spec = parameters.get(r.parameter)
        central = r.central
        if spec is not None:
            if central is not None:
                raise DataError(
                    f"{where(path, line)}: central={central:g} for {r.parameter}, whose value "
                    f"lives in parameters.csv; leave central blank (one place per value)"
                )
            central = spec.value
            if not r.low <= central <= r.high:
                raise DataError(
                    f"{where(path, line)}: {r.parameter}={central:g} (parameters.csv) lies "
                    f"outside the interval [{r.low:g}, {r.high:g}]; the central value must "
                    f"lie inside it"
                )
        elif central is None and r.parameter != "default":
            raise DataError(
                f"{where(path, line)}: parameter {r.parameter!r} is neither in parameters.csv "
                f"nor 'default', so central must be given"
            )
        out.append(
            LeverEvidence(
                r.lever,
                r.parameter,
                r.low,
                central,
                r.high,
                r.unit,
                r.basis,
                r.source,
                r.design,
                r.note,
            )
        )
    return tuple(out)
