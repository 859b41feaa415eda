"""Mesa agents: counties and firms in both backends.

Counties and firms are few (five counties, a firm per labour market and sector, an
agricultural enterprise sector per county) and keep slow state: budgets, service and
road capacity, labour demand and wages. Persons and households are arrays in
``backend=numba`` and the :mod:`sim.agent_backend` agents in ``backend=agents``.
"""

from __future__ import annotations

import mesa

SECTOR_AGRICULTURE = 0
SECTOR_INDUSTRY = 1
SECTOR_SERVICES = 2


class County(mesa.Agent):
    """A county-level government: budget, and capacity indices for services and roads.

    The indices are 1.0 in 2023. Each year a county spends fixed shares of its revenue on
    services and rural roads, and a lever-set share of land-sale revenue on agriculture;
    an index rises when spending exceeds the upkeep of the existing capacity (its
    depreciation at 2023 costs, which grow with wages).
    """

    def __init__(self, model: mesa.Model, index: int, key: str, name_zh: str, name_en: str):
        super().__init__(model)
        self.index = index
        self.key = key
        self.name_zh = name_zh
        self.name_en = name_en
        self.balance = 0.0
        self.revenue = 0.0
        self.spending = 0.0
        self.service_index = 1.0
        self.road_index = 1.0
        self.agri_index = 1.0
        self._unit_cost: dict[str, float] = {}

    def _revenue_and_spending(
        self, *, wage_bill, urban_residents, citizenised, params, policy, price_level, spy
    ) -> tuple[float, float, dict[str, float]]:
        p, c = params, self.index
        land_sales = p.land_sale_revenue_per_urban_resident * price_level * urban_residents / spy
        transfers = policy.citizenisation_transfer[c] * citizenised
        earmarked = (policy.rural_roads[c] + policy.service_capacity[c]) * price_level / spy
        revenue = p.county_tax_rate * wage_bill + land_sales + transfers
        spend = {
            "service": p.service_spending_share * revenue
            + policy.service_capacity[c] * price_level / spy,
            "road": p.road_spending_share * revenue + policy.rural_roads[c] * price_level / spy,
            "agri": policy.land_sale_to_agriculture[c] * land_sales,
        }
        return revenue, earmarked, spend

    def run_budget(
        self,
        *,
        wage_bill: float,
        urban_residents: float,
        citizenised: float,
        params,
        policy,
        price_level: float,
        steps_per_year: int,
    ) -> None:
        """One step of revenue, spending and capacity (amounts in yuan per step)."""
        spy = steps_per_year
        revenue, earmarked, spend = self._revenue_and_spending(
            wage_bill=wage_bill,
            urban_residents=urban_residents,
            citizenised=citizenised,
            params=params,
            policy=policy,
            price_level=price_level,
            spy=spy,
        )
        if not self._unit_cost:
            # The first call is the 2023 base year, which runs on the 2023 policy: unit
            # costs at which 2023 spending exactly keeps every index at 1.0.
            self._depreciation = {
                "service": params.service_depreciation,
                "road": params.road_depreciation,
                "agri": params.service_depreciation,
            }
            self._unit_cost = {k: v * spy / self._depreciation[k] for k, v in spend.items()}
        for key, attr in (
            ("service", "service_index"),
            ("road", "road_index"),
            ("agri", "agri_index"),
        ):
            level = getattr(self, attr)
            built = spend[key] * spy / (self._unit_cost[key] * price_level)
            setattr(self, attr, level + (built - self._depreciation[key] * level) / spy)
        other = revenue - spend["service"] - spend["road"] - spend["agri"]
        total_spending = spend["service"] + spend["road"] + spend["agri"] + max(other, 0.0)
        # Earmarked lever money arrives as a transfer; the rest of revenue is spent.
        self.revenue = revenue + earmarked
        self.spending = total_spending
        self.balance += self.revenue - self.spending


class Firm(mesa.Agent):
    """Firms of one sector in one labour market: labour demand and the market wage."""

    def __init__(
        self,
        model: mesa.Model,
        market: int,
        county: int,
        sector: int,
        base_demand: float,
        wage: float,
        in_seat: bool,
    ):
        super().__init__(model)
        self.market = market
        self.county = county
        self.sector = sector
        self.base_demand = base_demand
        self.wage = wage
        self.base_wage = wage
        self.in_seat = in_seat
        self.demand = base_demand
        self.scale = 1.0  # demand growth since 2023, compounded step by step

    def update_demand(
        self, *, params, policy, wage_trend: float, tightness: float, steps_per_year: int
    ) -> float:
        """Advance one step and return labour demand at the current wage (real persons).

        Demand grows at the trend rate, less ``labour_demand_relocation`` times the
        market's ``tightness`` (the capped log gap between jobs per seeker and the 2023
        ratio, from the step before): firms open more vacancies where seekers are
        plentiful and fewer where they are scarce. County-seat firms add the
        park-investment lever in force this step, so a lever changed mid-run changes
        growth from then on.
        """
        relative_wage = self.wage / (self.base_wage * wage_trend)
        growth = params.labour_demand_growth - params.labour_demand_relocation * tightness
        if self.in_seat:
            growth += policy.park_investment[self.county]
        self.scale *= (1.0 + growth) ** (1.0 / steps_per_year)
        self.demand = (
            self.base_demand * self.scale * relative_wage ** (-params.labour_demand_elasticity)
        )
        return self.demand


class FarmEnterprise(mesa.Agent):
    """Scale farmers and cooperatives of a county: the demand side of the land market."""

    def __init__(self, model: mesa.Model, county: int, base_area: float):
        super().__init__(model)
        self.county = county
        self.base_area = base_area
        self.area = base_area
        self.scale = 1.0  # growth of land demand since 2023, compounded step by step
        self.park_scale = 1.0  # the part of that growth due to the agricultural-parks lever

    def desired_area(self, *, params, policy, steps_per_year: int) -> float:
        """Advance one step and return the land (tenths of a mu, agent units) wanted."""
        extra = policy.agri_parks[self.county]
        self.scale *= (1.0 + params.enterprise_land_growth + extra) ** (1.0 / steps_per_year)
        self.park_scale *= (1.0 + extra) ** (1.0 / steps_per_year)
        return params.enterprise_land_headroom * self.base_area * self.scale
