"""Policy levers of the 2023-12-29 decision: the catalogue and their values in a run.

The catalogue is the single source of truth for every lever: its id, Chinese and English
names, the clause of the decision it implements, unit, valid range, whether it is set per
county, and the mechanism it acts on in the model. A lever's 2023 value is the region's:
its levers.csv (:func:`lever_defaults`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from sim.data import DEFAULT_DATA_DIR, RegionData, load_region
from sim.errors import DataError

# The levers' units in Chinese, for the Chinese report and workbench (one entry per unit
# string of the catalogue; a test checks that every lever's unit has one).
UNIT_ZH = {
    "probability": "概率",
    "share of full access": "完全享有的比例",
    "share of places": "公办学位比例",
    "share of housing cost removed": "住房成本减免比例",
    "share of the land fear removed": "失地顾虑消除比例",
    "share of matches lost": "流转撮合损失比例",
    "share of abandoned land re-let per year": "撂荒地每年复租比例",
    "share of farmland consolidated": "耕地整治比例",
    "share of idle homesteads used": "闲置宅基地盘活比例",
    "yuan per member per year": "元/成员·年",
    "extra labour demand growth per year": "劳动力需求年增速增量",
    "extra growth per year": "年增速增量",
    "probability per year": "年概率",
    "share of at-home rural adults taking part": "在家农村成年人参与比例",
    "share of land-sale revenue": "土地出让收入比例",
    "yuan per settled person": "元/落户人",
    "extra yuan per year per county": "每区县每年新增元",
    "share of small-city standards": "小城市标准达成度",
}


@dataclass(frozen=True)
class Lever:
    """One policy lever.

    ``effects`` lists the city indicators its mechanism moves and the direction (+1: a
    higher lever value raises the indicator); ``tests/test_paired.py`` checks each one
    over several paired seeds. ``cost_per_unit`` is the public cost, in million yuan a
    year at 2023 prices, of moving the lever one unit from its 2023 value in its
    ``reform_direction`` in every county (an assumption, explained in ``cost_basis``);
    goal seeking minimises it. ``county_budget`` says how the lever's money flows through
    the county budgets in a run (:data:`COUNTY_BUDGET`).
    """

    id: str
    name_zh: str
    name_en: str
    clause: str
    unit: str
    low: float
    high: float
    per_county: bool
    mechanism: str
    effects: tuple[tuple[str, int], ...] = ()
    cost_per_unit: float = 0.0
    cost_basis: str = ""
    reform_direction: int = 1

    def unit_in(self, lang: str) -> str:
        """The lever's unit in ``lang`` (``zh`` or ``en``)."""
        return UNIT_ZH[self.unit] if lang == "zh" else self.unit

    @property
    def county_budget(self) -> str:
        """How the lever's spending or revenue flows through the county budgets."""
        return COUNTY_BUDGET.get(self.id, CATALOGUE_PRICED_RULE)


