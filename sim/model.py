"""The Ronghe model: a ``mesa.Model`` stepping synchronous phases.

Each step (a quarter by default) runs, in order: demography, labour market, land market,
migration choice, hukou conversion, incomes, county budgets and indicators. Within a
phase every agent decides on the state at the start of the phase and all decisions are
then applied, so results do not depend on agent order or thread count.

Counties, firms and farm enterprises are Mesa agents. Persons and households are arrays
processed by numba kernels (``backend="numba"``) or Mesa agents (``backend="agents"``);
both call the rule functions of :mod:`sim.rules` on the same per-step tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mesa
import numpy as np

from sim import threads
from sim.agents import (
    SECTOR_INDUSTRY,
    SECTOR_SERVICES,
    County,
    FarmEnterprise,
    Firm,
)
from sim.data import RegionData
from sim.errors import FinishedError
from sim.kernels import (
    choice_weights,
    n_blocks,
    tally_land,
    tally_migrant_workers,
    tally_stocks,
)
from sim.levers import (
    SPENDING_CATEGORIES,
    Policy,
    catalogue_spending,
    default_policy,
    lever_defaults,
)
from sim.params import Params
from sim.population import Population
from sim.rules import (
    AGE_BAND_MID,
    INCOME_SCALARS,
    N_AGE_BANDS,
    land_guard_cost,
    per_step,
    withheld_share,
)
from sim.tallies import COMPONENTS, PYRAMID_BANDS, YearTally
from sim.world import (
    CENTRAL_COUNTY,
    KIND_CORE,
    KIND_TOWN,
    KIND_VILLAGE,
    SLOT_CORE,
    SLOT_TOWN,
    SLOT_VILLAGE,
    World,
)


@dataclass(frozen=True)
class RunSpec:
    """The run settings the model needs (validated by :mod:`sim.config`)."""

    seed: int = 1
    scale: float = 0.01
    backend: str = "numba"
    start_year: int = 2023
    end_year: int = 2035
    steps_per_year: int = 4
    check_invariants: bool = False


@dataclass(frozen=True)
class ChoiceTables:
    """Migration choice tables of one step, shared by both backends."""

    weights: np.ndarray  # [cell, slot] exp(V - max V), 0 where a slot does not exist
    totals: np.ndarray  # [cell] sum of the weights
    stay_boost: float  # exp(stay_bonus) - 1


@dataclass
class Economy:
    """Per-step tables shared by both backends."""

    wages: np.ndarray  # [market, skill] gross yuan per year
    p_employed: np.ndarray  # [market]
    industry_share: np.ndarray  # [market]
    commute_access: np.ndarray  # [county]
    crop_per_tenth: np.ndarray  # [county] yuan per tenth-mu per step
    rent_per_tenth: float
    subsidy_per_tenth: float
    price: float  # nominal growth factor since 2023 (wages)
    urban_other: float  # growth factor of urban operating, property and other transfers
    rural_other: float  # growth factor of rural business income and other transfers
    pension_rural: float
    pension_urban: float


def mortality_factor(params: Params, year: int) -> float:
    """Death rates of ``year`` relative to the life table's year (``mortality_decline``)."""
    return (1.0 - params.mortality_decline) ** (year - params.mortality_table_year)


