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
from sim.budgets import county_shares, lever_spending, urban_residents, wage_bills
from sim.data import RegionData
from sim.economy import Economy, base_wages, economy_tables, skill_multiplier, wage_trend
from sim.errors import FinishedError
from sim.kernels import n_blocks, tally_land, tally_migrant_workers, tally_stocks
from sim.labour_market import LabourMarkets
from sim.levers import SPENDING_CATEGORIES, Policy, default_policy, lever_defaults
from sim.migration_tables import ChoiceTables, ExpectedIncomes, MigrationChoice, service_factor
from sim.params import Params
from sim.population import Population
from sim.rules import INCOME_SCALARS, per_step, withheld_share
from sim.tallies import COMPONENTS, PYRAMID_BANDS, YearTally
from sim.world import CENTRAL_COUNTY, KIND_CORE, KIND_TOWN, KIND_VILLAGE, World


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
        self.skill_multiplier = skill_multiplier(params)
        self.let_share = np.full(self.world.n_counties, 1.0)
        self._invariant_state = None
        self.last_income_inputs = None
        self.paid_by_budgets: dict[str, np.ndarray] = {}
        self.last_lever_spending = np.zeros((self.world.n_counties, len(SPENDING_CATEGORIES)))
        self._county_shares: np.ndarray | None = None
        self.trainees = np.zeros(self.world.n_counties, np.int64)
        self.collective = np.zeros(world.n_places, np.int64)
        self.collective_let = np.zeros(world.n_places, np.int64)
        self.tallies: list[YearTally] = []
        self.enterprises: list[FarmEnterprise] = []
        self.year_tally = YearTally.empty(spec.start_year, region.county_keys, region.outside_keys)
        self.counties = [
            County(self, c, u.key, u.name_zh, u.name_en) for c, u in enumerate(region.counties)
        ]
        self.migration = MigrationChoice(world, region, params, self.spy)
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

    # ------------------------------------------------------------------ labour markets

    @property
    def market_wage(self) -> np.ndarray:
        """Low-skill wage of every market (``labour``, a :class:`LabourMarkets`)."""
        return self.labour.market_wage

    @property
    def p_employed(self) -> np.ndarray:
        """Employment probability of every market (``labour``)."""
        return self.labour.p_employed

    # ------------------------------------------------------------------ setup

    def _initialise(self) -> None:
        """Firms from the 2023 labour supply, the 2023 land split, and the 2023 tally."""
        p = self.params
        # The base year is observed data: it runs on the 2023 policy whatever the scenario.
        policy = self.base_policy
        self.policy = policy
        base_wage = base_wages(p, self.world, self.region, self.world.n_markets)
        self.labour = LabourMarkets(p, self.world, base_wage, self.spy)
        economy = self._economy(policy)
        supply = self.backend.labour_roles(economy, step=0)
        self.labour.seekers = supply.astype(np.float64)
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

    def _economy(self, policy: Policy) -> Economy:
        """The economy of the current step, from the markets, counties and enterprises."""
        n = self.world.n_counties
        return economy_tables(
            self.params,
            self.world,
            self.region,
            self.spy,
            years=self._years(),
            policy=policy,
            market_wage=self.market_wage,
            p_employed=self.p_employed,
            road_index=np.array([c.road_index for c in self.counties]),
            agri_index=np.array([c.agri_index for c in self.counties]),
            park_scale=np.array([e.park_scale for e in self.enterprises] or [1.0] * n),
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
        years = self._years()
        self.labour.clear(
            self.firms,
            supply,
            policy,
            trend=wage_trend(self.params, years),
            years=years,
            weight=self.weight,
        )
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
        service = service_factor(self.params, [c.service_index for c in self.counties])
        tables, expected = self.migration.tables(
            network=network,
            farm_income_unit=farm_income_unit,
            economy=economy,
            policy=policy,
            let_share=self.let_share,
            service=service,
            residents=self.census.residents,
            living=lambda: self.backend.residents_by_place() * self.weight,
            base_land_security=self.base_policy.land_rights_security,
        )
        self._tally_expected_incomes(expected)
        follow = self.migration.follow_by_place(policy, service)
        self.backend.migrate(tables, self.migration.hazards(), follow, step_no)
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

    def _tally_expected_incomes(self, expected: ExpectedIncomes) -> None:
        """Add a step's expected incomes of the migration choice to the year's tally."""
        tally = self.year_tally
        tally.expected_urban_income_sum += expected.urban
        tally.expected_rural_income_sum += expected.rural_sum
        tally.village_residents_sum += expected.village_residents
        tally.choice_steps += 1

    def _ease_by_place(self, policy: Policy) -> np.ndarray:
        p, w = self.params, self.world
        ease = np.zeros(w.n_places)
        urban_places = (w.kind == KIND_TOWN) | (w.kind == KIND_CORE)
        ease[urban_places] = policy.settlement_ease[w.county[urban_places]]
        for j, name in enumerate(self.region.outside_keys):
            ease[self.world.first_outside + j] = getattr(p, f"settlement_ease_{name}")
        return ease

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

    def _budgets(self, economy: Economy, citizenised: np.ndarray, repeat: int) -> None:
        """The counties' budgets of ``repeat`` steps (:mod:`sim.budgets`)."""
        census, w = self.census, self.world
        self._employed = census.employed
        if self._county_shares is None:  # the 2023 base year
            self._county_shares = county_shares(w, census.residents)
        wage_bill = wage_bills(w, census.employed, economy.wages, self.spy, self.weight)
        urban = urban_residents(w, census.residents, self.weight)
        levers = lever_spending(
            self.params,
            self.policy,
            self.base_policy,
            spy=self.spy,
            weight=self.weight,
            price=economy.price,
            paid=self.paid_by_budgets,
            seat_non_local=census.seat_non_local,
            kids_non_local=census.kids_non_local,
            trainees=self.trainees,
            shares=self._county_shares,
            citizenised=citizenised / repeat,
        )
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
        n, labour = self.world.n_counties, self.labour
        trend = wage_trend(self.params, self._years())
        tally.seat_wage_relative[:] = labour.market_wage[:n] / (labour.base_wage[:n] * trend)
        tally.seat_unemployment[:] = 1.0 - labour.p_employed[:n]
        tally.seat_seekers[:] = labour.seekers[:n]
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
