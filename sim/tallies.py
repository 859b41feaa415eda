"""What a run records each year: :class:`YearTally`, raw counts and sums in agent units.

The model fills one tally a year; :mod:`sim.indicators` turns them into the indicator
table. This module holds the result type only, so that the indicators and the charts
read a run's tallies without importing the model, numba or Mesa.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.levers import SPENDING_CATEGORIES
from sim.world import N_COUNTIES, N_OUTSIDE

COMPONENTS = ("wage", "operating", "property", "transfer")
PYRAMID_BANDS = 18  # five-year age bands 0-4 ... 80-84, 85+


@dataclass
class YearTally:
    """Raw counts and sums of one year, in agent units (multiply by the weight)."""

    year: int
    residents: np.ndarray = field(default_factory=lambda: np.zeros((N_COUNTIES, 2), np.int64))
    registered: np.ndarray = field(default_factory=lambda: np.zeros((N_COUNTIES, 2), np.int64))
    rural_old: np.ndarray = field(default_factory=lambda: np.zeros(N_COUNTIES, np.int64))
    outside_by_dest: np.ndarray = field(default_factory=lambda: np.zeros(N_OUTSIDE, np.int64))
    workers: np.ndarray = field(default_factory=lambda: np.zeros((N_COUNTIES, 2), np.int64))
    children: np.ndarray = field(default_factory=lambda: np.zeros((N_COUNTIES, 2), np.int64))
    by_kind: np.ndarray = field(default_factory=lambda: np.zeros((N_COUNTIES, 3), np.int64))
    registered_16_59: np.ndarray = field(
        default_factory=lambda: np.zeros((N_COUNTIES, 3), np.int64)
    )
    home_by_residence: np.ndarray = field(
        default_factory=lambda: np.zeros((N_COUNTIES, N_COUNTIES + N_OUTSIDE), np.int64)
    )
    pyramid: np.ndarray = field(
        default_factory=lambda: np.zeros((2, 2, PYRAMID_BANDS), np.int64)
    )  # [urban, female, five-year band], the last band 85+
    income_sum: np.ndarray = field(default_factory=lambda: np.zeros((N_COUNTIES, 2)))
    component_sum: np.ndarray = field(default_factory=lambda: np.zeros((N_COUNTIES, 2, 4)))
    person_steps: np.ndarray = field(default_factory=lambda: np.zeros((N_COUNTIES, 2)))
    citizenised: np.ndarray = field(default_factory=lambda: np.zeros(N_COUNTIES, np.int64))
    hukou_out: np.ndarray = field(default_factory=lambda: np.zeros(N_COUNTIES, np.int64))
    hukou_in: np.ndarray = field(default_factory=lambda: np.zeros(N_COUNTIES, np.int64))
    births: np.ndarray = field(default_factory=lambda: np.zeros(N_COUNTIES, np.int64))
    deaths: np.ndarray = field(default_factory=lambda: np.zeros(N_COUNTIES, np.int64))
    # Seat labour markets at the year's end: wage over its trend, 1 - employment
    # probability, and job seekers (agent units) to weight them.
    seat_wage_relative: np.ndarray = field(default_factory=lambda: np.ones(N_COUNTIES))
    seat_unemployment: np.ndarray = field(default_factory=lambda: np.zeros(N_COUNTIES))
    seat_seekers: np.ndarray = field(default_factory=lambda: np.zeros(N_COUNTIES))
    # Rural-hukou persons registered in a county in wage work, [county, away / local],
    # and the sum of their ages.
    migrant_workers: np.ndarray = field(default_factory=lambda: np.zeros((N_COUNTIES, 2), np.int64))
    migrant_age_sum: np.ndarray = field(default_factory=lambda: np.zeros((N_COUNTIES, 2), np.int64))
    land: np.ndarray = field(default_factory=lambda: np.zeros((N_COUNTIES, 3), np.int64))
    seat_jobs: np.ndarray = field(default_factory=lambda: np.zeros(N_COUNTIES, np.int64))
    county_revenue: np.ndarray = field(default_factory=lambda: np.zeros(N_COUNTIES))
    county_balance: np.ndarray = field(default_factory=lambda: np.zeros(N_COUNTIES))
    lever_spending: np.ndarray = field(
        default_factory=lambda: np.zeros((N_COUNTIES, len(SPENDING_CATEGORIES)))
    )  # yuan spent in the year by county and category
    other_spending: np.ndarray = field(default_factory=lambda: np.zeros(N_COUNTIES))
    capacity_spending: np.ndarray = field(default_factory=lambda: np.zeros(N_COUNTIES))
    capacity_cut: np.ndarray = field(default_factory=lambda: np.zeros(N_COUNTIES))
    service_index: np.ndarray = field(default_factory=lambda: np.ones(N_COUNTIES))
    road_index: np.ndarray = field(default_factory=lambda: np.ones(N_COUNTIES))
    agri_index: np.ndarray = field(default_factory=lambda: np.ones(N_COUNTIES))
    steps: int = 0


__all__ = ["COMPONENTS", "PYRAMID_BANDS", "YearTally"]