CATALOGUE: tuple[Lever, ...] = (
    Lever(
        "settlement_ease",
        "落户通道",
        "settlement ease",
        "(十四)",
        "probability",
        0.0,
        1.0,
        True,
        "acceptance of a hukou application by a resident of the county's towns and seat",
        effects=(("citizenisation", +1), ("registered_urbanisation_rate", +1)),
        cost_per_unit=20,
        cost_basis=(
            "registration and administration for a fully open channel (assumption; services for "
            "new urban hukou holders are counted under services_by_residence)"
        ),
    ),
    Lever(
        "services_by_residence",
        "基本公共服务同常住人口挂钩",
        "public services by residence",
        "(十四)",
        "share of full access",
        0.0,
        1.0,
        False,
        "service access of residents without a local hukou in the migration choice",
        effects=(("county_seat_residents", +1), ("resident_urbanisation_rate", +1)),
        cost_per_unit=1200,
        cost_basis=(
            "full access for about 400,000 residents without a local hukou at about 3,000 yuan "
            "each a year (assumption)"
        ),
    ),
    Lever(
        "migrant_school_access",
        "随迁子女入学",
        "migrant children in public schools",
        "(十四)",
        "share of places",
        0.0,
        1.0,
        False,
        "school access of children without a local hukou: family migration and children "
        "joining parents",
        effects=(("urban_share_of_children", +1),),
        cost_per_unit=600,
        cost_basis=(
            "public-school places for about 60,000 migrant children at about 10,000 yuan a place "
            "a year (assumption)"
        ),
    ),
    Lever(
        "rental_housing",
        "保障性租赁住房",
        "rental housing for migrant workers",
        "(十四)",
        "share of housing cost removed",
        0.0,
        0.6,
        True,
        "housing cost at the county seat in the migration choice",
        effects=(("county_seat_residents", +1),),
        cost_per_unit=1200,
        cost_basis=(
            "removing all housing cost of about 200,000 migrant workers at about 6,000 yuan a "
            "year; per county in proportion to its residents (assumption)"
        ),
    ),
    Lever(
        "land_rights_security",
        "进城落户农民土地权益保障、鼓励依法自愿有偿转让",
        "land rights kept on settling, voluntary paid transfer",
        "(十四)(十六)",
        "share of the land fear removed",
        0.0,
        1.0,
        True,
        "tenure security of the county's contracted land: insecure households withhold "
        "surplus land from the rental market, keep members from leaving the county to "
        "guard it, and fear losing it if they convert their hukou; secure rights that can "
        "also be sold for value remove the fear (the land itself stays with the household: "
        "paid transfers are not a land flow in this version)",
        effects=(("citizenisation", +1), ("land_transfer_rate", +1)),
        cost_per_unit=100,
        cost_basis=(
            "certification, registration and dispute resolution for all contracted land "
            "(assumption)"
        ),
    ),
    Lever(
        "land_transfer_friction",
        "土地流转交易成本",
        "land transfer friction",
        "(十六)",
        "share of matches lost",
        0.0,
        1.0,
        True,
        "matching of offered land with tenants (contract registration, risk protection)",
        effects=(("land_transfer_rate", -1), ("rural_property_income_per_capita", -1)),
        cost_per_unit=150,
        cost_basis=(
            "online contract platforms and transfer-risk funds that remove all friction "
            "(assumption); the cost is of lowering the lever"
        ),
        reform_direction=-1,
    ),
    Lever(
        "abandoned_land_recovery",
        "撂荒地整治",
        "abandoned-land recovery",
        "(十六)",
        "share of abandoned land re-let per year",
        0.0,
        1.0,
        False,
        "moves abandoned land to tenants through the village collective",
        effects=(("abandoned_land_rate", -1),),
        cost_per_unit=250,
        cost_basis=(
            "clearing and re-letting all abandoned land each year, about 250,000 mu at 1,000 yuan"
            " (assumption)"
        ),
    ),
    Lever(
        "land_consolidation",
        "土地综合整治",
        "land consolidation",
        "(十六)",
        "share of farmland consolidated",
        0.0,
        1.0,
        False,
        "farm productivity per mu, household and scale farms",
        effects=(("rural_operating_income_per_capita", +1),),
        cost_per_unit=1000,
        cost_basis=(
            "consolidating all farmland, about 5 million mu at 3,000 yuan a mu, spread over 15 "
            "years (assumption)"
        ),
    ),
    Lever(
        "homestead_revitalisation",
        "宅基地和闲置住宅盘活",
        "homestead revitalisation",
        "(十六)",
        "share of idle homesteads used",
        0.0,
        1.0,
        False,
        "property income of households whose homestead stands empty (their members live "
        "in towns, county seats or outside the region)",
        effects=(("urban_property_income_per_capita", +1),),
        cost_per_unit=900,
        cost_basis=(
            "bringing about 300,000 idle homesteads into use at about 3,000 yuan each a year "
            "(assumption)"
        ),
    ),
    Lever(
        "collective_land_market",
        "集体经营性建设用地入市",
        "collective construction land to market",
        "(十六)",
        "yuan per member per year",
        0.0,
        2000.0,
        True,
        "collective dividends of the county's villages",
        effects=(("rural_property_income_per_capita", +1),),
        cost_per_unit=1.2,
        cost_basis=(
            "market entry, planning and infrastructure at about 0.5 yuan per yuan of dividend to "
            "about 2.4 million collective members (assumption)"
        ),
    ),
    Lever(
        "park_investment",
        "产业园区建设",
        "industrial park investment",
        "(七)",
        "extra labour demand growth per year",
        0.0,
        0.05,
        True,
        "labour demand and wages in the county seat",
        effects=(("county_seat_jobs", +1),),
        cost_per_unit=200000,
        cost_basis=(
            "about 2 billion yuan a year of park investment per point of extra labour-demand "
            "growth (assumption)"
        ),
    ),
    Lever(
        "agri_parks",
        "现代农业园区",
        "modern agricultural parks",
        "(十一)",
        "extra growth per year",
        0.0,
        0.1,
        True,
        "land demand of scale farms, and farm income per mu of the county's smallholders "
        "served by the parks",
        effects=(("rural_operating_income_per_capita", +1),),
        cost_per_unit=30000,
        cost_basis=(
            "about 300 million yuan a year of park investment per point of extra growth "
            "(assumption)"
        ),
    ),
    Lever(
        "collective_dividends",
        "新型农村集体经济",
        "collective economy dividends",
        "(十三)",
        "yuan per member per year",
        0.0,
        2000.0,
        False,
        "dividends of rural-hukou collective members",
        effects=(("rural_property_income_per_capita", +1),),
        cost_per_unit=2.4,
        cost_basis=(
            "a transfer of one yuan to each of about 2.4 million collective members (assumption)"
        ),
    ),
    Lever(
        "vocational_training",
        "职业技能培训",
        "vocational training",
        "(十三)",
        "probability per year",
        0.0,
        0.1,
        False,
        "upgrade of low-skill workers aged 16-44 to the middle skill band",
        effects=(("registered_skilled_share_16_59", +1),),
        cost_per_unit=4000,
        cost_basis=(
            "training 1% of about 800,000 low-skill workers aged 16-44 a year at 5,000 yuan each "
            "per 0.01 (assumption)"
        ),
    ),
    Lever(
        "work_relief",
        "以工代赈",
        "work-relief jobs",
        "(十三)",
        "share of at-home rural adults taking part",
        0.0,
        0.2,
        False,
        "wage income of villagers aged 16 to the farm-work limit living in their village: "
        "each participant earns work_relief_earnings_2023 a year (grown with wages), paid "
        "by the county, whose programme costs wages / work_relief_labour_share",
        effects=(("rural_wage_income_per_capita", +1),),
        cost_per_unit=33000,
        cost_basis=(
            "1% of about one million at-home rural adults at 10,000 yuan of wages each, which "
            "are 30% of the programme budget (parameters work_relief_earnings_2023 and "
            "work_relief_labour_share)"
        ),
    ),
    Lever(
        "land_sale_to_agriculture",
        "土地出让收入用于农业农村比例",
        "land-sale revenue to agriculture",
        "(十七)",
        "share of land-sale revenue",
        0.0,
        0.5,
        False,
        "county agriculture fund, which raises farm productivity",
        effects=(("agri_investment_index", +1), ("rural_operating_income_per_capita", +1)),
        cost_per_unit=4000,
        cost_basis=(
            "one point of about 4 billion yuan of land-sale revenue a year, spent on agriculture "
            "instead of other uses (assumption)"
        ),
    ),
    Lever(
        "citizenisation_transfer",
        "财政转移支付同农业转移人口市民化挂钩",
        "transfers tied to citizenisation",
        "(十七)",
        "yuan per settled person",
        0.0,
        50000.0,
        False,
        "county revenue, which funds service capacity",
        effects=(("county_revenue", +1), ("service_capacity_index", +1)),
        cost_per_unit=0.03,
        cost_basis="one yuan for each of about 30,000 persons settled a year (assumption)",
    ),
    Lever(
        "rural_roads",
        "四好农村路",
        "rural roads",
        "(十八)",
        "extra yuan per year per county",
        0.0,
        1e9,
        True,
        "rural road index, which raises villagers' local off-farm work",
        effects=(("rural_road_index", +1), ("rural_wage_income_per_capita", +1)),
        cost_per_unit=1e-06,
        cost_basis="the lever is money: each county's value is its own yuan a year (direct)",
    ),
    Lever(
        "service_capacity",
        "城乡公共服务设施",
        "school, clinic and elderly-care capacity",
        "(十九)",
        "extra yuan per year per county",
        0.0,
        1e9,
        True,
        "service capacity index, which scales service access in the county",
        effects=(("service_capacity_index", +1),),
        cost_per_unit=1e-06,
        cost_basis="the lever is money: each county's value is its own yuan a year (direct)",
    ),
    Lever(
        "small_cities",
        "5万人以上镇按小城市建设",
        "towns above 50,000 as small cities",
        "(十)",
        "share of small-city standards",
        0.0,
        1.0,
        False,
        "utility of living in the seat of a town (镇) whose township has more than 50,000 "
        "residents",
        effects=(("town_residents", +1),),
        cost_per_unit=500,
        cost_basis=(
            "small-city construction standards for the towns above 50,000 residents (assumption)"
        ),
    ),
)
LEVERS: dict[str, Lever] = {lever.id: lever for lever in CATALOGUE}

