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

    The indices are 1.0 in 2023. Revenue is the tax on wages paid in the county, land
    sales, transfers from higher levels and the citizenisation transfers. Planned
    spending is fixed shares of own revenue on services and rural roads, a lever-set
    share of land sales on agriculture, and the rest of revenue on other (discretionary)
    spending. Lever spending is paid in full; it crowds out other spending first, is then
    borrowed up to the borrowing limit, and beyond it cuts the planned capacity spending
    (see :meth:`run_budget`). An index rises when its spending exceeds the upkeep of the
    existing capacity (its depreciation at 2023 costs, which grow with wages).
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
        self.lever_spending = 0.0
        self.other_spending = 0.0
        self.capacity_spending = 0.0
        self.capacity_cut = 0.0
        self.service_index = 1.0
        self.road_index = 1.0
        self.agri_index = 1.0
        self._unit_cost: dict[str, float] = {}

    def _revenue_and_plan(
        self, *, wage_bill, urban_residents, citizenised, params, policy, price_level, spy
    ) -> tuple[float, dict[str, float]]:
        """Revenue and the planned capacity spending of one step (yuan per step)."""
        p, c = params, self.index
        land_sales = p.land_sale_revenue_per_urban_resident * price_level * urban_residents / spy
        tax = p.county_tax_rate * wage_bill
        share = p.higher_level_transfer_share
        from_above = tax * share / (1.0 - share)
        citizenisation = policy.citizenisation_transfer[c] * citizenised
        own = tax + land_sales + citizenisation  # what the capacity shares apply to
        plan = {
            "service": p.service_spending_share * own,
            "road": p.road_spending_share * own,
            "agri": policy.land_sale_to_agriculture[c] * land_sales,
        }
        return own + from_above, plan

    def run_budget(
        self,
        *,
        wage_bill: float,
        urban_residents: float,
        citizenised: float,
        lever_spending: dict[str, float],
        params,
        policy,
        price_level: float,
        steps_per_year: int,
    ) -> None:
        """One step of revenue, spending and capacity (amounts in yuan per step).

        ``lever_spending`` is this step's spending per category of
        :data:`sim.levers.SPENDING_CATEGORIES`. The rule: other spending is revenue minus
        planned capacity spending, less lever spending (not below zero); the excess of
        lever spending over it is borrowed while the county's debt stays within
        ``county_borrowing_limit`` times a year's revenue; what is still missing cuts the
        planned capacity spending (services, roads, agriculture in proportion), and any
        rest is borrowed beyond the limit. The balance moves by revenue minus spending.
        """
        spy = steps_per_year
        revenue, plan = self._revenue_and_plan(
            wage_bill=wage_bill,
            urban_residents=urban_residents,
            citizenised=citizenised,
            params=params,
            policy=policy,
            price_level=price_level,
            spy=spy,
        )
        levers = sum(lever_spending.values())
        planned = sum(plan.values())
        room = max(revenue - planned, 0.0)
        other = max(room - levers, 0.0)
        excess = max(levers - room, 0.0)
        debt_room = max(params.county_borrowing_limit * revenue * spy + min(self.balance, 0.0), 0)
        cut = min(max(excess - debt_room, 0.0), planned)
        kept = 1.0 - cut / planned if planned > 0 else 1.0
        spend = {
            "service": plan["service"] * kept + lever_spending.get("service_capacity", 0.0),
            "road": plan["road"] * kept + lever_spending.get("rural_roads", 0.0),
            "agri": plan["agri"] * kept,
        }
        if not self._unit_cost:
            # The first call is the 2023 base year, which runs on the 2023 policy: unit
            # costs at which 2023 planned spending exactly keeps every index at 1.0.
            self._depreciation = {
                "service": params.service_depreciation,
                "road": params.road_depreciation,
                "agri": params.service_depreciation,
            }
            self._unit_cost = {k: v * spy / self._depreciation[k] for k, v in plan.items()}
        for key, attr in (
            ("service", "service_index"),
            ("road", "road_index"),
            ("agri", "agri_index"),
        ):
            level = getattr(self, attr)
            built = spend[key] * spy / (self._unit_cost[key] * price_level)
            setattr(self, attr, level + (built - self._depreciation[key] * level) / spy)
        self.revenue = revenue
        self.lever_spending = levers
        self.other_spending = other
        self.capacity_cut = cut
        self.capacity_spending = planned - cut
        # planned - cut + other + levers, written so that it is exactly revenue when
        # nothing is borrowed
        self.spending = revenue + max(planned - revenue, 0.0) + excess - cut
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
