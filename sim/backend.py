"""What the model asks of a backend: the phases of the persons and households.

:class:`sim.model.RongheModel` holds its persons and households in one of two backends,
:class:`sim.numba_backend.NumbaBackend` (arrays and numba kernels) and
:class:`sim.agent_backend.AgentBackend` (Mesa agents). Both apply the rules of
:mod:`sim.rules`, phase by phase, and answer the model through :class:`Backend`. Counts
are in agent units (the model scales them by the agent weight).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from sim.levers import Policy
    from sim.state import Households, PersonCensus, Persons


class EconomyTables(Protocol):
    """The per-step tables of :class:`sim.economy.Economy` that the backends read."""

    wages: np.ndarray  # [market, skill] gross yuan per year
    p_employed: np.ndarray  # [market]
    industry_share: np.ndarray  # [market]
    commute_access: np.ndarray  # [county]
    crop_per_tenth: np.ndarray  # [county] yuan per tenth of a mu per step


class MigrationTables(Protocol):
    """The migration choice tables of a step (:class:`sim.migration_tables.ChoiceTables`)."""

    weights: np.ndarray  # [cell, slot]
    totals: np.ndarray  # [cell]
    stay_boost: float


class Backend(Protocol):
    """The phases :class:`sim.model.RongheModel` runs on its persons and households."""

    def demography(self, step: int, step_in_year: int) -> tuple[np.ndarray, np.ndarray]:
        """Deaths, birthdays and births; return births and deaths of residents by county."""
        ...

    def labour_roles(self, economy: EconomyTables, step: int) -> np.ndarray:
        """Set each person's labour role; return the job seekers per market."""
        ...

    def labour_assign(self, economy: EconomyTables, step: int) -> np.ndarray:
        """Job draws, farm work and vocational upgrades; return the trainees by county."""
        ...

    def initial_land(self, transfer_rate: float, abandoned_share: float) -> None:
        """Split the 2023 surplus land between let and abandoned, in the 2023 shares."""
        ...

    def release_extinct_land(self, collective: np.ndarray) -> int:
        """Give the land of households without living members to their village collective.

        Returns the land released (tenths of a mu); counts the farm workers that
        :meth:`land_offers` and :meth:`land_apply` read.
        """
        ...

    def land_offers(self, withheld: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Offered but unlet land and let land per county (tenths of a mu)."""
        ...

    def land_apply(self, match_by_county: np.ndarray, withheld: np.ndarray, step: int) -> None:
        """Every household's land step: take back, let or leave land idle."""
        ...

    def migration_aggregates(self, economy: EconomyTables) -> tuple[np.ndarray, np.ndarray]:
        """Network counts ``[home unit, slot]`` and farm income per worker by home unit."""
        ...

    def migrate(
        self,
        tables: MigrationTables,
        hazards: np.ndarray,
        follow_by_place: np.ndarray,
        step: int,
    ) -> None:
        """Everyone chooses a residence on the start state; then all moves are applied."""
        ...

    def residents_by_place(self) -> np.ndarray:
        """Living persons per place."""
        ...

    def hukou(
        self, ease_by_place: np.ndarray, policy: Policy, step: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hukou conversions; return citizenised, moved out and moved in, by county."""
        ...

    def person_census(self, village_age_max: float) -> PersonCensus:
        """The counts over persons that a step's incomes and budgets read."""
        ...

    def incomes(
        self, economy: EconomyTables, dividend_by_village: np.ndarray, scalars: np.ndarray
    ) -> np.ndarray:
        """Each person's income; return its sums ``[chunk, county, urban, source]``."""
        ...

    def export(self) -> tuple[Persons, Households]:
        """A copy of the person and household state as arrays."""
        ...

    def state(self) -> tuple[Persons, Households]:
        """The person and household state as arrays, for reading only."""
        ...
