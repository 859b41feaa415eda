"""``backend=agents``: persons and households as ``mesa.Agent`` objects.

Every person and household is a Mesa agent that decides for itself by calling the same
compiled rule functions (:mod:`sim.rules`) with the same counter-based draws as the numba
kernels, phase by phase and in id order. This backend is slow by design: it is the
oracle the kernels are tested against, and the one a Mesa user can inspect
(``model.agents_by_type[Person]``). Population tallies for the indicators are computed
from the exported arrays with the same counting code as ``backend=numba``.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim import rules
from sim.population import Population
from sim.rules import CHILD_AGE, ROLE_NONE, ROLE_SEEK, per_step, rule_params
from sim.state import (
    CHUNK,
    HOUSEHOLD_FIELDS,
    PERSON_FIELDS,
    WORK_FARM,
    Households,
    PersonCensus,
    Persons,
    n_chunks,
    place_tables,
)


class Household(mesa.Agent):
    """A registered household: home village, contracted land and homestead."""

    def __init__(
        self,
        model: mesa.Model,
        hid: int,
        village: int,
        land: int,
        rented_out: int,
        abandoned: int,
        homestead: int,
    ):
        super().__init__(model)
        self.hid = hid
        self.village = village
        self.land = land
        self.rented_out = rented_out
        self.abandoned = abandoned
        self.homestead = homestead
        self.members: list[Person] = []
        self.n_living = 0  # counted by the backend where a phase needs them
        self.workers = 0
        self.at_home = 0
        self.remit = 0.0
        self.has_child = False

    def step_land(self, b: AgentBackend, withheld: float, match: float, step: int) -> None:
        """Take back, let or leave idle land beyond what the farm workers at home can farm."""
        self.rented_out, self.abandoned = rules.household_land(
            self.hid,
            self.land,
            self.rented_out,
            self.workers,
            withheld,
            match,
            b.seed,
            step,
            b.rules,
        )


class Person(mesa.Agent):
    """A person: age, sex, skill, hukou, residence, household, work and income."""

    def __init__(self, model: mesa.Model, pid: int, **state):
        super().__init__(model)
        self.pid = pid
        for name in PERSON_FIELDS:
            setattr(self, name, state[name])
        self.role = ROLE_NONE

    # -- phases: each method is one person's decision, on the rules of sim.rules --------

    def step_demography(self, b: AgentBackend, step: int, step_in_year: int) -> bool:
        """Birth, death and birthday on the start state; True if giving birth."""
        m = b.model
        birth = rules.gives_birth(self.pid, self.age, self.female, b.seed, step, m.birth_step)
        if rules.dies(self.pid, self.age, self.female, b.seed, step, m.death_step):
            self.alive, self.work, self.income = rules.DECEASED
        elif rules.is_birthday(step_in_year, self.birth_quarter, b.rules.spy):
            self.age += 1
        return birth

    def step_role(self, b: AgentBackend, economy, year: int) -> int:
        """The labour role of this step."""
        hh = self.household
        self.role = rules.person_role(
            self.pid,
            self.age,
            self.female,
            self.hukou_urban,
            self.residence,
            hh.village,
            hh.land,
            b.places,
            economy.commute_access,
            b.seed,
            year,
            b.rules,
        )
        return self.role

    def step_work(self, b: AgentBackend, economy, upgrade: float, step: int) -> bool:
        """Job draw for a seeker, farm work otherwise; True on a vocational upgrade."""
        self.work, self.sector = rules.job(
            self.pid,
            self.role,
            self.residence,
            b.places,
            economy.p_employed,
            economy.industry_share,
            b.seed,
            step,
        )
        if rules.upgrades(self.pid, self.age, self.skill, upgrade, b.seed, step, b.rules):
            self.skill = rules.TRAINED_SKILL
            return True
        return False

    def choose_residence(self, b: AgentBackend, choice, hazards, follow, step: int) -> int:
        """Where the person will live after this step's migration phase."""
        mum = self.mother_agent
        return int(
            rules.next_residence(
                self.pid,
                self.age,
                self.skill,
                self.hukou_place,
                self.hukou_urban,
                self.residence,
                self.work,
                self.household.has_child,
                mum is not None and mum.alive != 0,
                mum.residence if mum is not None else -1,
                b.places,
                choice,
                hazards,
                follow,
                b.seed,
                step,
                b.rules,
            )
        )

    def decide_hukou(self, b: AgentBackend, ease, security, step: int) -> int:
        """Apply for and obtain a local hukou (adults); 1 if converting."""
        if not rules.hukou_eligible(
            self.age, self.hukou_place, self.residence, self.stay_months, b.places, b.rules
        ):
            return 0
        return rules.hukou_decision(
            self.pid,
            self.hukou_place,
            self.hukou_urban,
            self.residence,
            self.household.land,
            b.places,
            ease,
            security,
            b.seed,
            step,
            b.rules,
        )

    @property
    def mother_agent(self) -> Person | None:
        """The mother's agent, if known."""
        return self.model.backend.people[self.mother] if self.mother >= 0 else None


