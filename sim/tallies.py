"""What a run records each year: :class:`YearTally`, raw counts and sums in agent units.

The model fills one tally a year; :mod:`sim.indicators` turns them into the indicator
table. This module holds the result type only, so that the indicators and the charts
read a run's tallies without importing the model, numba or Mesa.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.levers import SPENDING_CATEGORIES

COMPONENTS = ("wage", "operating", "property", "transfer")
PYRAMID_BANDS = 18  # five-year age bands 0-4 ... 80-84, 85+


# Each array of a tally: its shape (counties C, outside destinations D), its type and
# its value before the year's first count.
C, D = "c", "d"  # counties, outside destinations
INT, FLOAT = np.int64, np.float64
SHAPES: dict[str, tuple[tuple, type, float]] = {
    "residents": ((C, 2), INT, 0),
    "registered": ((C, 2), INT, 0),
    "rural_old": ((C,), INT, 0),
    "outside_by_dest": ((D,), INT, 0),
    "workers": ((C, 2), INT, 0),
    "children": ((C, 2), INT, 0),
    "by_kind": ((C, 3), INT, 0),
    "registered_16_59": ((C, 3), INT, 0),
    "home_by_residence": ((C, "c+d"), INT, 0),
    "pyramid": ((2, 2, PYRAMID_BANDS), INT, 0),  # [urban, female, five-year band], 85+ last
    "income_sum": ((C, 2), FLOAT, 0),
    "component_sum": ((C, 2, 4), FLOAT, 0),
    "person_steps": ((C, 2), FLOAT, 0),
    "citizenised": ((C,), INT, 0),
    "hukou_out": ((C,), INT, 0),
    "hukou_in": ((C,), INT, 0),
    "births": ((C,), INT, 0),
    "deaths": ((C,), INT, 0),
    # Seat labour markets at the year's end: wage over its trend, 1 - employment
    # probability, and job seekers (agent units) to weight them.
    "seat_wage_relative": ((C,), FLOAT, 1),
    "seat_unemployment": ((C,), FLOAT, 0),
    "seat_seekers": ((C,), FLOAT, 0),
    # Rural-hukou persons registered in a county in wage work, [county, away / local],
    # and the sum of their ages.
    "migrant_workers": ((C, 2), INT, 0),
    "migrant_age_sum": ((C, 2), INT, 0),
    "land": ((C, 3), INT, 0),
    "seat_jobs": ((C,), INT, 0),
    "county_revenue": ((C,), FLOAT, 0),
    "county_balance": ((C,), FLOAT, 0),
    # yuan spent in the year by county and category
    "lever_spending": ((C, len(SPENDING_CATEGORIES)), FLOAT, 0),
    "other_spending": ((C,), FLOAT, 0),
    "capacity_spending": ((C,), FLOAT, 0),
    "capacity_cut": ((C,), FLOAT, 0),
    "service_index": ((C,), FLOAT, 1),
    "road_index": ((C,), FLOAT, 1),
    "agri_index": ((C,), FLOAT, 1),
    # Harris-Todaro expected incomes of the migration choice (yuan a year), summed over
    # the year's steps: the seat's wage x employment probability, and the home village's
    # income weighted by village residents (with the sum of those weights).
    "expected_urban_income_sum": ((C,), FLOAT, 0),
    "expected_rural_income_sum": ((C,), FLOAT, 0),
    "village_residents_sum": ((C,), FLOAT, 0),
    "choice_steps": ((C,), INT, 0),
}


@dataclass
class YearTally:
    """Raw counts and sums of one year, in agent units (multiply by the weight).

    ``counties`` and ``outside`` are the region's unit keys, which index the arrays
    (:data:`SHAPES`); :meth:`empty` makes a tally of the right shapes.
    """

    year: int
    counties: tuple[str, ...]
    outside: tuple[str, ...]
    steps: int = 0
    arrays: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def empty(cls, year: int, counties: tuple[str, ...], outside: tuple[str, ...]) -> YearTally:
        """A tally with every array at its starting value."""
        size = {C: len(counties), D: len(outside), "c+d": len(counties) + len(outside)}
        arrays = {
            name: np.full(tuple(size.get(n, n) for n in shape), fill, dtype)
            for name, (shape, dtype, fill) in SHAPES.items()
        }
        return cls(year=year, counties=tuple(counties), outside=tuple(outside), arrays=arrays)

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["arrays"][name]
        except KeyError:
            raise AttributeError(f"YearTally has no {name!r}") from None


__all__ = ["COMPONENTS", "PYRAMID_BANDS", "SHAPES", "YearTally"]
