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
        p, c, spy = params, self.index, steps_per_year
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
        if not self._unit_cost:
            # Calibrate: 2023 spending exactly maintains the 2023 capacity (index 1.0).
            dep = {
                "service": p.service_depreciation,
                "road": p.road_depreciation,
                "agri": p.service_depreciation,
            }
            self._unit_cost = {k: v * spy / dep[k] for k, v in spend.items()}
            self._depreciation = dep
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

    def update_demand(self, *, years: float, params, policy, wage_trend: float) -> float:
        """Labour demand at the current wage (persons of the real city)."""
        growth = params.labour_demand_growth
        if self.in_seat:
            growth += policy.park_investment[self.county]
        relative_wage = self.wage / (self.base_wage * wage_trend)
        self.demand = (
            self.base_demand
            * (1.0 + growth) ** years
            * relative_wage ** (-params.labour_demand_elasticity)
        )
        return self.demand


class FarmEnterprise(mesa.Agent):
    """Scale farmers and cooperatives of a county: the demand side of the land market."""

    def __init__(self, model: mesa.Model, county: int, base_area: float):
        super().__init__(model)
        self.county = county
        self.base_area = base_area
        self.area = base_area

    def desired_area(self, *, years: float, params, policy) -> float:
        """Land (tenths of a mu, in agent units) the enterprises would rent at going rents."""
        growth = params.enterprise_land_growth + policy.agri_parks[self.county]
        return params.enterprise_land_headroom * self.base_area * (1.0 + growth) ** years
