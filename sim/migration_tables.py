"""The migration choice's tables: logit weights of every slot for every cell of persons.

:class:`MigrationChoice` is built once per run from the places and the parameters (the
layout of slots, markets and constants that never change) and builds each step's
:class:`ChoiceTables` from the state the model passes it. With them come the step's
Harris-Todaro expected incomes (:class:`ExpectedIncomes`), the hazards of considering a
move, and the probability that a child follows its mother.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.kernels import choice_weights
from sim.rules import AGE_BAND_MID, N_AGE_BANDS, land_guard_cost, per_step
from sim.world import (
    CENTRAL_COUNTY,
    KIND_CORE,
    KIND_TOWN,
    KIND_VILLAGE,
    SLOT_CORE,
    SLOT_TOWN,
    SLOT_VILLAGE,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sim.data import RegionData
    from sim.economy import Economy
    from sim.levers import Policy
    from sim.params import Params
    from sim.world import World


@dataclass(frozen=True)
class ChoiceTables:
    """Migration choice tables of one step, shared by both backends."""

    weights: np.ndarray  # [cell, slot] exp(V - max V), 0 where a slot does not exist
    totals: np.ndarray  # [cell] sum of the weights
    stay_boost: float  # exp(stay_bonus) - 1


@dataclass(frozen=True)
class ExpectedIncomes:
    """A step's Harris-Todaro expected incomes of the migration choice, by county.

    Urban: the county seat's low-skill wage x employment probability x net factor (what
    a mover expects in the seat). Rural: the expected income at the home village (farm
    income per at-home farm worker, commuting wages, household business) of the county's
    home units, summed weighted by their village residents.
    """

    urban: np.ndarray  # [county]
    rural_sum: np.ndarray  # [county] sum of village residents x expected income
    village_residents: np.ndarray  # [county]


def service_factor(params: Params, service_index: Sequence[float]) -> np.ndarray:
    """The counties' service capacity indices, capped at ``service_index_max``."""
    return np.array([min(params.service_index_max, s) for s in service_index])


def township_residents(world: World, residents: np.ndarray) -> np.ndarray:
    """Residents of each home unit's township: a town and its villages.

    Args:
        world: Place layout.
        residents: Residents by place (real persons).
    """
    township = residents[: world.n_home_units].astype(float)
    villages = np.flatnonzero(world.kind == KIND_VILLAGE)
    np.add.at(township, world.town_of[villages], residents[villages])
    return township


