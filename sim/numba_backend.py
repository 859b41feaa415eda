"""``backend=numba``: persons and households as arrays, phases as numba kernels."""

from __future__ import annotations

import numpy as np

from sim import kernels as K
from sim import rng
from sim.population import Population
from sim.rules import per_step
from sim.state import Households, PersonCensus, Persons
from sim.world import N_COUNTIES, N_MARKETS


class NumbaBackend:
    """Array state and the kernels that update it; see :class:`sim.model.RongheModel`."""

    def __init__(self, model, population: Population):
        self.model = model
        self.persons: Persons = population.persons
        self.households: Households = population.households
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
        m, p, P = self.model, self.model.params, self.persons
        n = P.n
        K.demography_decide(
            n,
            P.alive,
            P.age,
            P.female,
            P.birth_quarter,
            P.work,
            P.income,
            m.seed,
            step,
            step_in_year,
            m.spy,
            m.death_step,
            m.birth_step,
            self.dies,
            self.births,
        )
        mothers, resident_births, resident_deaths = K.demography_events(
            n, self.births, self.dies, P.residence, m.world.county
        )
        if n + len(mothers) > P.capacity:
            P.grow(int((n + len(mothers)) * 1.2) + 64)
            self._scratch(P.capacity)
        P.n = K.add_newborns(
            n,
            mothers,
            P.alive,
            P.age,
            P.birth_quarter,
            P.female,
            P.skill,
            P.hukou_place,
            P.hukou_urban,
            P.residence,
            P.household,
            P.mother,
            P.work,
            P.sector,
            P.stay_months,
            P.income,
            m.seed,
            step,
            step_in_year,
            m.spy,
            1.0 / (1.0 + p.sex_ratio_at_birth),
            p.skill_high_share_new_cohorts,
            p.skill_mid_share_new_cohorts,
            p.rural_high_skill_factor,
        )
        return resident_births, resident_deaths

    # ---------------------------------------------------------------- labour

    def labour_roles(self, economy, step: int) -> np.ndarray:
        """Assign labour roles; return job seekers per market (agent units)."""
        m, p, P, W = self.model, self.model.params, self.persons, self.model.world
        H = self.households
        return K.labour_roles(
            P.n,
            P.alive,
            P.age,
            P.female,
            P.hukou_urban,
            P.residence,
            P.household,
            H.village,
            H.land,
            W.kind,
            W.county,
            W.town_of,
            m.seed,
            m.year_of_step(step - 1) if step else m.spec.start_year,
            economy.commute_access,
            p.town_dweller_wage_share,
            p.retirement_age_men,
            p.retirement_age_women,
            p.rural_work_age_max,
            p.farm_work_age_max,
            p.participation_16_19,
            p.participation_20_24,
            p.participation_prime_men,
            p.participation_prime_women,
            W.market,
            N_MARKETS,
            self.role,
            K.n_blocks(P.n),
        )

    def labour_assign(self, economy, step: int) -> np.ndarray:
        """Job draws, farm work and vocational upgrades; return the trainees by county.

        A trainee counts in the county they live in, or for persons living outside the
        city the county of their hukou.
        """
        m, P, W = self.model, self.persons, self.model.world
        upgrade = per_step(float(m.policy.vocational_training[0]), m.spy)
        return K.labour_assign(
            P.n,
            P.alive,
            P.age,
            P.skill,
            self.role,
            P.residence,
            W.market,
            economy.p_employed,
            economy.industry_share,
            m.seed,
            step,
            upgrade,
            m.params.training_age_max,
            P.hukou_place,
            W.county,
            P.work,
            P.sector,
            K.n_blocks(P.n),
        )

    # ---------------------------------------------------------------- land

    def initial_land(self, transfer_rate: float, abandoned_share: float) -> None:
        """Split 2023 offered land between let and abandoned in the 2023 proportions."""
        m, P, H = self.model, self.persons, self.households
        _, self.workers = K.household_counts(
            P.n, P.alive, P.work, P.household, H.n, self._household_bounds()
        )
        capacity = K.farm_capacities(self.workers, m.params.farm_capacity_per_worker)
        offered = np.maximum(H.land - capacity, 0)
        frac = transfer_rate / (transfer_rate + abandoned_share)
        u = rng.uniforms(m.seed, 0, np.arange(H.n), rng.POP_LAND)
        rented = np.minimum(np.floor(offered * frac + u).astype(np.int64), offered)
        H.rented_out[:] = rented
        H.abandoned[:] = offered - rented

    def release_extinct_land(self, collective: np.ndarray) -> int:
        """Move the land of households without living members to their collective.

        Also counts each household's farm workers for :meth:`land_offers`.
        """
        P, H = self.persons, self.households
        members, self.workers = K.household_counts(
            P.n, P.alive, P.work, P.household, H.n, self._household_bounds()
        )
        return K.release_extinct_land(
            H.n, members, H.village, H.land, H.rented_out, H.abandoned, collective
        )

    def land_offers(self, economy, withheld: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unlet offered land and let land per county (tenths of a mu).

        Reads the farm workers counted by :meth:`release_extinct_land`, called first.
        """
        m, H = self.model, self.households
        return K.unplaced_by_county(
            H.n,
            H.village,
            H.land,
            H.rented_out,
            self.workers,
            m.params.farm_capacity_per_worker,
            withheld,
            m.world.county,
        )

    def land_apply(self, match_by_county: np.ndarray, withheld: np.ndarray, step: int) -> None:
        """Apply the land rule to every household."""
        m, H = self.model, self.households
        K.land_market(
            H.n,
            H.village,
            H.land,
            H.rented_out,
            H.abandoned,
            self.workers,
            m.params.farm_capacity_per_worker,
            withheld,
            match_by_county,
            m.world.county,
            m.seed,
            step,
        )

    # ---------------------------------------------------------------- migration

    def migration_aggregates(self, economy) -> tuple[np.ndarray, np.ndarray]:
        """Network counts and the expected farm income per worker of each home unit."""
        P, H, W = self.persons, self.households, self.model.world
        network, self.has_child = K.migration_aggregates(
            P.n,
            P.alive,
            P.age,
            P.residence,
            P.hukou_place,
            P.household,
            W.kind,
            W.town_of,
            W.n_home_units,
            H.n,
            self.model.params.rural_work_age_max,
            K.n_blocks(P.n),
        )
        return network, farm_income_by_unit(
            self.model, H.village, H.land, H.rented_out, H.abandoned, self.workers, economy
        )

    def migrate(self, tables, hazards, follow_by_place, step: int) -> None:
        """Migration choices and children joining their mothers."""
        m, P, W = self.model, self.persons, self.model.world
        K.migration_decide(
            P.n,
            P.alive,
            P.age,
            P.skill,
            P.hukou_place,
            P.hukou_urban,
            P.residence,
            P.household,
            P.mother,
            P.work,
            self.has_child,
            W.kind,
            W.town_of,
            tables.weights,
            tables.totals,
            tables.stay_boost,
            hazards,
            follow_by_place,
            m.params.parent_age_max,
            m.seed,
            step,
            self.new_residence,
        )
        K.migration_apply(P.n, P.alive, P.residence, self.new_residence, P.stay_months, 12 // m.spy)

    def residents_by_place(self) -> np.ndarray:
        """Living persons per place (agent units)."""
        P = self.persons
        return K.residents_by_place(
            P.n, P.alive, P.residence, self.model.world.n_places, K.n_blocks(P.n)
        )

    # ---------------------------------------------------------------- hukou

    def hukou(self, ease_by_place, policy, step: int):
        """Applications, acceptance and conversions; counts by county."""
        m, p, P, H, W = (
            self.model,
            self.model.params,
            self.persons,
            self.households,
            self.model.world,
        )
        apply_step = per_step(float(p.hukou_apply_rate), m.spy)
        min_stay = round(p.hukou_min_stay_years * 12)
        K.hukou_decide(
            P.n,
            P.alive,
            P.age,
            P.hukou_place,
            P.hukou_urban,
            P.residence,
            P.household,
            P.mother,
            H.land,
            W.kind,
            W.county,
            ease_by_place,
            apply_step,
            min_stay,
            p.hukou_land_fear,
            policy.land_rights_security,
            m.seed,
            step,
            P.stay_months,
            self.converts,
        )
        citizenised = np.zeros(N_COUNTIES, np.int64)
        out = np.zeros(N_COUNTIES, np.int64)
        into = np.zeros(N_COUNTIES, np.int64)
        K.hukou_apply(
            P.n,
            self.converts,
            P.hukou_place,
            P.hukou_urban,
            P.residence,
            W.kind,
            W.county,
            citizenised,
            out,
            into,
            K.n_blocks(P.n),
        )
        return citizenised, out, into

    # ---------------------------------------------------------------- incomes

    def person_census(self, village_age_max: float) -> PersonCensus:
        """The counts over persons that incomes and budgets read, in one pass."""
        P, H, W = self.persons, self.households, self.model.world
        return PersonCensus(
            *K.person_census(
                P.n,
                P.alive,
                P.age,
                P.work,
                P.skill,
                P.residence,
                P.hukou_place,
                P.hukou_urban,
                P.household,
                H.village,
                W.kind,
                W.county,
                W.market,
                N_MARKETS,
                village_age_max,
                K.n_blocks(P.n),
            )
        )

    def incomes(self, economy, dividend_by_village, scalars) -> np.ndarray:
        """This step's incomes: sums by chunk, county, urban/rural and source."""
        m, p, P, H, W = (
            self.model,
            self.model.params,
            self.persons,
            self.households,
            self.model.world,
        )
        at_home, living, remit = K.household_pools(
            P.n,
            P.alive,
            P.age,
            P.residence,
            P.household,
            P.work,
            P.skill,
            W.market,
            H.village,
            W.town_of,
            H.n,
            economy.wages,
            p.net_wage_factor,
            p.remittance_share,
            m.spy,
            self._household_bounds(),
        )
        partial = np.empty((K.n_chunks(P.n), N_COUNTIES, 2, 5))
        K.incomes_by_chunk(
            P.n,
            P.alive,
            P.age,
            P.female,
            P.hukou_place,
            P.hukou_urban,
            P.residence,
            P.household,
            P.work,
            P.skill,
            W.kind,
            W.market,
            W.urban,
            W.county,
            W.town_of,
            H.village,
            H.land,
            H.rented_out,
            H.abandoned,
            H.homestead,
            at_home,
            living,
            remit,
            dividend_by_village,
            economy.wages,
            np.ascontiguousarray(economy.crop_per_tenth),
            scalars,
            P.income,
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


def farm_income_by_unit(model, village, land, rented, abandoned, workers, economy) -> np.ndarray:
    """Expected yearly farm income of an at-home worker, per home unit (town).

    Own-operated land of the town's households over their at-home farm workers, at the
    county's income per mu; towns without farm workers use one worker's capacity.
    """
    W, p = model.world, model.params
    n_units = W.n_home_units
    op, wk = K.farm_land_by_unit(village, land, rented, abandoned, workers, W.town_of, n_units)
    per_worker = np.where(wk > 0, op / np.maximum(wk, 1), p.farm_capacity_per_worker * 10.0)
    county = np.maximum(W.county[:n_units], 0)
    return per_worker * economy.crop_per_tenth[county] * model.spy


__all__ = ["NumbaBackend", "farm_income_by_unit"]
