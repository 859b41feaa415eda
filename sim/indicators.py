"""Official indicators from the model's yearly tallies.

Definitions follow the statistics bureau (DESIGN §2): residents by usual residence,
urbanisation as urban residents over residents, registered population by hukou, incomes
per capita *by residence*, and citizenisation as persons converting a rural hukou to an
urban one where they live. Counts are persons of the real city (agent counts times the
agent weight). Rates are fractions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from sim.levers import SPENDING_CATEGORIES
from sim.tallies import COMPONENTS, PYRAMID_BANDS, YearTally
from sim.world import KIND_CORE, KIND_TOWN, KIND_VILLAGE

CORE_INDICATORS = (
    "resident_population",
    "urban_resident_population",
    "resident_urbanisation_rate",
    "registered_population",
    "registered_urbanisation_rate",
    "urban_income_per_capita",
    "rural_income_per_capita",
    "income_ratio",
    "citizenisation",
    "land_transfer_rate",
    "rural_share_aged_60_plus",
)
TARGET_INDICATORS = (
    ("city", "resident_urbanisation_rate"),
    ("county_area", "resident_urbanisation_rate"),
    ("city", "income_ratio"),
)
FLOW_INDICATORS = (
    "citizenisation",
    "hukou_transfers_out",
    "hukou_transfers_in",
    "births",
    "deaths",
    "net_migration",
)
SEXES = ("male", "female")


def pyramid_indicator(urban: bool, female: bool, band: int) -> str:
    """Name of a pyramid row: residents by area, sex and five-year age band."""
    ages = f"{5 * band}_plus" if band == PYRAMID_BANDS - 1 else f"{5 * band}_{5 * band + 4}"
    return f"residents_{'urban' if urban else 'rural'}_{SEXES[int(female)]}_{ages}"


def living_in_indicator(destination: str) -> str:
    """Name of the row counting registered persons who live in ``destination``."""
    return f"registered_living_in_{destination}"


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def _unit_rows(
    tally: YearTally,
    mask: np.ndarray,
    weight: float,
    steps_per_year: int,
    previous: YearTally | None,
) -> dict[str, float]:
    """Indicators of one unit (the counties selected by ``mask``) in one year.

    ``previous`` is the tally of the year before (None in the base year, whose flows are
    NaN).
    """
    base_year = previous is None
    res = tally.residents[mask].sum(axis=0).astype(np.float64)
    reg = tally.registered[mask].sum(axis=0).astype(np.float64)
    inc = tally.income_sum[mask].sum(axis=0)
    comp = tally.component_sum[mask].sum(axis=0)
    person_years = tally.person_steps[mask].sum(axis=0) / steps_per_year
    land = tally.land[mask].sum(axis=0).astype(np.float64)
    work = tally.workers[mask].sum(axis=0).astype(np.float64)
    kind = tally.by_kind[mask].sum(axis=0).astype(np.float64)
    kids = tally.children[mask].sum(axis=0).astype(np.float64)
    skills = tally.registered_16_59[mask].sum(axis=0).astype(np.float64)
    urban_pc = _ratio(inc[1], person_years[1])
    rural_pc = _ratio(inc[0], person_years[0])
    out = {
        "resident_population": res.sum() * weight,
        "urban_resident_population": res[1] * weight,
        "rural_resident_population": res[0] * weight,
        "resident_urbanisation_rate": _ratio(res[1], res.sum()),
        "registered_population": reg.sum() * weight,
        "registered_urban_population": reg[1] * weight,
        "registered_urbanisation_rate": _ratio(reg[1], reg.sum()),
        "urban_income_per_capita": urban_pc,
        "rural_income_per_capita": rural_pc,
        "income_ratio": _ratio(urban_pc, rural_pc),
        "land_transfer_rate": _ratio(land[1], land[0]),
        "abandoned_land_rate": _ratio(land[2], land[0]),
        "contracted_land_mu": land[0] / 10.0 * weight,
        "rural_share_aged_60_plus": _ratio(tally.rural_old[mask].sum(), res[0]),
        "employment_rate": _ratio(work[0], work.sum()),
        "county_seat_jobs": tally.seat_jobs[mask].sum() * weight,
        "county_revenue": float(tally.county_revenue[mask].sum()),
        "county_balance": float(tally.county_balance[mask].sum()),
        "lever_spending": float(tally.lever_spending[mask].sum()),
        "other_spending": float(tally.other_spending[mask].sum()),
        "capacity_spending": float(tally.capacity_spending[mask].sum()),
        "capacity_spending_cut": float(tally.capacity_cut[mask].sum()),
        "village_residents": kind[KIND_VILLAGE] * weight,
        "town_residents": kind[KIND_TOWN] * weight,
        "county_seat_residents": kind[KIND_CORE] * weight,
        "resident_children": kids.sum() * weight,
        "urban_share_of_children": _ratio(kids[1], kids.sum()),
        "registered_skilled_share_16_59": _ratio(skills[1:].sum(), skills.sum()),
    }
    for k, category in enumerate(SPENDING_CATEGORIES):
        out[f"lever_spending_{category}"] = float(tally.lever_spending[mask, k].sum())
    # Capacity indices (1.0 in 2023), averaged over the unit's counties by residents.
    county_res = tally.residents[mask].sum(axis=1).astype(np.float64)
    for name, arr in (
        ("service_capacity_index", tally.service_index),
        ("rural_road_index", tally.road_index),
        ("agri_investment_index", tally.agri_index),
    ):
        out[name] = _ratio((arr[mask] * county_res).sum(), county_res.sum())
    for k, name in enumerate(COMPONENTS):
        out[f"urban_{name}_income_per_capita"] = _ratio(comp[1, k], person_years[1])
        out[f"rural_{name}_income_per_capita"] = _ratio(comp[0, k], person_years[0])
    for name, arr in (
        ("citizenisation", tally.citizenised),
        ("hukou_transfers_out", tally.hukou_out),
        ("hukou_transfers_in", tally.hukou_in),
    ):
        out[name] = float("nan") if base_year else float(arr[mask].sum()) * weight
    out.update(_population_account(tally, previous, mask, weight))
    out.update(_labour_rows(tally, mask, weight))
    return out


def _population_account(
    tally: YearTally, previous: YearTally | None, mask: np.ndarray, weight: float
) -> dict[str, float]:
    """Births, deaths and net migration of residents (persons a year).

    Net migration is the change of residents less births plus deaths, so the three add
    up exactly; for a county it includes moves between the region's counties.
    """
    if previous is None:
        return {"births": float("nan"), "deaths": float("nan"), "net_migration": float("nan")}
    births = float(tally.births[mask].sum())
    deaths = float(tally.deaths[mask].sum())
    change = float(tally.residents[mask].sum() - previous.residents[mask].sum())
    return {
        "births": births * weight,
        "deaths": deaths * weight,
        "net_migration": (change - births + deaths) * weight,
    }


def _labour_rows(tally: YearTally, mask: np.ndarray, weight: float) -> dict[str, float]:
    """Seat labour markets and migrant workers of a unit.

    A unit's seat wage relative to trend and unemployment rate average its counties' seat
    markets weighted by their job seekers. Migrant workers are rural-hukou persons
    registered in the unit in wage work; away (外出) works outside the home township,
    local (本地) inside it. The Harris-Todaro expected incomes of the migration choice
    average the year's steps: urban, the seats' wage x employment probability (weighted
    by seekers); rural, the home villages' expected income (weighted by village
    residents); ``expected_income_gap`` is urban over rural, minus one (NaN in the base
    year, which has no migration).
    """
    seekers = tally.seat_seekers[mask]
    if seekers.sum() <= 0:  # a seat market without seekers still has a wage and a rate
        seekers = np.ones_like(seekers)
    steps = tally.choice_steps[mask]
    urban = _ratio((tally.expected_urban_income_sum[mask] * seekers).sum(), (steps * seekers).sum())
    rural = _ratio(
        tally.expected_rural_income_sum[mask].sum(), tally.village_residents_sum[mask].sum()
    )
    count = tally.migrant_workers[mask].sum(axis=0).astype(np.float64)
    ages = tally.migrant_age_sum[mask].sum(axis=0).astype(np.float64)
    return {
        "wage_relative_to_trend": _ratio(
            (tally.seat_wage_relative[mask] * seekers).sum(), seekers.sum()
        ),
        "unemployment_rate": _ratio((tally.seat_unemployment[mask] * seekers).sum(), seekers.sum()),
        "migrant_workers": count.sum() * weight,
        "migrant_workers_away_mean_age": _ratio(ages[0], count[0]),
        "migrant_workers_local_mean_age": _ratio(ages[1], count[1]),
        "migrant_workers_local_share": _ratio(count[1], count.sum()),
        "expected_urban_income": urban,
        "expected_rural_income": rural,
        "expected_income_gap": _ratio(urban, rural) - 1.0,
    }


def indicator_table(
    tallies: Sequence[YearTally],
    *,
    weight: float,
    steps_per_year: int,
    county_area: Iterable[str],
    scenario: str,
    seed: int,
) -> pd.DataFrame:
    """Long table: one row per year, unit and indicator.

    Args:
        tallies: Yearly tallies; the first is the base year (2023), whose flows are NaN.
        weight: Real persons per agent.
        steps_per_year: Steps per year of the run.
        county_area: Counties that form 县域 for ``county_area``.
        scenario: Scenario name for the ``scenario`` column.
        seed: Seed for the ``seed`` column.
    """
    counties, outside = tallies[0].counties, tallies[0].outside
    destinations = counties + outside
    area = np.isin(np.array(counties), list(county_area))
    units = [("city", np.ones(len(counties), bool)), ("county_area", area)]
    units += [(key, np.arange(len(counties)) == c) for c, key in enumerate(counties)]
    rows = []
    for i, tally in enumerate(tallies):
        for unit, mask in units:
            previous = tallies[i - 1] if i > 0 else None
            rows_of_unit = _unit_rows(tally, mask, weight, steps_per_year, previous)
            for indicator, value in rows_of_unit.items():
                rows.append((tally.year, unit, indicator, value))
        outside = tally.outside_by_dest.astype(np.float64) * weight
        rows.append((tally.year, "city", "registered_living_outside", outside.sum()))
        home = tally.home_by_residence.astype(np.float64) * weight
        for j, dest in enumerate(destinations):
            rows.append((tally.year, "city", living_in_indicator(dest), home[:, j].sum()))
            for c, key in enumerate(counties):
                rows.append((tally.year, key, living_in_indicator(dest), home[c, j]))
        for u in (0, 1):
            for f in (0, 1):
                for band in range(PYRAMID_BANDS):
                    count = tally.pyramid[u, f, band] * weight
                    rows.append((tally.year, "city", pyramid_indicator(u, f, band), count))
    table = pd.DataFrame(rows, columns=["year", "unit", "indicator", "value"])
    table["year"] = table["year"].astype("int16")
    table["value"] = table["value"].astype("float64")
    table["scenario"] = scenario
    table["seed"] = np.int64(seed)
    return table


def target_values(table: pd.DataFrame, year: int) -> dict[tuple[str, str], float]:
    """Values of the three target indicators in ``year``."""
    sub = table[table["year"] == year].set_index(["unit", "indicator"])["value"]
    return {key: float(sub.get(key, float("nan"))) for key in TARGET_INDICATORS}