def demography_tables(
    params: Params, steps_per_year: int, mortality: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Per-step death probabilities ``[sex, age]`` and birth probabilities ``[age]``.

    ``mortality`` scales the death rates at every age (see :func:`mortality_factor`).
    """
    from sim.rules import birth_probability, death_probability

    ages = range(121)
    death = np.array(
        [
            [
                death_probability(
                    a,
                    sex,
                    params.mortality_a_male * mortality,
                    params.mortality_a_female * mortality,
                    params.mortality_b,
                    params.infant_mortality * mortality,
                    steps_per_year,
                )
                for a in ages
            ]
            for sex in (0, 1)
        ]
    )
    fertility = fertility_table(params)
    birth = np.array([birth_probability(a, 1, fertility, steps_per_year) for a in ages])
    return death, birth


def fertility_table(params: Params) -> np.ndarray:
    """Annual births per woman by age (16-49), a normal schedule scaled to the TFR."""
    ages = np.arange(100)
    dens = np.exp(-0.5 * ((ages - params.fertility_mean_age) / params.fertility_sd_age) ** 2)
    dens[(ages < 16) | (ages > 49)] = 0.0
    return params.total_fertility_rate * dens / dens.sum()


class RongheModel(mesa.Model):
    """The region from the 2023 baseline to ``end_year``.

    Args:
        region: Region data.
        world: Place layout.
        params: Behavioural parameters.
        population: The synthetic 2023 population (taken over by the model).
        spec: Run settings.
        policy_at: Function from a time in years (``2025.25`` is the start of the second
            quarter of 2025) to the :class:`~sim.levers.Policy` in force; called at the
            start of every step. The 2023 base year always runs on the 2023 policy.
    """

    def __init__(
        self,
        region: RegionData,
        world: World,
        params: Params,
        population: Population,
        spec: RunSpec,
        policy_at,
    ):
        threads.prepare()  # before any kernel: a fork-safe threading layer
        super().__init__(rng=spec.seed)
        self.region = region
        self.world = world
        self.params = params
        self.spec = spec
        self.seed = spec.seed
        self.spy = spec.steps_per_year
        self.weight = population.weight
        self.policy_at = policy_at
        # The region's 2023 policy: the base year runs on it, and levers are priced and
        # land security anchored against it.
        self.base_policy = default_policy(lever_defaults(region))
        self.t = 0
        self.death_step, self.birth_step = demography_tables(
            params, self.spy, mortality_factor(params, spec.start_year)
        )
        self.skill_multiplier = np.array([1.0, params.skill_premium_mid, params.skill_premium_high])
        self.let_share = np.full(self.world.n_counties, 1.0)
        self._invariant_state = None
        self.last_income_inputs = None
        self.paid_by_budgets: dict[str, np.ndarray] = {}
        self.last_lever_spending = np.zeros((self.world.n_counties, len(SPENDING_CATEGORIES)))
        self._county_shares: np.ndarray | None = None
        self.trainees = np.zeros(self.world.n_counties, np.int64)
        self._layout: dict | None = None
        self.collective = np.zeros(world.n_places, np.int64)
        self.collective_let = np.zeros(world.n_places, np.int64)
        self.tallies: list[YearTally] = []
        self.enterprises: list[FarmEnterprise] = []
        self.year_tally = YearTally.empty(spec.start_year, region.county_keys, region.outside_keys)
        self.counties = [
            County(self, c, u.key, u.name_zh, u.name_en) for c, u in enumerate(region.counties)
        ]
        self._land_per_rural_person = region.value("city", "land_per_rural_person", 2023)
        if spec.backend == "numba":
            from sim.numba_backend import NumbaBackend

            self.backend = NumbaBackend(self, population)
        elif spec.backend == "agents":
            from sim.agent_backend import AgentBackend

            self.backend = AgentBackend(self, population)
        else:  # validated earlier; kept for direct API users
            raise ValueError(f"backend={spec.backend!r}: allowed numba or agents")
        self._initialise()
        self.running = self.n_steps > 0

    # ------------------------------------------------------------------ time

    @property
    def n_steps(self) -> int:
        """Steps from the start year to the end of ``end_year``."""
        return (self.spec.end_year - self.spec.start_year) * self.spy

    def year_of_step(self, t: int) -> int:
        """Calendar year of step ``t`` (0-based count of steps already done)."""
        return self.spec.start_year + 1 + t // self.spy

    def time_of_step(self, t: int) -> float:
        """Time in years at the start of step ``t``: 2024.0 for the first quarterly step."""
        return self.year_of_step(t) + (t % self.spy) / self.spy

    def _years(self) -> float:
        return self.t / self.spy

    # ------------------------------------------------------------------ setup

    def _initialise(self) -> None:
        """Firms from the 2023 labour supply, the 2023 land split, and the 2023 tally."""
        p = self.params
        # The base year is observed data: it runs on the 2023 policy whatever the scenario.
        policy = self.base_policy
        self.policy = policy
        base_wage = np.array([self._base_wage(m) for m in range(self.world.n_markets)])
        self.market_wage = base_wage.copy()
        self.p_employed = np.full(self.world.n_markets, p.employment_rate_2023)
        self.p_employed[self.world.market_outside :] = p.employment_rate_outside
        economy = self._economy(policy)
        supply = self.backend.labour_roles(economy, step=0)
        self._seekers = supply.astype(np.float64)
        self._tightness = np.zeros(self.world.n_markets)  # clears at the 2023 rate in 2023
        self.firms: list[Firm] = []
        for m in range(self.world.market_outside):
            county = m % self.world.n_counties
            share = p.industry_share_core if m < self.world.market_towns else p.industry_share_towns
            total = p.employment_rate_2023 * supply[m] * self.weight
            for sector, frac in ((SECTOR_INDUSTRY, share), (SECTOR_SERVICES, 1 - share)):
                self.firms.append(
                    Firm(
                        self,
                        m,
                        county,
                        sector,
                        total * frac,
                        base_wage[m],
                        in_seat=m < self.world.market_towns,
                    )
                )
        self._assign_and_train(economy, step=0)
        self.backend.initial_land(
            self.region.value("city", "land_transfer_rate", 2023),
            self.region.value("city", "abandoned_land_share", 2023),
        )
        let = self.backend.land_offers(self._withheld(policy))[1]
        self.enterprises = [
            FarmEnterprise(self, c, float(let[c])) for c in range(self.world.n_counties)
        ]
        self.census = self.backend.person_census(p.farm_work_age_max)
        self._tally_incomes(economy, repeat=self.spy)
        self._budgets(economy, citizenised=np.zeros(self.world.n_counties), repeat=self.spy)
        self._close_year()

    def _base_wage(self, market: int) -> float:
        p = self.params
        if market < self.world.market_towns:
            return p.wage_core_2023
        if market < self.world.market_outside:
            return p.wage_core_2023 * p.wage_town_factor
        return p.wage_core_2023 * getattr(
            p, f"wage_factor_{self.region.outside_keys[market - self.world.market_outside]}"
        )

    # ------------------------------------------------------------------ economy tables

    def _economy(self, policy: Policy) -> Economy:
        p, years = self.params, self._years()
        price = self.wage_trend()
        wages = self.market_wage[:, None] * self.skill_multiplier[None, :]
        industry = np.where(
            np.arange(self.world.n_markets) < self.world.market_towns,
            p.industry_share_core,
            p.industry_share_towns,
        )
        road = np.array([c.road_index for c in self.counties])
        commute = np.minimum(
            p.commute_access_max, p.commute_access_2023 * road**p.road_commute_elasticity
        )
        agri = np.array([c.agri_index for c in self.counties])
        parks = np.array([e.park_scale for e in self.enterprises] or [1.0] * self.world.n_counties)
        productivity = (
            (1 + p.consolidation_productivity_gain * policy.land_consolidation)
            * agri**p.agri_investment_elasticity
            * parks**p.agri_park_productivity_share
        )
        farm_growth = (1 + p.farm_income_growth) ** years
        crop = p.crop_income_per_mu_2023 * farm_growth * productivity / 10.0 / self.spy
        rent = self.region.value("city", "land_rent", 2023) * (1 + p.land_rent_growth) ** years
        return Economy(
            wages=wages,
            p_employed=self.p_employed.copy(),
            industry_share=industry,
            commute_access=commute,
            crop_per_tenth=crop,
            rent_per_tenth=rent / 10.0 / self.spy,
            subsidy_per_tenth=p.farm_subsidy_per_mu / 10.0 / self.spy,
            price=price,
            urban_other=(1 + p.urban_other_growth) ** years,
            rural_other=(1 + p.rural_other_growth) ** years,
            pension_rural=(1 + p.pension_growth_rural) ** years,
            pension_urban=(1 + p.pension_growth_urban) ** years,
        )

    # ------------------------------------------------------------------ step

    def step(self) -> None:
        """Advance one step through the eight phases.

        ``running`` turns false after the last step of ``end_year`` (so Mesa's
        ``run_model`` stops there).

        Raises:
            FinishedError: The run already reached the end of ``end_year``.
        """
        spy, t = self.spy, self.t
        if t >= self.n_steps:
            raise FinishedError(
                f"the run ended with {self.spec.end_year}; allowed {self.n_steps} steps "
                f"(end_year={self.spec.end_year}); build a model with a later end_year"
            )
        year = self.year_of_step(t)
        step_no = t + 1
        if t % spy == 0:
            self.year_tally = YearTally.empty(
                year, self.region.county_keys, self.region.outside_keys
            )
            self.death_step, self.birth_step = demography_tables(
                self.params, spy, mortality_factor(self.params, year)
            )
        policy = self.policy = self.policy_at(self.time_of_step(t))
        if self.spec.check_invariants:
            from sim.invariants import snapshot

            self._invariant_state = snapshot(self)
        self.t += 1
        economy = self._economy(policy)
        # 1 demography
        births, deaths = self.backend.demography(step_no, t % spy)
        self.year_tally.births += births
        self.year_tally.deaths += deaths
        # 2 labour market
        supply = self.backend.labour_roles(economy, step=step_no)
        self._clear_labour_markets(supply, policy)
        economy.p_employed = self.p_employed.copy()
        economy.wages = self.market_wage[:, None] * self.skill_multiplier[None, :]
        self._assign_and_train(economy, step=step_no)
        # 3 land market
        self.backend.release_extinct_land(self.collective)
        withheld = self._withheld(policy)
        unplaced, let = self.backend.land_offers(withheld)
        match = self._land_matching(unplaced, let, policy)
        self.backend.land_apply(match, withheld, step_no)
        self._collective_letting(match, step_no)
        # 4 migration
        network, farm_income_unit = self.backend.migration_aggregates(economy)
        tables = self._choice_tables(network, farm_income_unit, economy, policy)
        self.backend.migrate(tables, self._hazards(), self._follow_by_place(policy), step_no)
        # 5 hukou
        citizenised, out, into = self.backend.hukou(self._ease_by_place(policy), policy, step_no)
        self.year_tally.citizenised += citizenised
        self.year_tally.hukou_out += out
        self.year_tally.hukou_in += into
        self.census = self.backend.person_census(self.params.farm_work_age_max)
        # 6 incomes
        self._tally_incomes(economy, repeat=1)
        # 7 county budgets
        self._budgets(economy, citizenised=citizenised * self.weight, repeat=1)
        # 8 indicators
        if self.t % spy == 0:
            self._close_year()
        if self.spec.check_invariants:
            from sim.invariants import check_step

            check_step(self, self._invariant_state)
        self._invariant_state = None
        self.running = self.t < self.n_steps

    def run(self, progress=None) -> list[YearTally]:
        """Run to the end year; ``progress`` is called with the number of steps done."""
        for _ in range(self.n_steps):
            self.step()
            if progress is not None:
                progress(1)
        return self.tallies

    # ------------------------------------------------------------------ labour market

    def wage_trend(self) -> float:
        """Growth factor of the region's wages since 2023 at the current step."""
        return (1 + self.params.wage_growth) ** self._years()

    def _clear_labour_markets(self, supply: np.ndarray, policy: Policy) -> None:
        """Employment probabilities and wages of every market (Harris-Todaro).

        Markets of one commuting zone (``World.market_zone``) clear together: one wage and
        one employment probability from their pooled demand and job seekers. Outside
        markets follow their documented wage path with a fixed employment probability.
        """
        p, years = self.params, self._years()
        trend = self.wage_trend()
        demand = np.zeros(self.world.n_markets)
        for firm in self.firms:
            firm.wage = self.market_wage[firm.market]
            demand[firm.market] += firm.update_demand(
                params=p,
                policy=policy,
                wage_trend=trend,
                tightness=float(self._tightness[firm.market]),
                steps_per_year=self.spy,
            )
        real_supply = supply * self.weight
        self._seekers = supply.astype(np.float64)
        from sim.rules import adjusted_wage, employment_probability, labour_market_gap

        outside_trend = trend * (1 + p.outside_wage_growth_premium) ** years
        for m in range(self.world.market_outside, self.world.n_markets):
            self.market_wage[m] = self._base_wage(m) * outside_trend
        zone = self.world.market_zone[: self.world.market_outside]
        for z in np.unique(zone):
            members = np.flatnonzero(zone == z)
            pooled_demand = float(demand[members].sum())
            pooled_supply = float(real_supply[members].sum())
            self.p_employed[members] = employment_probability(pooled_demand, pooled_supply)
            self._tightness[members] = labour_market_gap(
                pooled_demand, pooled_supply, p.employment_rate_2023, p.wage_adjustment_gap_max
            )
            self.market_wage[members] = adjusted_wage(
                self.market_wage[z],
                pooled_demand,
                pooled_supply,
                p.employment_rate_2023,
                p.wage_adjustment_speed,
                p.wage_adjustment_gap_max,
                p.wage_growth,
                self.spy,
            )

    def _assign_and_train(self, economy: Economy, step: int) -> None:
        """Job draws and vocational upgrades; counts this step's trainees by county."""
        self.trainees = self.backend.labour_assign(economy, step=step)

    # ------------------------------------------------------------------ land market

    def _land_matching(self, unplaced: np.ndarray, let: np.ndarray, policy: Policy) -> np.ndarray:
        p = self.params
        quarterly = p.land_match_rate * (1 - policy.land_transfer_friction)
        base = 1 - (1 - quarterly) ** (4 / self.spy)
        recovery = np.array(
            [
                per_step(policy.abandoned_land_recovery[c], self.spy)
                for c in range(self.world.n_counties)
            ]
        )
        q = 1 - (1 - base) * (1 - recovery)
        out = np.zeros(self.world.n_counties)
        for c, ent in enumerate(self.enterprises):
            want = ent.desired_area(params=p, policy=policy, steps_per_year=self.spy)
            room = max(0.0, want - let[c] - self._collective_let_in(c))
            expected = q[c] * unplaced[c]
            out[c] = q[c] if expected <= room else q[c] * room / max(expected, 1e-12)
        return out

    def _withheld(self, policy: Policy) -> np.ndarray:
        """Share of surplus land households keep off the rental market, by county."""
        return withheld_share(policy.land_rights_security, self.params.land_let_fear)

    def _collective_let_in(self, county: int) -> float:
        mask = self.world.county == county
        return float(self.collective_let[mask].sum())

    def _collective_letting(self, match: np.ndarray, step_no: int) -> None:
        """Village collectives let the land of extinct households like a household would."""
        from sim import rng

        villages = np.flatnonzero(self.collective > self.collective_let)
        if len(villages) == 0:
            return
        idle = self.collective[villages] - self.collective_let[villages]
        q = match[self.world.county[villages]]
        u = rng.uniforms(self.seed, step_no, villages, rng.LAND_TAKEBACK)
        self.collective_let[villages] += np.minimum(idle, np.floor(idle * q + u).astype(np.int64))

    # ------------------------------------------------------------------ migration

    def _hazards(self) -> np.ndarray:
        p = self.params
        annual = [p.hazard_16_24, p.hazard_25_34, p.hazard_35_44, p.hazard_45_59, p.hazard_60_74]
        searching = [min(1.0, a * p.unemployed_hazard_factor) for a in annual]
        return np.array([[per_step(a, self.spy) for a in row] for row in (annual, searching)])

    def _service_factor(self) -> np.ndarray:
        return np.array(
            [min(self.params.service_index_max, c.service_index) for c in self.counties]
        )

    def _follow_by_place(self, policy: Policy) -> np.ndarray:
        """Per-step probability that a child joins its mother living at each place."""
        p, w = self.params, self.world
        access = np.ones(w.n_places)
        svc = self._service_factor()
        urban_suining = (w.kind == KIND_TOWN) | (w.kind == KIND_CORE)
        county = np.maximum(w.county, 0)
        access[urban_suining] = np.minimum(
            1.0, policy.migrant_school_access[county[urban_suining]] * svc[county[urban_suining]]
        )
        for j, name in enumerate(self.region.outside_keys):
            access[self.world.first_outside + j] = getattr(p, f"service_access_{name}")
        quarterly = p.child_follow_rate * access
        return 1 - (1 - quarterly) ** (4 / self.spy)

    def _ease_by_place(self, policy: Policy) -> np.ndarray:
        p, w = self.params, self.world
        ease = np.zeros(w.n_places)
        urban_suining = (w.kind == KIND_TOWN) | (w.kind == KIND_CORE)
        ease[urban_suining] = policy.settlement_ease[w.county[urban_suining]]
        for j, name in enumerate(self.region.outside_keys):
            ease[self.world.first_outside + j] = getattr(p, f"settlement_ease_{name}")
        return ease

    def _choice_layout(self) -> dict:
        """Parts of the migration tables that never change during a run."""
        p, w = self.params, self.world
        n_units = w.n_home_units
        unit_county = np.full(n_units, -1)
        unit_county[: self.world.n_counties] = np.arange(self.world.n_counties)
        unit_county[self.world.first_town :] = w.county[self.world.first_town : n_units]
        is_town = np.zeros(n_units, bool)
        is_town[self.world.first_town :] = True
        cty = np.maximum(unit_county, 0)
        slot_market = np.zeros((n_units, self.world.n_slots), np.int64)
        slot_market[:, SLOT_VILLAGE] = self.world.market_towns + cty
        slot_market[:, SLOT_TOWN] = self.world.market_towns + cty
        slot_market[:, SLOT_CORE : self.world.slot_outside] = np.arange(self.world.n_counties)
        slot_market[:, self.world.slot_outside :] = self.world.market_outside + np.arange(
            self.world.n_outside
        )
        home_slot = np.full((n_units, 2), -1)
        home_slot[is_town, 0] = SLOT_VILLAGE
        home_slot[is_town, 1] = SLOT_TOWN
        home_slot[: self.world.n_counties, :] = (
            SLOT_CORE + np.arange(self.world.n_counties)[:, None]
        )
        home_slot[self.world.first_outside : self.world.first_town, :] = (
            self.world.slot_outside + np.arange(self.world.n_outside)
        )[:, None]
        asc = np.zeros(self.world.n_slots)
        asc[SLOT_TOWN] = p.asc_town
        asc[SLOT_CORE : self.world.slot_outside] = p.asc_core
        asc[self.world.slot_outside :] = p.asc_outside
        distance = -p.beta_distance * np.log1p(w.slot_distance_km[:n_units])
        distance -= p.beta_out_of_province * w.slot_out_of_province[:n_units]
        own_outside = np.zeros((n_units, self.world.n_outside), bool)
        own_outside[self.world.first_outside : self.world.first_town] = np.eye(
            self.world.n_outside, dtype=bool
        )
        local_core = unit_county[:, None] == np.arange(self.world.n_counties)[None, :]
        villages = np.flatnonzero(w.kind == KIND_VILLAGE)
        return {
            "n_units": n_units,
            "cty": cty,
            # Seatless townships: home units whose town slot is no place to live.
            "seatless": np.flatnonzero(
                (w.kind[:n_units] == KIND_TOWN) & (w.town_seat[:n_units] == 0)
            ),
            "villages": villages,
            "village_unit": w.town_of[villages],
            "is_town": is_town.astype(np.int8),
            "slot_market": slot_market,
            "home_slot": home_slot,
            "asc": asc,
            "fixed": distance + asc,
            "home_bonus": p.asc_home + p.home_age_gradient * np.maximum(0.0, AGE_BAND_MID - 40),
            "own_outside": own_outside,
            "local_core": local_core,
            "outside_access": np.array(
                [getattr(p, f"service_access_{name}") for name in self.region.outside_keys]
            ),
            "outside_housing": np.array(
                [getattr(p, f"housing_cost_{name}") for name in self.region.outside_keys]
            ),
        }

    def _choice_tables(
        self, network: np.ndarray, farm_income_unit: np.ndarray, economy: Economy, policy: Policy
    ) -> ChoiceTables:
        """Logit weights of every destination slot for every cell of persons."""
        p = self.params
        if self._layout is None:
            self._layout = self._choice_layout()
        lay = self._layout
        n_units, cty = lay["n_units"], lay["cty"]
        slot_market = lay["slot_market"]
        # Harris-Todaro expected income of each slot, by skill: [unit, skill, slot].
        exp_wage = (
            economy.wages[slot_market].transpose(0, 2, 1)
            * (economy.p_employed[slot_market] * p.net_wage_factor)[:, None, :]
        )

        # Expected income at the home village: farm or commute, plus household business.
        commute = economy.commute_access[cty]
        village_income = (
            (1 - commute)[:, None] * farm_income_unit[:, None]
            + commute[:, None] * exp_wage[:, :, SLOT_TOWN]
            + p.rural_business_income_2023 * economy.rural_other
        )
        self._tally_expected_incomes(economy, village_income[:, 0])
        # Rent a rural household can expect for its land if its members leave.
        let_share = self.let_share
        rent_expect = (
            self._land_per_rural_person * economy.rent_per_tenth * 10 * self.spy * let_share[cty]
        )
        income = np.empty((n_units, 2, 3, self.world.n_slots))
        income[:, 0] = exp_wage + rent_expect[:, None, None]
        income[:, 1] = exp_wage
        income[:, :, :, SLOT_VILLAGE] = village_income[:, None, :]
        util = p.beta_income * np.log(np.maximum(income, p.income_floor))

        # Housing cost of each slot (none at home; rental housing lowers it in the seats).
        housing = np.zeros(self.world.n_slots)
        housing[SLOT_TOWN] = p.housing_cost_town
        housing[SLOT_CORE : self.world.slot_outside] = p.housing_cost_core * (
            1 - policy.rental_housing
        )
        housing[SLOT_CORE] = p.housing_cost_central * (1 - policy.rental_housing[CENTRAL_COUNTY])
        housing[self.world.slot_outside :] = lay["outside_housing"]

        # Network share among those away from home.
        home_slot = lay["home_slot"]
        away = network.sum(axis=1) - network[np.arange(n_units), home_slot[:, 0]]
        net_share = network / np.maximum(away, 1)[:, None]

        # Service access of adults and of children, scaled by the county's capacity.
        svc = np.minimum(1.0, self._service_factor())
        access = np.empty((n_units, self.world.n_slots))
        access_kid = np.empty((n_units, self.world.n_slots))
        access[:, SLOT_VILLAGE] = min(1.0, p.service_access_village) * svc[cty]
        access[:, SLOT_TOWN] = svc[cty]
        access_kid[:, :2] = access[:, :2]
        local = lay["local_core"]
        access[:, SLOT_CORE : self.world.slot_outside] = (
            np.where(local, 1.0, policy.services_by_residence) * svc
        )
        access_kid[:, SLOT_CORE : self.world.slot_outside] = (
            np.where(local, 1.0, policy.migrant_school_access) * svc
        )
        outside = np.where(lay["own_outside"], 1.0, lay["outside_access"])
        access[:, self.world.slot_outside :] = outside
        access_kid[:, self.world.slot_outside :] = outside

        n_cells = n_units * 2 * 3 * N_AGE_BANDS * 2
        base = util + (lay["fixed"] + p.beta_network * net_share)[:, None, None, :]
        base[:, :, :, SLOT_TOWN] += self._small_city_bonus(policy)[:, None, None]
        base[:, 0] -= self._land_guard(policy)[:, None, :]
        # A seatless township's town slot is not an alternative: utility -inf, weight 0.
        base[lay["seatless"], :, :, SLOT_TOWN] = -np.inf
        weights = np.empty((n_cells, self.world.n_slots))
        totals = np.empty(n_cells)
        choice_weights(
            base,
            p.beta_services * access,
            p.beta_services * p.children_services_multiplier * access_kid,
            p.beta_housing * housing,
            lay["asc"],
            lay["home_bonus"],
            home_slot,
            lay["is_town"],
            weights,
            totals,
        )
        return ChoiceTables(weights, totals, math.expm1(p.stay_bonus))

    def _tally_expected_incomes(self, economy: Economy, village_income: np.ndarray) -> None:
        """Add the step's Harris-Todaro expected incomes of the migration choice by county.

        Urban: the county seat's low-skill wage x employment probability x net factor (what
        a mover expects in the seat). Rural: the expected income at the home village (farm
        income per at-home farm worker, commuting wages, household business) of the
        county's home units, weighted by their village residents.
        """
        lay, c = self._layout, self.world.n_counties
        urban = economy.wages[:c, 0] * economy.p_employed[:c] * self.params.net_wage_factor
        residents = self.census.residents[lay["villages"]].astype(np.float64)
        weight = np.bincount(lay["village_unit"], weights=residents, minlength=lay["n_units"])
        county = lay["cty"]
        tally = self.year_tally
        tally.expected_urban_income_sum += urban
        tally.expected_rural_income_sum += np.bincount(
            county, weights=weight * village_income, minlength=c
        )
        tally.village_residents_sum += np.bincount(county, weights=weight, minlength=c)
        tally.choice_steps += 1

    def _land_guard(self, policy: Policy) -> np.ndarray:
        """Cost of out-of-county slots for rural-hukou persons of villages: ``[unit, slot]``.

        Giles & Mu's outcome is migration out of the county, so the own county's seat and
        town are exempt; only units that are towns have villages and contracted land.
        """
        lay = self._layout
        cost = land_guard_cost(
            policy.land_rights_security[lay["cty"]],
            self.params.land_guard_cost,
            self.base_policy.land_rights_security[lay["cty"]],
        )
        away = np.zeros((lay["n_units"], self.world.n_slots))
        away[:, SLOT_CORE : self.world.slot_outside] = ~lay["local_core"]
        away[:, self.world.slot_outside :] = 1.0
        return (cost * lay["is_town"])[:, None] * away

    def _small_city_bonus(self, policy: Policy) -> np.ndarray:
        """Utility of the town slot for towns of more than 50,000 residents (lever (十)).

        The decision's threshold is the resident population of the town (镇) as a
        township: its seat and its villages.
        """
        w = self.world
        bonus = np.zeros(w.n_home_units)
        level = policy.small_cities[CENTRAL_COUNTY]
        if level > 0:
            township = self._township_residents()
            big = (
                np.flatnonzero(township[self.world.first_town : w.n_home_units] > 50_000)
                + self.world.first_town
            )
            bonus[big] = level * self.params.small_city_utility
        return bonus

    def _township_residents(self) -> np.ndarray:
        """Residents (real persons) of each town's township: the town and its villages."""
        w = self.world
        pop = self.backend.residents_by_place() * self.weight
        township = pop[: w.n_home_units].astype(float)
        villages = np.flatnonzero(w.kind == KIND_VILLAGE)
        np.add.at(township, w.town_of[villages], pop[villages])
        return township

    # ------------------------------------------------------------------ incomes, budgets

    def _income_inputs(self, economy: Economy) -> tuple[np.ndarray, np.ndarray]:
        """Dividends per village collective and the scalars of the income rule."""
        p, policy, w = self.params, self.policy, self.world
        dividend = np.zeros(w.n_places)
        members = self.census.collective
        villages = w.kind == KIND_VILLAGE
        county = np.maximum(w.county, 0)
        base = (
            p.collective_dividend_2023 * economy.rural_other
            + policy.collective_dividends[county]
            + policy.collective_land_market[county]
        )
        rent = self.collective_let * economy.rent_per_tenth * self.spy
        dividend[villages] = base[villages] + rent[villages] / np.maximum(members[villages], 1)
        relief = p.work_relief_earnings_2023 * economy.price
        # What the income rule pays persons from county budgets (yuan per step): work-relief
        # wages to adults at their village, and the lever's part of the dividends.
        adults = self.census.village_adults
        lever_dividend = np.zeros(w.n_places)
        lever_dividend[villages] = policy.collective_dividends[county[villages]]
        self.paid_by_budgets = {
            "work_relief": policy.work_relief[CENTRAL_COUNTY]
            * relief
            * adults
            / self.spy
            * self.weight,
            "collective_dividends": np.bincount(
                county[villages],
                weights=(lever_dividend * members)[villages],
                minlength=self.world.n_counties,
            )
            / self.spy
            * self.weight,
        }
        values = {
            "net_factor": p.net_wage_factor,
            "remit_share": p.remittance_share,
            "rent_per_tenth": economy.rent_per_tenth,
            "subsidy_per_tenth": economy.subsidy_per_tenth,
            "business": p.rural_business_income_2023 * economy.rural_other,
            "urban_other": p.urban_other_income_2023 * economy.urban_other,
            "urban_transfers": p.urban_other_transfers_2023 * economy.urban_other,
            "migrant_other_factor": p.migrant_other_income_factor,
            "pension_rural": p.pension_rural_2023 * economy.pension_rural,
            "pension_urban": p.pension_urban_2023 * economy.pension_urban,
            "retire_men": p.retirement_age_men,
            "retire_women": p.retirement_age_women,
            "rural_transfers": p.rural_other_transfers_2023 * economy.rural_other,
            "homestead_income": policy.homestead_revitalisation[CENTRAL_COUNTY]
            * p.homestead_rent
            * economy.rural_other
            / self.spy,
            "work_relief": policy.work_relief[CENTRAL_COUNTY],
            "relief_wage": relief,
            "farm_max": p.farm_work_age_max,
            "spy": float(self.spy),
        }
        scalars = np.array([float(values[name]) for name in INCOME_SCALARS])
        return dividend, scalars

    def _tally_incomes(self, economy: Economy, repeat: int) -> None:
        dividend, scalars = self._income_inputs(economy)
        self.last_income_inputs = (economy, dividend, scalars)
        partial = self.backend.incomes(economy, dividend, scalars)
        totals = partial.sum(axis=0)  # [county, urban, source], chunks added in order
        tally = self.year_tally
        tally.component_sum += totals[:, :, :4] * repeat
        tally.income_sum += totals[:, :, :4].sum(axis=2) * repeat
        tally.person_steps += totals[:, :, 4] * repeat
        tally.steps += repeat

    def _lever_spending(self, economy: Economy, citizenised: np.ndarray) -> np.ndarray:
        """Lever spending of one step by county and category (yuan per step).

        Where the model has the quantity the spending follows it (wages and dividends paid
        to persons, persons citizenised, the money levers); other levers are priced from
        the catalogue and split by the counties' 2023 residents.
        """
        p, policy, spy, price = self.params, self.policy, self.spy, economy.price
        paid = self.paid_by_budgets
        seat, kids = self.census.seat_non_local, self.census.kids_non_local
        more_access = {
            name: np.maximum(0.0, getattr(policy, name) - self.base_policy.values[name])
            for name in ("services_by_residence", "migrant_school_access")
        }
        out = np.empty((self.world.n_counties, len(SPENDING_CATEGORIES)))
        columns = {
            "work_relief": paid["work_relief"] / p.work_relief_labour_share,
            "collective_dividends": paid["collective_dividends"],
            "rural_roads": policy.rural_roads * price / spy,
            "service_capacity": policy.service_capacity * price / spy,
            "citizenisation": p.citizenisation_public_cost * price * citizenised,
            "vocational_training": p.training_cost_per_trainee
            * price
            * self.trainees
            * self.weight,
            "services_by_residence": more_access["services_by_residence"]
            * p.residence_service_cost
            * price
            * seat
            * self.weight
            / spy,
            "migrant_school_access": more_access["migrant_school_access"]
            * p.school_place_cost
            * price
            * kids
            * self.weight
            / spy,
            "catalogue": catalogue_spending(
                policy, self._county_shares, p.park_public_share, self.base_policy
            )
            * price
            / spy,
        }
        for k, name in enumerate(SPENDING_CATEGORIES):
            out[:, k] = columns[name]
        return out

    def _budgets(self, economy: Economy, citizenised: np.ndarray, repeat: int) -> None:
        employed, residents = self.census.employed, self.census.residents
        self._employed = employed
        w = self.world
        if self._county_shares is None:  # the 2023 base year
            counted = w.county >= 0
            by_county = np.bincount(
                w.county[counted], weights=residents[counted], minlength=self.world.n_counties
            )
            self._county_shares = by_county / by_county.sum()
        paid = (employed * economy.wages).sum(axis=1) / self.spy * self.weight
        wage_bill = (
            paid[: self.world.n_counties]
            + paid[self.world.market_towns : self.world.market_outside]
        )
        urban_places = (w.urban == 1) & (w.county >= 0)
        urban = (
            np.bincount(
                w.county[urban_places],
                weights=residents[urban_places],
                minlength=self.world.n_counties,
            )
            * self.weight
        )
        levers = self._lever_spending(economy, citizenised / repeat)
        self.last_lever_spending = levers
        tally = self.year_tally
        for _ in range(repeat):
            for c, county in enumerate(self.counties):
                county.run_budget(
                    wage_bill=wage_bill[c],
                    urban_residents=urban[c],
                    citizenised=citizenised[c] / repeat,
                    lever_spending=dict(zip(SPENDING_CATEGORIES, levers[c], strict=True)),
                    params=self.params,
                    policy=self.policy,
                    price_level=economy.price,
                    steps_per_year=self.spy,
                )
                tally.other_spending[c] += county.other_spending
                tally.capacity_spending[c] += county.capacity_spending
                tally.capacity_cut[c] += county.capacity_cut
            tally.lever_spending += levers

    def _close_year(self) -> None:
        tally = self.year_tally
        P, H = self.backend.state()
        w = self.world
        tally_stocks(
            P.n,
            P.alive,
            P.age,
            P.female,
            P.skill,
            P.residence,
            P.hukou_place,
            P.hukou_urban,
            P.work,
            w.county,
            w.urban,
            w.kind,
            tally.residents,
            tally.registered,
            tally.rural_old,
            tally.outside_by_dest,
            tally.workers,
            tally.children,
            tally.by_kind,
            tally.registered_16_59,
            tally.home_by_residence,
            tally.pyramid,
            n_blocks(P.n),
        )
        tally_land(
            H.n,
            H.village,
            H.land,
            H.rented_out,
            H.abandoned,
            self.collective,
            self.collective_let,
            w.county,
            w.n_places,
            tally.land,
        )
        tally.seat_jobs[:] = self._employed[: self.world.n_counties].sum(axis=1)
        base = np.array([self._base_wage(m) for m in range(self.world.n_counties)])
        tally.seat_wage_relative[:] = self.market_wage[: self.world.n_counties] / (
            base * self.wage_trend()
        )
        tally.seat_unemployment[:] = 1.0 - self.p_employed[: self.world.n_counties]
        tally.seat_seekers[:] = self._seekers[: self.world.n_counties]
        tally_migrant_workers(
            P.n,
            P.alive,
            P.age,
            P.hukou_place,
            P.hukou_urban,
            P.residence,
            P.work,
            w.kind,
            w.county,
            w.town_of,
            tally.migrant_workers,
            tally.migrant_age_sum,
        )
        tally.county_revenue[:] = [c.revenue * self.spy for c in self.counties]
        tally.county_balance[:] = [c.balance for c in self.counties]
        tally.service_index[:] = [c.service_index for c in self.counties]
        tally.road_index[:] = [c.road_index for c in self.counties]
        tally.agri_index[:] = [c.agri_index for c in self.counties]
        placed = tally.land[:, 1] + tally.land[:, 2]
        self.let_share = np.where(placed > 0, tally.land[:, 1] / np.maximum(placed, 1), 1.0)
        self.tallies.append(tally)


__all__ = [
    "COMPONENTS",
    "PYRAMID_BANDS",
    "ChoiceTables",
    "Economy",
    "RongheModel",
    "RunSpec",
    "YearTally",
]