class MigrationChoice:
    """The migration choice of one run: its fixed layout and each step's tables.

    Args:
        world: Place layout.
        region: Region data (outside destinations, the 2023 land per rural person).
        params: Behavioural parameters.
        steps_per_year: Steps per year.
    """

    def __init__(self, world: World, region: RegionData, params: Params, steps_per_year: int):
        self.world = world
        self.region = region
        self.params = params
        self.spy = steps_per_year
        self.land_per_rural_person = region.value("city", "land_per_rural_person", 2023)
        self.layout = self._layout()

    def _layout(self) -> dict:
        """Parts of the migration tables that never change during a run."""
        p, w = self.params, self.world
        n_units = w.n_home_units
        unit_county = np.full(n_units, -1)
        unit_county[: w.n_counties] = np.arange(w.n_counties)
        unit_county[w.first_town :] = w.county[w.first_town : n_units]
        is_town = np.zeros(n_units, bool)
        is_town[w.first_town :] = True
        cty = np.maximum(unit_county, 0)
        slot_market = np.zeros((n_units, w.n_slots), np.int64)
        slot_market[:, SLOT_VILLAGE] = w.market_towns + cty
        slot_market[:, SLOT_TOWN] = w.market_towns + cty
        slot_market[:, SLOT_CORE : w.slot_outside] = np.arange(w.n_counties)
        slot_market[:, w.slot_outside :] = w.market_outside + np.arange(w.n_outside)
        home_slot = np.full((n_units, 2), -1)
        home_slot[is_town, 0] = SLOT_VILLAGE
        home_slot[is_town, 1] = SLOT_TOWN
        home_slot[: w.n_counties, :] = SLOT_CORE + np.arange(w.n_counties)[:, None]
        outside_slots = w.slot_outside + np.arange(w.n_outside)
        home_slot[w.first_outside : w.first_town, :] = outside_slots[:, None]
        asc = np.zeros(w.n_slots)
        asc[SLOT_TOWN] = p.asc_town
        asc[SLOT_CORE : w.slot_outside] = p.asc_core
        asc[w.slot_outside :] = p.asc_outside
        distance = -p.beta_distance * np.log1p(w.slot_distance_km[:n_units])
        distance -= p.beta_out_of_province * w.slot_out_of_province[:n_units]
        own_outside = np.zeros((n_units, w.n_outside), bool)
        own_outside[w.first_outside : w.first_town] = np.eye(w.n_outside, dtype=bool)
        local_core = unit_county[:, None] == np.arange(w.n_counties)[None, :]
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

    def tables(
        self,
        *,
        network: np.ndarray,
        farm_income_unit: np.ndarray,
        economy: Economy,
        policy: Policy,
        let_share: np.ndarray,
        service: np.ndarray,
        residents: np.ndarray,
        living: Callable[[], np.ndarray],
        base_land_security: np.ndarray,
    ) -> tuple[ChoiceTables, ExpectedIncomes]:
        """Logit weights of every destination slot for every cell of persons.

        Args:
            network: Persons by home unit and slot they live in ``[unit, slot]``.
            farm_income_unit: Farm income per at-home farm worker by home unit.
            economy: The step's economy.
            policy: The policy in force.
            let_share: Share of the placed surplus land that is let, by county.
            service: The counties' service factors (:func:`service_factor`).
            residents: Residents by place at the last census (agent units); they weight
                the villages' expected incomes.
            living: Returns the residents by place now (real persons); called only when
                the small-cities lever is on.
            base_land_security: The counties' 2023 land-rights security.

        Returns:
            The tables and the step's expected incomes.
        """
        p, w = self.params, self.world
        lay = self.layout
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
        expected = self._expected_incomes(economy, village_income[:, 0], residents)
        # Rent a rural household can expect for its land if its members leave.
        rent_expect = (
            self.land_per_rural_person * economy.rent_per_tenth * 10 * self.spy * let_share[cty]
        )
        income = np.empty((n_units, 2, 3, w.n_slots))
        income[:, 0] = exp_wage + rent_expect[:, None, None]
        income[:, 1] = exp_wage
        income[:, :, :, SLOT_VILLAGE] = village_income[:, None, :]
        util = p.beta_income * np.log(np.maximum(income, p.income_floor))

        # Housing cost of each slot (none at home; rental housing lowers it in the seats).
        housing = np.zeros(w.n_slots)
        housing[SLOT_TOWN] = p.housing_cost_town
        housing[SLOT_CORE : w.slot_outside] = p.housing_cost_core * (1 - policy.rental_housing)
        housing[SLOT_CORE] = p.housing_cost_central * (1 - policy.rental_housing[CENTRAL_COUNTY])
        housing[w.slot_outside :] = lay["outside_housing"]

        # Network share among those away from home.
        home_slot = lay["home_slot"]
        away = network.sum(axis=1) - network[np.arange(n_units), home_slot[:, 0]]
        net_share = network / np.maximum(away, 1)[:, None]

        # Service access of adults and of children, scaled by the county's capacity.
        svc = np.minimum(1.0, service)
        access = np.empty((n_units, w.n_slots))
        access_kid = np.empty((n_units, w.n_slots))
        access[:, SLOT_VILLAGE] = min(1.0, p.service_access_village) * svc[cty]
        access[:, SLOT_TOWN] = svc[cty]
        access_kid[:, :2] = access[:, :2]
        local = lay["local_core"]
        access[:, SLOT_CORE : w.slot_outside] = (
            np.where(local, 1.0, policy.services_by_residence) * svc
        )
        access_kid[:, SLOT_CORE : w.slot_outside] = (
            np.where(local, 1.0, policy.migrant_school_access) * svc
        )
        outside = np.where(lay["own_outside"], 1.0, lay["outside_access"])
        access[:, w.slot_outside :] = outside
        access_kid[:, w.slot_outside :] = outside

        n_cells = n_units * 2 * 3 * N_AGE_BANDS * 2
        base = util + (lay["fixed"] + p.beta_network * net_share)[:, None, None, :]
        base[:, :, :, SLOT_TOWN] += self.small_city_bonus(policy, living)[:, None, None]
        base[:, 0] -= self.land_guard(policy, base_land_security)[:, None, :]
        # A seatless township's town slot is not an alternative: utility -inf, weight 0.
        base[lay["seatless"], :, :, SLOT_TOWN] = -np.inf
        weights = np.empty((n_cells, w.n_slots))
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
        return ChoiceTables(weights, totals, math.expm1(p.stay_bonus)), expected

    def _expected_incomes(
        self, economy: Economy, village_income: np.ndarray, residents: np.ndarray
    ) -> ExpectedIncomes:
        """The step's expected incomes by county (:class:`ExpectedIncomes`)."""
        lay, c = self.layout, self.world.n_counties
        urban = economy.wages[:c, 0] * economy.p_employed[:c] * self.params.net_wage_factor
        at_village = residents[lay["villages"]].astype(np.float64)
        weight = np.bincount(lay["village_unit"], weights=at_village, minlength=lay["n_units"])
        county = lay["cty"]
        return ExpectedIncomes(
            urban=urban,
            rural_sum=np.bincount(county, weights=weight * village_income, minlength=c),
            village_residents=np.bincount(county, weights=weight, minlength=c),
        )

    def land_guard(self, policy: Policy, base_land_security: np.ndarray) -> np.ndarray:
        """Cost of out-of-county slots for rural-hukou persons of villages: ``[unit, slot]``.

        Giles & Mu's outcome is migration out of the county, so the own county's seat and
        town are exempt; only units that are towns have villages and contracted land.
        """
        lay, w = self.layout, self.world
        cost = land_guard_cost(
            policy.land_rights_security[lay["cty"]],
            self.params.land_guard_cost,
            base_land_security[lay["cty"]],
        )
        away = np.zeros((lay["n_units"], w.n_slots))
        away[:, SLOT_CORE : w.slot_outside] = ~lay["local_core"]
        away[:, w.slot_outside :] = 1.0
        return (cost * lay["is_town"])[:, None] * away

    def small_city_bonus(self, policy: Policy, living: Callable[[], np.ndarray]) -> np.ndarray:
        """Utility of the town slot for towns of more than 50,000 residents (lever (十)).

        The decision's threshold is the resident population of the town (镇) as a
        township: its seat and its villages (:func:`township_residents` of ``living()``).
        """
        w = self.world
        bonus = np.zeros(w.n_home_units)
        level = policy.small_cities[CENTRAL_COUNTY]
        if level > 0:
            township = township_residents(w, living())
            big = np.flatnonzero(township[w.first_town : w.n_home_units] > 50_000) + w.first_town
            bonus[big] = level * self.params.small_city_utility
        return bonus

    def hazards(self) -> np.ndarray:
        """Per-step hazard of considering a move ``[searching, age band]``."""
        p = self.params
        annual = [p.hazard_16_24, p.hazard_25_34, p.hazard_35_44, p.hazard_45_59, p.hazard_60_74]
        searching = [min(1.0, a * p.unemployed_hazard_factor) for a in annual]
        return np.array([[per_step(a, self.spy) for a in row] for row in (annual, searching)])

    def follow_by_place(self, policy: Policy, service: np.ndarray) -> np.ndarray:
        """Per-step probability that a child joins its mother living at each place.

        Args:
            policy: The policy in force (migrant school access).
            service: The counties' service factors (:func:`service_factor`).
        """
        p, w = self.params, self.world
        access = np.ones(w.n_places)
        urban = (w.kind == KIND_TOWN) | (w.kind == KIND_CORE)
        county = np.maximum(w.county, 0)
        access[urban] = np.minimum(
            1.0, policy.migrant_school_access[county[urban]] * service[county[urban]]
        )
        for j, name in enumerate(self.region.outside_keys):
            access[w.first_outside + j] = getattr(p, f"service_access_{name}")
        quarterly = p.child_follow_rate * access
        return 1 - (1 - quarterly) ** (4 / self.spy)
