"""``backend=agents``: persons and households as ``mesa.Agent`` objects.

Every person and household is a Mesa agent that decides for itself by calling the same
compiled rule functions (:mod:`sim.rules`) with the same counter-based draws as the numba
kernels, phase by phase and in id order. This backend is slow by design: it is the
oracle the kernels are tested against, and the one a Mesa user can inspect
(``model.agents_by_type[Person]``). Population tallies for the indicators are computed
from the exported arrays with the same counting code as ``backend=numba``.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from sim import kernels as K
from sim import rng
from sim.population import Population
from sim.rules import (
    CHILD_AGE,
    ROLE_FARM,
    ROLE_SEEK,
    age_band,
    cell_index,
    choose_slot,
    current_slot,
    farm_capacity_tenths,
    hukou_application_probability,
    is_birthday,
    labour_role,
    land_offer,
    land_step,
    lives_at_home,
    participation,
    per_step,
    person_income,
    slot_place,
    wage_work_age_max,
)
from sim.state import (
    HOUSEHOLD_FIELDS,
    PERSON_FIELDS,
    WORK_FARM,
    WORK_NONE,
    WORK_SEEKING,
    WORK_WAGE,
    Households,
    PersonCensus,
    Persons,
)
from sim.world import KIND_CORE, KIND_OUTSIDE, KIND_TOWN, KIND_VILLAGE, N_COUNTIES, N_MARKETS


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
        self.workers = 0

    def living(self) -> list[Person]:
        """Members alive now."""
        return [m for m in self.members if m.alive]

    def step_land(
        self, mu_per_worker: float, withheld: float, match: float, seed: int, step: int
    ) -> None:
        """Take back, let or leave idle land beyond what the farm workers at home can farm."""
        if self.land <= 0:
            return
        u = rng.uniform(seed, step, self.hid, rng.LAND_MATCH)
        self.rented_out, self.abandoned = (
            int(v)
            for v in land_step(
                self.land, self.rented_out, self.workers, mu_per_worker, withheld, match, u
            )
        )


class Person(mesa.Agent):
    """A person: age, sex, skill, hukou, residence, household, work and income."""

    def __init__(self, model: mesa.Model, pid: int, **state):
        super().__init__(model)
        self.pid = pid
        for name in PERSON_FIELDS:
            setattr(self, name, state[name])
        self.role = -1

    # -- phases: each method is one person's decision, on the rules of sim.rules --------

    def step_demography(self, m, step: int, step_in_year: int) -> tuple[bool, bool]:
        """Decide death and birth on the start state; apply death or the birthday."""
        top = m.death_step.shape[1] - 1
        a = self.age if self.age < top else top
        gives_birth = (
            bool(self.female) and rng.uniform(m.seed, step, self.pid, rng.BIRTH) < m.birth_step[a]
        )
        dies = rng.uniform(m.seed, step, self.pid, rng.DEATH) < m.death_step[self.female, a]
        if dies:
            self.alive = 0
            self.work = WORK_NONE
            self.income = 0.0
        elif is_birthday(step_in_year, self.birth_quarter, m.spy):
            self.age += 1
        return dies, gives_birth

    def step_role(self, m, economy, year_index: int) -> int:
        """The labour role of this step."""
        p, w = m.params, m.world
        hh = self.household
        work_max = wage_work_age_max(
            self.female,
            self.hukou_urban,
            p.retirement_age_men,
            p.retirement_age_women,
            p.rural_work_age_max,
        )
        p_part = participation(
            self.age,
            self.female,
            p.participation_16_19,
            p.participation_20_24,
            p.participation_prime_men,
            p.participation_prime_women,
        )
        can_farm = hh.land > 0 and lives_at_home(self.residence, hh.village, w.town_of)
        access = 0.0
        if can_farm:
            access = (
                economy.commute_access[w.county[self.residence]]
                if w.kind[self.residence] == KIND_VILLAGE
                else p.town_dweller_wage_share
            )
        self.role = labour_role(
            self.age,
            work_max,
            p.farm_work_age_max,
            rng.uniform(m.seed, year_index, self.pid, rng.PARTICIPATE),
            p_part,
            can_farm,
            rng.uniform(m.seed, year_index, self.pid, rng.COMMUTE),
            access,
        )
        return self.role

    def step_work(self, m, economy, step: int, upgrade: float) -> None:
        """Job draw for a seeker, farm work otherwise; vocational upgrade."""
        if self.role == ROLE_SEEK:
            market = m.world.market[self.residence]
            if rng.uniform(m.seed, step, self.pid, rng.JOB_SEARCH) < economy.p_employed[market]:
                self.work = WORK_WAGE
                self.sector = (
                    1
                    if rng.uniform(m.seed, step, self.pid, rng.JOB_SECTOR)
                    < economy.industry_share[market]
                    else 2
                )
            else:
                self.work = WORK_SEEKING
                self.sector = 0
        elif self.role == ROLE_FARM:
            self.work = WORK_FARM
            self.sector = 0
        else:
            self.work = WORK_NONE
            self.sector = 0
        if (
            self.skill == 0
            and 16 <= self.age <= m.params.training_age_max
            and rng.uniform(m.seed, step, self.pid, rng.SKILL_UPGRADE) < upgrade
        ):
            self.skill = 1

    def choose_residence(self, m, tables, hazards, follow, step: int) -> int:
        """Where the person will live after this step's migration phase."""
        w = m.world
        if self.age < CHILD_AGE:
            mum = self.mother_agent
            if (
                mum is not None
                and mum.alive
                and mum.residence != self.residence
                and rng.uniform(m.seed, step, self.pid, rng.CHILD_FOLLOW) < follow[mum.residence]
            ):
                return mum.residence
            return self.residence
        band = age_band(self.age)
        searching = 1 if self.work == WORK_SEEKING else 0
        if (
            band < 0
            or rng.uniform(m.seed, step, self.pid, rng.MOVE_HAZARD) >= hazards[searching, band]
        ):
            return self.residence
        cur = current_slot(self.residence, self.hukou_place, w.kind, w.town_of)
        if cur < 0:
            return self.residence
        unit = (
            self.hukou_place
            if w.kind[self.hukou_place] != KIND_VILLAGE
            else w.town_of[self.hukou_place]
        )
        kids = 1 if (self.household.has_child and self.age <= m.params.parent_age_max) else 0
        cell = cell_index(unit, self.hukou_urban, self.skill, band, kids)
        s = choose_slot(
            tables.weights[cell],
            tables.totals[cell],
            tables.stay_boost,
            cur,
            rng.uniform(m.seed, step, self.pid, rng.MOVE_CHOICE),
        )
        return int(slot_place(s, self.hukou_place, w.kind, w.town_of))

    def decide_hukou(self, m, ease, apply_step, min_stay, security, step: int) -> int:
        """Apply for and obtain a local hukou (adults); 1 if converting."""
        if self.age < CHILD_AGE:
            return 0
        res, w = self.residence, m.world
        if w.kind[res] == KIND_VILLAGE or res == self.hukou_place or self.stay_months < min_stay:
            return 0
        has_land = self.hukou_urban == 0 and self.household.land > 0
        sec = security[max(int(w.county[self.hukou_place]), 0)]
        prob = hukou_application_probability(apply_step, has_land, m.params.hukou_land_fear, sec)
        if (
            rng.uniform(m.seed, step, self.pid, rng.HUKOU_APPLY) < prob
            and rng.uniform(m.seed, step, self.pid, rng.HUKOU_ACCEPT) < ease[res]
        ):
            return 1
        return 0

    @property
    def mother_agent(self) -> Person | None:
        """The mother's agent, if known."""
        return self.model.backend.people[self.mother] if self.mother >= 0 else None