# Lever spending categories of the county budgets (sim.agents.County.run_budget), in the
# order of the ``lever_spending_<category>`` indicators.
SPENDING_CATEGORIES = (
    "work_relief",
    "collective_dividends",
    "rural_roads",
    "service_capacity",
    "citizenisation",
    "vocational_training",
    "services_by_residence",
    "migrant_school_access",
    "catalogue",
)
CATALOGUE_PRICED_RULE = (
    "spending (category catalogue): cost_per_unit times the lever's move from its 2023 "
    "value in its reform direction, in the county's own value, times the county's share of "
    "2023 residents, at 2023 prices grown with wages"
)
COUNTY_BUDGET: dict[str, str] = {
    "work_relief": (
        "spending (category work_relief): the wages the model pays participants, divided by "
        "work_relief_labour_share; each county pays for the participants in its villages"
    ),
    "collective_dividends": (
        "spending (category collective_dividends): the lever's dividend times the county's "
        "rural-hukou collective members, paid by the county (the model holds no collective "
        "assets to earn it); the 2023 dividend stays the collectives' own income"
    ),
    "rural_roads": (
        "spending (category rural_roads): the county's own value, yuan a year at 2023 prices "
        "grown with wages, added to its road spending"
    ),
    "service_capacity": (
        "spending (category service_capacity): the county's own value, yuan a year at 2023 "
        "prices grown with wages, added to its service spending"
    ),
    "vocational_training": (
        "spending (category vocational_training): training_cost_per_trainee times the "
        "persons the model upgrades to the middle skill band, charged to the county they "
        "live in (or, living outside the city, to their hukou county)"
    ),
    "services_by_residence": (
        "spending (category services_by_residence): the lever's rise above its 2023 value "
        "times residence_service_cost times the residents of the county seat without a "
        "hukou of the county, at 2023 prices grown with wages"
    ),
    "migrant_school_access": (
        "spending (category migrant_school_access): the lever's rise above its 2023 value "
        "times school_place_cost times the children under 16 without a hukou of the county "
        "living in its towns and seat, at 2023 prices grown with wages"
    ),
    "settlement_ease": (
        "spending (category catalogue) for registration; each person citizenised also costs "
        "the county citizenisation_public_cost once (category citizenisation)"
    ),
    **dict.fromkeys(
        ("park_investment", "agri_parks"),
        CATALOGUE_PRICED_RULE + ", times park_public_share (the rest is firms' own investment)",
    ),
    "collective_land_market": (
        "spending (category catalogue) for market entry, planning and infrastructure; the "
        "dividends themselves are paid by the land's users, not by the county"
    ),
    "citizenisation_transfer": (
        "revenue: paid by higher levels for each person citizenised in the county"
    ),
    "land_sale_to_agriculture": (
        "no extra spending: moves land-sale revenue from other spending to agriculture"
    ),
}
MODELLED_SPENDING = frozenset(
    (
        "work_relief",
        "collective_dividends",
        "rural_roads",
        "service_capacity",
        "vocational_training",
        "services_by_residence",
        "migrant_school_access",
        "citizenisation_transfer",
        "land_sale_to_agriculture",
    )
)