class AgentBackend:
    """Persons and households as Mesa agents; see :class:`sim.model.RongheModel`."""

    def __init__(self, model, population: Population):
        self.model = model
        self.seed = model.seed
        self.places = place_tables(model.world)
        self.rules = rule_params(model.params, model.spy)
        P, H = population.persons, population.households
        self.households = [
            Household(
                model,
                h,
                int(H.village[h]),
                int(H.land[h]),
                int(H.rented_out[h]),
                int(H.abandoned[h]),
                int(H.homestead[h]),
            )
            for h in range(H.n)
        ]
        self.people: list[Person] = []
        for i in range(P.n):
            state = {name: getattr(P, name)[i].item() for name in PERSON_FIELDS}
            self._add_person(i, state)

    def _add_person(self, pid: int, state: dict) -> Person:
        person = Person(self.model, pid, **state)
        hh = self.households[state["household"]]
        person.household = hh
        hh.members.append(person)
        self.people.append(person)
        return person

    def _living(self):
        """The living persons, in id order."""
        return (person for person in self.people if person.alive)

    # ---------------------------------------------------------------- export

    def state(self) -> tuple[Persons, Households]:
        """The agents' state as arrays, for the tallies of the indicators."""
        return self.export()

    def export(self) -> tuple[Persons, Households]:
        """The agents' state as arrays (the format of ``backend=numba``)."""
        P = Persons.empty(len(self.people))
        P.n = len(self.people)
        for name, dtype in PERSON_FIELDS.items():
            values = [
                p.household.hid if name == "household" else getattr(p, name) for p in self.people
            ]
            getattr(P, name)[:] = np.array(values, dtype=dtype)
        H = Households.empty(len(self.households))
        for name, dtype in HOUSEHOLD_FIELDS.items():
            getattr(H, name)[:] = np.array([getattr(h, name) for h in self.households], dtype)
        return P, H

    # ---------------------------------------------------------------- demography

    def demography(self, step: int, step_in_year: int) -> tuple[np.ndarray, np.ndarray]:
        """Deaths, birthdays and births; returns births and deaths of residents by county."""
        w = self.places
        mothers = []
        births = np.zeros(w.n_counties, np.int64)
        deaths = np.zeros(w.n_counties, np.int64)
        for person in list(self._living()):
            county = w.county[person.residence]
            gives_birth = person.step_demography(self, step, step_in_year)
            if not person.alive and county >= 0:
                deaths[county] += 1
            if gives_birth:
                mothers.append(person)
                if county >= 0:
                    births[county] += 1
        for mum in mothers:
            j = len(self.people)
            child = rules.newborn(
                j,
                mum.pid,
                mum.hukou_place,
                mum.hukou_urban,
                mum.residence,
                mum.household.hid,
                self.seed,
                step,
                step_in_year,
                self.rules,
            )
            self._add_person(j, dict(zip(PERSON_FIELDS, child, strict=True)))
        return births, deaths

    # ---------------------------------------------------------------- labour

    def labour_roles(self, economy, step: int) -> np.ndarray:
        """Each person's labour role; job seekers per market."""
        m, w = self.model, self.places
        year = m.year_of_step(step - 1) if step else m.spec.start_year
        counts = np.zeros(w.n_markets, np.int64)
        for person in self.people:
            if not person.alive:
                person.role = ROLE_NONE
            elif person.step_role(self, economy, year) == ROLE_SEEK:
                counts[w.market[person.residence]] += 1
        return counts

    def labour_assign(self, economy, step: int) -> np.ndarray:
        """Job draws, farm work and vocational upgrades; return the trainees by county."""
        m, w = self.model, self.places
        upgrade = per_step(float(m.policy.vocational_training[0]), m.spy)
        trained = np.zeros(w.n_counties, np.int64)
        for person in self._living():
            if person.step_work(self, economy, upgrade, step):
                county = rules.training_county(person.residence, person.hukou_place, w)
                if county >= 0:
                    trained[county] += 1
        return trained

    # ---------------------------------------------------------------- land

    def _count_members(self) -> None:
        """Living members and farm workers of every household."""
        for hh in self.households:
            hh.n_living = hh.workers = 0
        for person in self._living():
            hh = person.household
            hh.n_living += 1
            if person.work == WORK_FARM:
                hh.workers += 1

    def initial_land(self, transfer_rate: float, abandoned_share: float) -> None:
        """Split 2023 offered land between let and abandoned in the 2023 proportions."""
        self._count_members()
        for hh in self.households:
            hh.rented_out, hh.abandoned = rules.initial_land_split(
                hh.hid, hh.land, hh.workers, transfer_rate, abandoned_share, self.seed, self.rules
            )

    def release_extinct_land(self, collective: np.ndarray) -> int:
        """Move the land of households without living members to their collective.

        Also counts each household's farm workers for :meth:`land_offers`.
        """
        self._count_members()
        released = 0
        for hh in self.households:
            if hh.land > 0 and hh.n_living == 0:
                collective[hh.village] += hh.land
                released += hh.land
                hh.land = hh.rented_out = hh.abandoned = 0
        return released

    def land_offers(self, withheld: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unlet offered land and let land per county (tenths of a mu)."""
        w = self.places
        unplaced = np.zeros(w.n_counties, np.int64)
        let = np.zeros(w.n_counties, np.int64)
        for hh in self.households:
            if hh.land <= 0:
                continue
            c = w.county[hh.village]
            unplaced[c] += rules.unplaced_land(
                hh.land, hh.rented_out, hh.workers, withheld[c], self.rules
            )
            let[c] += hh.rented_out
        return unplaced, let

    def land_apply(self, match_by_county: np.ndarray, withheld: np.ndarray, step: int) -> None:
        """Every household's land step."""
        for hh in self.households:
            if hh.land > 0:
                c = self.places.county[hh.village]
                hh.step_land(self, withheld[c], match_by_county[c], step)

    # ---------------------------------------------------------------- migration

    def migration_aggregates(self, economy) -> tuple[np.ndarray, np.ndarray]:
        """Network counts and the expected farm income per worker of each home unit."""
        w = self.places
        network = np.zeros((w.n_home_units, w.n_slots), np.int64)
        for hh in self.households:
            hh.has_child = False
        for person in self._living():
            if person.age < CHILD_AGE:
                person.household.has_child = True
            unit, slot = rules.network_cell(
                person.age,
                person.residence,
                person.hukou_place,
                w,
                self.rules.rural_work_age_max,
            )
            if unit >= 0:
                network[unit, slot] += 1
        operated = np.zeros(w.n_home_units)
        farmers = np.zeros(w.n_home_units)
        for hh in self.households:
            unit = rules.farm_unit(hh.village, w)
            if unit >= 0:
                operated[unit] += hh.land - hh.rented_out - hh.abandoned
                farmers[unit] += hh.workers
        return network, rules.farm_income_per_worker(
            operated, farmers, w, economy.crop_per_tenth, self.rules
        )

    def migrate(self, tables, hazards, follow_by_place, step: int) -> None:
        """Everyone decides on the start state; then all moves are applied."""
        choice = (tables.weights, tables.totals, tables.stay_boost)
        moves = [
            person.choose_residence(self, choice, hazards, follow_by_place, step)
            if person.alive
            else person.residence
            for person in self.people
        ]
        for person, new in zip(self.people, moves, strict=True):
            if person.alive:
                person.residence, person.stay_months = rules.settle(
                    person.residence, new, person.stay_months, self.rules
                )

    def residents_by_place(self) -> np.ndarray:
        """Living persons per place (agent units)."""
        counts = np.zeros(self.places.n_places, np.int64)
        for person in self._living():
            counts[person.residence] += 1
        return counts

    # ---------------------------------------------------------------- hukou

    def hukou(self, ease_by_place, policy, step: int):
        """Applications, acceptance and conversions; counts by county."""
        w = self.places
        security = policy.land_rights_security
        converts = [0] * len(self.people)
        for person in self._living():
            converts[person.pid] = person.decide_hukou(self, ease_by_place, security, step)
        for person in self._living():
            mum = person.mother_agent
            if (
                rules.is_child(person.age)
                and mum is not None
                and rules.takes_mother_hukou(
                    person.residence, person.hukou_place, converts[mum.pid], mum.residence
                )
            ):
                converts[person.pid] = 2
        counts = np.zeros((3, w.n_counties), np.int64)
        for person in self.people:
            if not converts[person.pid]:
                continue
            person.hukou_place, person.hukou_urban, *where = rules.convert_hukou(
                person.residence, person.hukou_place, person.hukou_urban, w
            )
            for k, county in enumerate(where):
                if county >= 0:
                    counts[k, county] += 1
        return counts[0], counts[1], counts[2]

    # ---------------------------------------------------------------- incomes

    def person_census(self, village_age_max: float) -> PersonCensus:
        """The counts over persons that incomes and budgets read."""
        w = self.places
        employed = np.zeros((w.n_markets, 3), np.int64)
        collective = np.zeros(w.n_places, np.int64)
        by_county = np.zeros((3, w.n_counties), np.int64)
        for person in self._living():
            market, member, *counties = rules.census_entries(
                person.age,
                person.work,
                person.residence,
                person.hukou_place,
                person.hukou_urban,
                person.household.village,
                w,
                village_age_max,
            )
            if market >= 0:
                employed[market, person.skill] += 1
            if member >= 0:
                collective[member] += 1
            for k, county in enumerate(counties):
                if county >= 0:
                    by_county[k, county] += 1
        return PersonCensus(
            employed=employed,
            residents=self.residents_by_place(),
            collective=collective,
            village_adults=by_county[0],
            seat_non_local=by_county[1],
            kids_non_local=by_county[2],
        )

    def incomes(self, economy, dividend_by_village, scalars) -> np.ndarray:
        """Each person's income; sums by the same fixed chunks as the numba kernel."""
        w = self.places
        for hh in self.households:
            hh.at_home = hh.n_living = 0
            hh.remit = 0.0
        for person in self._living():
            hh = person.household
            hh.n_living += 1
            if rules.lives_at_home(person.residence, hh.village, w.town_of):
                hh.at_home += 1
        for person in self._living():
            hh = person.household
            sent = rules.remittance(
                person.work,
                person.residence,
                person.skill,
                hh.village,
                hh.at_home,
                w,
                economy.wages,
                self.rules,
            )
            if sent != 0.0:
                hh.remit += sent
        crop = np.ascontiguousarray(economy.crop_per_tenth)
        partial = np.zeros((n_chunks(len(self.people)), w.n_counties, 2, 5))
        for person in self.people:
            if not person.alive:
                person.income = 0.0
                continue
            hh = person.household
            parts = rules.person_income(
                person.age,
                person.female,
                person.hukou_place,
                person.hukou_urban,
                person.residence,
                person.work,
                person.skill,
                hh.village,
                hh.land,
                hh.rented_out,
                hh.abandoned,
                hh.homestead,
                hh.at_home,
                hh.n_living,
                hh.remit,
                w,
                dividend_by_village,
                economy.wages,
                crop,
                scalars,
            )
            person.income = rules.record_income(
                partial[person.pid // CHUNK], person.residence, *parts, w
            )
        return partial