class AgentBackend:
    """Persons and households as Mesa agents; see :class:`sim.model.RongheModel`."""

    def __init__(self, model, population: Population):
        self.model = model
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
        m, p = self.model, self.model.params
        w = m.world
        mothers = []
        births = np.zeros(N_COUNTIES, np.int64)
        deaths = np.zeros(N_COUNTIES, np.int64)
        for person in list(self.people):
            if not person.alive:
                continue
            county = w.county[person.residence]
            dies, gives_birth = person.step_demography(m, step, step_in_year)
            if dies and county >= 0:
                deaths[county] += 1
            if gives_birth:
                mothers.append(person)
                if county >= 0:
                    births[county] += 1
        p_female = 1.0 / (1.0 + p.sex_ratio_at_birth)
        for mum in mothers:
            j = len(self.people)
            u = rng.uniform(m.seed, step, j, rng.NEWBORN_SKILL)
            high = (
                p.skill_high_share_new_cohorts
                if mum.hukou_urban
                else p.skill_high_share_new_cohorts * p.rural_high_skill_factor
            )
            skill = 2 if u < high else (1 if u < high + p.skill_mid_share_new_cohorts else 0)
            self._add_person(
                j,
                {
                    "alive": 1,
                    "age": 0,
                    "birth_quarter": step_in_year * 4 // m.spy,
                    "female": 1 if rng.uniform(m.seed, step, j, rng.NEWBORN_SEX) < p_female else 0,
                    "skill": skill,
                    "hukou_place": mum.hukou_place,
                    "hukou_urban": mum.hukou_urban,
                    "residence": mum.residence,
                    "household": mum.household.hid,
                    "mother": mum.pid,
                    "work": WORK_NONE,
                    "sector": 0,
                    "stay_months": 0,
                    "income": 0.0,
                },
            )
        return births, deaths

    # ---------------------------------------------------------------- labour

    def labour_roles(self, economy, step: int) -> np.ndarray:
        """Each person's labour role; job seekers per market."""
        m = self.model
        year_index = m.year_of_step(step - 1) if step else m.spec.start_year
        counts = np.zeros(N_MARKETS, np.int64)
        for person in self.people:
            if not person.alive:
                person.role = -1
                continue
            if person.step_role(m, economy, year_index) == ROLE_SEEK:
                counts[m.world.market[person.residence]] += 1
        return counts

    def labour_assign(self, economy, step: int) -> np.ndarray:
        """Job draws, farm work and vocational upgrades; return the trainees by county."""
        m = self.model
        upgrade = per_step(float(m.policy.vocational_training[0]), m.spy)
        skilled = self._skilled_by_county()
        for person in self.people:
            if person.alive:
                person.step_work(m, economy, step, upgrade)
        return self._skilled_by_county() - skilled

    def _skilled_by_county(self) -> np.ndarray:
        """Living persons with middle or high skills, by the county that trains them.

        That is the county they live in, or for those living outside the city the county
        of their hukou.
        """
        w = self.model.world
        counts = np.zeros(N_COUNTIES, np.int64)
        for person in self.people:
            county = w.county[person.residence]
            if county < 0:
                county = w.county[person.hukou_place]
            if person.alive and person.skill >= 1 and county >= 0:
                counts[county] += 1
        return counts

    def census(self) -> tuple[np.ndarray, np.ndarray]:
        """Employed persons per market and skill; living persons per place."""
        w = self.model.world
        employed = np.zeros((N_MARKETS, 3), np.int64)
        for person in self.people:
            if person.alive and person.work == WORK_WAGE:
                employed[w.market[person.residence], person.skill] += 1
        return employed, self.residents_by_place()

    # ---------------------------------------------------------------- land

    def _count_workers(self) -> None:
        for hh in self.households:
            hh.workers = sum(1 for p in hh.members if p.alive and p.work == WORK_FARM)

    def initial_land(self, transfer_rate: float, abandoned_share: float) -> None:
        """Split 2023 offered land between let and abandoned in the 2023 proportions."""
        m = self.model
        self._count_workers()
        frac = transfer_rate / (transfer_rate + abandoned_share)
        for hh in self.households:
            cap = farm_capacity_tenths(hh.workers, m.params.farm_capacity_per_worker)
            offered = max(hh.land - int(cap), 0)
            u = rng.uniform(m.seed, 0, hh.hid, rng.POP_LAND)
            hh.rented_out = min(math.floor(offered * frac + u), offered)
            hh.abandoned = offered - hh.rented_out

    def release_extinct_land(self, collective: np.ndarray) -> int:
        """Move the land of households without living members to their collective."""
        released = 0
        for hh in self.households:
            if hh.land > 0 and not hh.living():
                collective[hh.village] += hh.land
                released += hh.land
                hh.land = hh.rented_out = hh.abandoned = 0
        return released

    def land_offers(self, economy, withheld: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unlet offered land and let land per county (tenths of a mu)."""
        m = self.model
        self._count_workers()
        unplaced = np.zeros(N_COUNTIES, np.int64)
        let = np.zeros(N_COUNTIES, np.int64)
        for hh in self.households:
            if hh.land <= 0:
                continue
            c = m.world.county[hh.village]
            offer = int(
                land_offer(hh.land, hh.workers, m.params.farm_capacity_per_worker, withheld[c])[1]
            )
            if offer > hh.rented_out:
                unplaced[c] += offer - hh.rented_out
            let[c] += hh.rented_out
        return unplaced, let

    def land_apply(self, match_by_county: np.ndarray, withheld: np.ndarray, step: int) -> None:
        """Every household's land step."""
        m = self.model
        for hh in self.households:
            if hh.land > 0:
                c = m.world.county[hh.village]
                hh.step_land(
                    m.params.farm_capacity_per_worker,
                    withheld[c],
                    match_by_county[c],
                    m.seed,
                    step,
                )

    # ---------------------------------------------------------------- migration

    def migration_aggregates(self, economy) -> tuple[np.ndarray, np.ndarray]:
        """Network counts and the expected farm income per worker of each home unit."""
        from sim.numba_backend import farm_income_by_unit

        m, w = self.model, self.model.world
        network = np.zeros((w.n_home_units, 11), np.int64)
        for hh in self.households:
            hh.has_child = False
        for person in self.people:
            if not person.alive:
                continue
            if person.age < CHILD_AGE:
                person.household.has_child = True
            if 16 <= person.age <= m.params.rural_work_age_max:
                s = current_slot(person.residence, person.hukou_place, w.kind, w.town_of)
                if s >= 0:
                    unit = (
                        person.hukou_place
                        if w.kind[person.hukou_place] != KIND_VILLAGE
                        else w.town_of[person.hukou_place]
                    )
                    network[unit, s] += 1
        _, H = self.export()
        workers = np.array([hh.workers for hh in self.households], np.int64)
        return network, farm_income_by_unit(
            m, H.village, H.land, H.rented_out, H.abandoned, workers, economy
        )

    def migrate(self, tables, hazards, follow_by_place, step: int) -> None:
        """Everyone decides on the start state; then all moves are applied."""
        m = self.model
        moves = [
            person.choose_residence(m, tables, hazards, follow_by_place, step)
            if person.alive
            else person.residence
            for person in self.people
        ]
        for person, new in zip(self.people, moves, strict=True):
            if not person.alive:
                continue
            if new != person.residence:
                person.residence = new
                person.stay_months = 0
            elif person.stay_months < 30000:
                person.stay_months += 12 // m.spy

    def residents_by_place(self) -> np.ndarray:
        """Living persons per place (agent units)."""
        counts = np.zeros(self.model.world.n_places, np.int64)
        for person in self.people:
            if person.alive:
                counts[person.residence] += 1
        return counts

    # ---------------------------------------------------------------- hukou

    def hukou(self, ease_by_place, policy, step: int):
        """Applications, acceptance and conversions; counts by county."""
        m, p, w = self.model, self.model.params, self.model.world
        apply_step = per_step(float(p.hukou_apply_rate), m.spy)
        min_stay = round(p.hukou_min_stay_years * 12)
        security = policy.land_rights_security
        converts = {
            person.pid: person.decide_hukou(m, ease_by_place, apply_step, min_stay, security, step)
            for person in self.people
            if person.alive
        }
        for person in self.people:
            if person.alive and person.age < CHILD_AGE and person.mother >= 0:
                mum = self.people[person.mother]
                if (
                    converts.get(mum.pid, 0)
                    and person.residence == mum.residence
                    and person.hukou_place != person.residence
                ):
                    converts[person.pid] = 2
        citizenised = np.zeros(N_COUNTIES, np.int64)
        out = np.zeros(N_COUNTIES, np.int64)
        into = np.zeros(N_COUNTIES, np.int64)
        for person in self.people:
            if not converts.get(person.pid, 0):
                continue
            res, old = person.residence, person.hukou_place
            was_suining = w.kind[old] != KIND_OUTSIDE
            in_suining = w.kind[res] != KIND_OUTSIDE
            if in_suining and person.hukou_urban == 0:
                citizenised[w.county[res]] += 1
            if was_suining and not in_suining:
                out[w.county[old]] += 1
            if in_suining and not was_suining:
                into[w.county[res]] += 1
            person.hukou_place = res
            person.hukou_urban = 1
        return citizenised, out, into

    # ---------------------------------------------------------------- incomes

    def person_census(self, village_age_max: float) -> PersonCensus:
        """The counts over persons that incomes and budgets read."""
        employed, residents = self.census()
        seat, kids = self.non_local_residents()
        return PersonCensus(
            employed=employed,
            residents=residents,
            collective=self.collective_members(),
            village_adults=self.village_adults(village_age_max),
            seat_non_local=seat,
            kids_non_local=kids,
        )

    def collective_members(self) -> np.ndarray:
        """Rural-hukou members per village."""
        w = self.model.world
        members = np.zeros(w.n_places, np.int64)
        for person in self.people:
            if (
                person.alive
                and person.hukou_urban == 0
                and w.kind[person.hukou_place] == KIND_VILLAGE
            ):
                members[person.hukou_place] += 1
        return members

    def village_adults(self, age_max: float) -> np.ndarray:
        """Persons aged 16 to ``age_max`` living in their household's village, by county."""
        w = self.model.world
        counts = np.zeros(N_COUNTIES, np.int64)
        for person in self.people:
            village = person.household.village
            at_village = person.alive and village >= 0 and person.residence == village
            if at_village and 16 <= person.age <= age_max:
                counts[w.county[village]] += 1
        return counts

    def non_local_residents(self) -> tuple[np.ndarray, np.ndarray]:
        """Residents without a hukou of their county, by county.

        Returns:
            Residents of each county's seat (all ages), and children under 16 of its towns
            and seat, whose hukou place lies in another county or outside the city.
        """
        w = self.model.world
        seat = np.zeros(N_COUNTIES, np.int64)
        kids = np.zeros(N_COUNTIES, np.int64)
        for person in self.people:
            county = w.county[person.residence]
            if not person.alive or county < 0 or w.county[person.hukou_place] == county:
                continue
            kind = w.kind[person.residence]
            if kind == KIND_CORE:
                seat[county] += 1
            if kind in (KIND_CORE, KIND_TOWN) and person.age < CHILD_AGE:
                kids[county] += 1
        return seat, kids

    def incomes(self, economy, dividend_by_village, scalars) -> np.ndarray:
        """Each person's income; sums by the same fixed chunks as the numba kernel."""
        m, p, w = self.model, self.model.params, self.model.world
        for hh in self.households:
            hh.at_home = hh.n_living = 0
            hh.remit = 0.0
        for person in self.people:
            if person.alive:
                hh = person.household
                hh.n_living += 1
                if lives_at_home(person.residence, hh.village, w.town_of):
                    hh.at_home += 1
        for person in self.people:
            if person.alive and person.work == WORK_WAGE:
                hh = person.household
                if (
                    hh.village >= 0
                    and hh.at_home > 0
                    and not lives_at_home(person.residence, hh.village, w.town_of)
                ):
                    wage = (
                        economy.wages[w.market[person.residence], person.skill]
                        * p.net_wage_factor
                        / m.spy
                    )
                    hh.remit += p.remittance_share * wage
        crop = np.ascontiguousarray(economy.crop_per_tenth)
        partial = np.zeros((K.n_chunks(len(self.people)), N_COUNTIES, 2, 5))
        for person in self.people:
            if not person.alive:
                person.income = 0.0
                continue
            hh = person.household
            parts = person_income(
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
                w.kind,
                w.market,
                w.urban,
                w.county,
                w.town_of,
                dividend_by_village,
                economy.wages,
                crop,
                scalars,
            )
            person.income = parts[0] + parts[1] + parts[2] + parts[3]
            county = w.county[person.residence]
            if county >= 0:
                acc = partial[person.pid // K.CHUNK, county, w.urban[person.residence]]
                for k in range(4):
                    acc[k] += parts[k]
                acc[4] += 1.0
        return partial