PARK_LEVERS = ("park_investment", "agri_parks")


def catalogue_spending(
    policy: Policy, shares: np.ndarray, park_public_share: float, base: Policy
) -> np.ndarray:
    """Yearly public cost per county (yuan at 2023 prices) of the catalogue-priced levers.

    Args:
        policy: Lever values in force.
        shares: Each county's share of the city's 2023 residents (summing to 1).
        park_public_share: Share of the park levers' investment paid by the county (the
            rest is firms' own investment).
        base: The region's 2023 policy (:func:`default_policy`).
    """
    total = np.zeros(len(shares))
    for lv in CATALOGUE:
        if lv.id in MODELLED_SPENDING or lv.cost_per_unit == 0:
            continue
        change = reform_move(lv, policy.values[lv.id], base.values[lv.id])
        public = park_public_share if lv.id in PARK_LEVERS else 1.0
        total += lv.cost_per_unit * 1e6 * public * change * shares
    return total


@dataclass(frozen=True)
class Policy:
    """Lever values in force for one step: an array over the five counties per lever."""

    values: dict[str, np.ndarray]

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def reform_move(lever: Lever, per_county, base) -> np.ndarray:
    """How far each county's value moved from 2023 (``base``) in the reform direction (>= 0)."""
    return np.maximum(0.0, lever.reform_direction * (np.asarray(per_county) - base))


