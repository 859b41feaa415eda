"""Helpers shared by the calibration scripts."""

from __future__ import annotations

import csv

from sim.data import DEFAULT_DATA_DIR


def write_calibrated(values: dict[str, float]) -> None:
    """Store calibrated values in sim/regions/suining/parameters.csv (basis "calibrated")."""
    path = DEFAULT_DATA_DIR / "parameters.csv"
    rows = list(csv.reader(path.open(encoding="utf-8")))
    header = rows[0]
    for row in rows[1:]:
        if row[0] in values:
            row[header.index("value")] = f"{values[row[0]]:.6g}"
            row[header.index("basis")] = "calibrated"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    print(f"wrote {path}")
