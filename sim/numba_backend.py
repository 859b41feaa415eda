"""``backend=numba``: persons and households as arrays, phases as numba kernels."""

from __future__ import annotations

import numpy as np

from sim import kernels as K
from sim.population import Population
from sim.rules import farm_income_per_worker, per_step, rule_params
from sim.state import Households, PersonCensus, Persons, n_chunks, place_tables


class NumbaBackend:
    """Array state and the kernels that update it; see :class:`sim.model.RongheModel`."""

    def __init__(self, model, population: Population):
        self.model = model
        self.persons: Persons = population.persons
        self.households: Households = population.households
        self.places = place_tables(model.world)
        self.rules = rule_params(model.params, model.spy)
        self._scratch(self.persons.capacity)
        self.workers = np.zeros(self.households.n, np.int64)
        # Persons up to here sit in household order (births are appended after them).
        n, household = self.persons.n, self.persons.household
        unordered = np.flatnonzero(household[1:n] < household[: n - 1])
        self.grouped = int(unordered[0]) + 1 if len(unordered) else n

    def _household_bounds(self) -> np.ndarray:
        """Blocks of persons that never split a household (see kernels.household_bounds)."""
        blocks = K.n_blocks(self.grouped)
        return K.household_bounds(self.persons.household, self.grouped, self.persons.n, blocks)

    def _scratch(self, capacity: int) -> None:
        self.role = np.zeros(capacity, np.int64)
        self.dies = np.zeros(capacity, np.int8)
        self.births = np.zeros(capacity, np.int8)
        self.new_residence = np.zeros(capacity, np.int32)
        self.converts = np.zeros(capacity, np.int8)

    # ---------------------------------------------------------------- demography

    def demography(self, step: int, step_in_year: int) -> tuple[np.ndarray, np.ndarray]:
        """Deaths, birthdays and births; returns births and deaths of residents by county."""
        m, P = self.model, self.persons
        K.demography_decide(
            P.view(),
            m.death_step,
            m.birth_step,
            m.seed,
            step,
            step_in_year,
            self.rules,
            self.dies,
            self.births,
        )
        mothers, births, deaths = K.demography_events(P.view(), self.births, self.dies, self.places)
        if P.n + len(mothers) > P.capacity:
            P.grow(int((P.n + len(mothers)) * 1.2) + 64)
            self._scratch(P.capacity)
        P.n = K.add_newborns(P.view(), mothers, m.seed, step, step_in_year, self.rules)
        return births, deaths

    # ---------------------------------------------------------------- labour

    def labour_roles(self, economy, step: int) -> np.ndarray:
        """Assign labour roles; return job seekers per market (agent units)."""
        m, P = self.model, self.persons
        seekers = K.block_counts(P.n, self.places.n_markets)
        K.labour_roles(
            P.view(),
            self.households.view(),
            self.places,
            self.rules,
            economy.commute_access,
            m.seed,
            m.year_of_step(step - 1) if step else m.spec.start_year,
            self.role,
            seekers,
        )
        return seekers.sum(axis=0)

    def labour_assign(self, economy, step: int) -> np.ndarray:
        """Job draws, farm work and vocational upgrades; return the trainees by county.

        A trainee counts in the county they live in, or for persons living outside the
        city the county of their hukou.
        """
        m, P = self.model, self.persons
        trained = K.block_counts(P.n, self.places.n_counties)
        K.labour_assign(
            P.view(),
            self.places,
            self.rules,
            self.role,
            economy.p_employed,
            economy.industry_share,
            per_step(float(m.policy.vocational_training[0]), m.spy),
            m.seed,
            step,
            trained,
        )
        return trained.sum(axis=0)

    # ---------------------------------------------------------------- land

    def _count_members(self) -> np.ndarray:
        """Count living members (returned) and farm workers (kept) per household."""
        members = np.zeros(self.households.n, np.int64)
        self.workers = np.zeros(self.households.n, np.int64)
        K.household_counts(self.persons.view(), self._household_bounds(), members, self.workers)
        return members

    def initial_land(self, transfer_rate: float, abandoned_share: float) -> None:
        """Split 2023 offered land between let and abandoned in the 2023 proportions."""
        self._count_members()
        K.initial_land(
            self.households.view(),
            self.workers,
            self.rules,
            transfer_rate,
            abandoned_share,
            self.model.seed,
        )

    def release_extinct_land(self, collective: np.ndarray) -> int:
        """Move the land of households without living members to their collective.

        Also counts each household's farm workers for :meth:`land_offers`.
        """
        return K.release_extinct_land(self.households.view(), self._count_members(), collective)

    def land_offers(self, withheld: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unlet offered land and let land per county (tenths of a mu).

        Reads the farm workers counted by :meth:`release_extinct_land`, called first.
        """
        return K.unplaced_by_county(
            self.households.view(), self.workers, self.places, withheld, self.rules
        )

    def land_apply(self, match_by_county: np.ndarray, withheld: np.ndarray, step: int) -> None:
        """Apply the land rule to every household."""
        K.land_market(
            self.households.view(),
            self.workers,
            self.places,
            withheld,
            match_by_county,
            self.model.seed,
            step,
            self.rules,
        )

    # ---------------------------------------------------------------- migration

    def migration_aggregates(self, economy) -> tuple[np.ndarray, np.ndarray]:
        """Network counts and the expected farm income per worker of each home unit."""
        P, H, W = self.persons, self.households, self.places
        network = K.block_counts(P.n, W.n_home_units, W.n_slots)
        self.has_child = np.zeros(H.n, np.int8)
        K.migration_aggregates(P.view(), W, self.rules, network, self.has_child)
        operated, farmers = K.farm_land_by_unit(H.view(), self.workers, W)
        return network.sum(axis=0), farm_income_per_worker(
            operated, farmers, W, economy.crop_per_tenth, self.rules
        )

    def migrate(self, tables, hazards, follow_by_place, step: int) -> None:
        """Migration choices and children joining their mothers."""
        m, P = self.model, self.persons
        K.migration_decide(
            P.view(),
            self.places,
            self.rules,
            self.has_child,
            (tables.weights, tables.totals, tables.stay_boost),
            hazards,
            follow_by_place,
            m.seed,
            step,
            self.new_residence,
        )
        K.migration_apply(P.view(), self.new_residence, self.rules)

    def residents_by_place(self) -> np.ndarray:
        """Living persons per place (agent units)."""
        P = self.persons
        residents = K.block_counts(P.n, self.places.n_places)
        K.residents_by_place(P.view(), residents)
        return residents.sum(axis=0)

    # ---------------------------------------------------------------- hukou

    def hukou(self, ease_by_place, policy, step: int):
        """Applications, acceptance and conversions; counts by county."""
        P = self.persons
        K.hukou_decide(
            P.view(),
            self.households.view(),
            self.places,
            self.rules,
            ease_by_place,
            policy.land_rights_security,
            self.model.seed,
            step,
            self.converts,
        )
        counts = K.block_counts(P.n, 3, self.places.n_counties)
        K.hukou_apply(P.view(), self.places, self.converts, counts)
        citizenised, out, into = counts.sum(axis=0)
        return citizenised, out, into

    # ---------------------------------------------------------------- incomes

    def person_census(self, village_age_max: float) -> PersonCensus:
        """The counts over persons that incomes and budgets read, in one pass."""
        P, W = self.persons, self.places
        counts = (
            K.block_counts(P.n, W.n_markets, 3),
            K.block_counts(P.n, W.n_places),
            K.block_counts(P.n, W.n_places),
            K.block_counts(P.n, 3, W.n_counties),
        )
        K.person_census(P.view(), self.households.view(), W, village_age_max, counts)
        employed, residents, collective, by_county = (c.sum(axis=0) for c in counts)
        return PersonCensus(employed, residents, collective, *by_county)

    def incomes(self, economy, dividend_by_village, scalars) -> np.ndarray:
        """This step's incomes: sums by chunk, county, urban/rural and source."""
        P, H = self.persons.view(), self.households.view()
        pools = (np.zeros(H.n, np.int64), np.zeros(H.n, np.int64), np.zeros(H.n))
        K.household_pools(
            P, H, self.places, self.rules, economy.wages, self._household_bounds(), pools
        )
        partial = np.zeros((n_chunks(P.n), self.places.n_counties, 2, 5))
        K.incomes_by_chunk(
            P,
            H,
            self.places,
            pools,
            dividend_by_village,
            economy.wages,
            np.ascontiguousarray(economy.crop_per_tenth),
            scalars,
            partial,
        )
        return partial

    # ---------------------------------------------------------------- export

    def export(self) -> tuple[Persons, Households]:
        """The person and household state (copies)."""
        return self.persons.copy(), self.households.copy()

    def state(self) -> tuple[Persons, Households]:
        """The live person and household arrays (read them, do not keep them)."""
        return self.persons, self.households


__all__ = ["NumbaBackend"]