def package_cost(values: dict[str, np.ndarray], weights: np.ndarray, base: Policy) -> float:
    """Yearly cost (million yuan) of lever values per county against the 2023 policy.

    Args:
        values: Lever id to its county values.
        weights: County shares (summing to 1) that split a city-wide cost among counties.
        base: The region's 2023 policy (:func:`default_policy`).
    """
    total = 0.0
    for lever_id, per_county in values.items():
        lv = LEVERS[lever_id]
        change = reform_move(lv, per_county, base.values[lever_id])
        if lv.unit.startswith("extra yuan"):  # money levers: yuan per county, not shares
            total += lv.cost_per_unit * float(change.sum())
        else:
            total += lv.cost_per_unit * float((weights * change).sum())
    return total


@dataclass(frozen=True)
class LeverDefaults:
    """A region's 2023 lever values: one per county and lever, with their sources."""

    counties: tuple[str, ...]
    values: dict[str, np.ndarray]
    sources: dict[str, str]

    def value(self, lever_id: str) -> float:
        """The lever's 2023 value where every county shares it, else the central city's."""
        return float(self.values[lever_id][0])


def lever_defaults(region: RegionData) -> LeverDefaults:
    """The region's 2023 lever values (levers.csv), checked against the catalogue.

    Every lever needs a row for ``all`` counties; a per-county lever may add rows for
    single counties. Values must lie in the lever's range.

    Raises:
        DataError: A lever of the catalogue has no ``all`` row, a row names an unknown
            lever, sets a city-wide lever per county, or a value lies outside the range.
    """
    where = f"data file {region.data_dir / 'levers.csv'}"
    counties = region.county_keys
    rows = {(d.lever, d.unit): d for d in region.lever_defaults}
    unknown = sorted({lever for lever, _ in rows} - set(LEVERS))
    if unknown:
        raise DataError(f"{where}: unknown lever {unknown[0]}; allowed: {', '.join(LEVERS)}")
    missing = [lv.id for lv in CATALOGUE if (lv.id, "all") not in rows]
    if missing:
        raise DataError(
            f"{where}: no 'all' row for lever(s) {', '.join(missing[:6])}; each lever needs "
            f"its 2023 value"
        )
    values, sources = {}, {}
    for lv in CATALOGUE:
        base = rows[(lv.id, "all")]
        per = np.full(len(counties), base.value)
        for c, key in enumerate(counties):
            own = rows.get((lv.id, key))
            if own is not None and not lv.per_county:
                raise DataError(
                    f"{where}: {lv.id} is city-wide; allowed only an 'all' row, found {key}"
                )
            if own is not None:
                per[c] = own.value
        bad = [v for v in per if not lv.low <= v <= lv.high]
        if bad:
            raise DataError(
                f"{where}: {lv.id}={bad[0]:g} outside the lever's range [{lv.low:g}, {lv.high:g}]"
            )
        values[lv.id] = per
        sources[lv.id] = base.source
    return LeverDefaults(counties=counties, values=values, sources=sources)


@cache
def region_defaults(data_dir: Path = DEFAULT_DATA_DIR) -> LeverDefaults:
    """The 2023 lever values of a region folder (the default region's by default)."""
    return lever_defaults(load_region(data_dir))


def default_policy(defaults: LeverDefaults | None = None) -> Policy:
    """The 2023 policy of a region: every lever at its 2023 value in each county."""
    defaults = defaults or region_defaults()
    return Policy({lv.id: defaults.values[lv.id].copy() for lv in CATALOGUE})
