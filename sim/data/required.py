"""What the model reads from the data folder.

The figures, parameters and targets that must be present when the folder is loaded, so
that a missing one fails there rather than later in a run. Plain declarations, cheap to
import.
"""

from __future__ import annotations

from collections.abc import Iterable

# Indicators the model reads by name (its age bands follow AWAY_NAMES and SKILL_NAMES of
# sim/population.py, which the data layer may not import).
_AGE_BANDS_SKILL = ("16_24", "25_34", "35_44", "45_59", "60_plus")
SKILL_SHARES = tuple(
    f"skill_{level}_{area}_{band}"
    for level in ("high", "mid")
    for area in ("urban", "rural")
    for band in _AGE_BANDS_SKILL
)
MARRIED_SHARES = tuple(
    f"married_share_{band}" for band in ("20_24", "25_29", "30_59", "60_74", "75_plus")
)
AWAY_WEIGHTS = tuple(
    f"away_weight_{band}"
    for band in ("16_19", "20_29", "30_39", "40_49", "50_59", "60_69", "70_plus")
)
COUNTY_FRACTIONS = (
    "registered_urbanisation_rate",
    "resident_urbanisation_rate",
    "urban_core_share",
    "external_resident_share",
)
OUTSIDE_FRACTIONS = ("absent_destination_share", "external_origin_share")
CITY_FRACTIONS_2023 = (
    "absent_to_central_city_share",
    "external_rural_hukou_share",
    "young_adults_with_parents",
    "elders_with_children",
    "elder_couples_with_children",
    "migrant_children_with_mother",
    "land_transfer_rate",
    "abandoned_land_share",
    *MARRIED_SHARES,
    *SKILL_SHARES,
)


def _figures(units: Iterable[str], indicators: Iterable[str], year: str) -> set[tuple]:
    return {(u, i, year) for u in units for i in indicators}


def required_figures(
    counties: Iterable[str], outside: Iterable[str]
) -> frozenset[tuple[str, str, str]]:
    """(unit, indicator, year) of every figure the model reads of a region's units.

    What sim/population.py, world.py and model.py read, plus the city's 2023 totals that
    the county figures are checked against. An outside unit without coordinates also
    needs its distance_km (consistency.py).
    """
    per_county = _figures(counties, ("registered_population", "resident_population"), "2023")
    per_county |= _figures(counties, COUNTY_FRACTIONS, "2023")
    return frozenset(per_county | _figures(outside, OUTSIDE_FRACTIONS, "2023")) | CITY_FIGURES


CITY_FIGURES: frozenset[tuple[str, str, str]] = frozenset(
    _figures(["city"], ("resident_population", "registered_population"), "2023")
    | _figures(["city"], ("resident_urbanisation_rate", "registered_urbanisation_rate"), "2023")
    | _figures(["city"], ("external_residents",), "2023")
    | _figures(["city"], CITY_FRACTIONS_2023 + AWAY_WEIGHTS, "2023")
    | _figures(["city"], ("land_per_rural_person", "land_rent"), "2023")
    | _figures(["city"], ("sex_ratio", "persons_per_village"), "2020")
    | _figures(["city"], ("registered_household_size",), "2019")
    | _figures(["city"], ("road_circuity", "local_distance_km", "town_to_seat_distance_km"), "")
)

# Parameters read once per outside destination, as PREFIX_KEY (wage_factor_KEY).
PER_DESTINATION = ("wage_factor", "settlement_ease", "service_access", "housing_cost")


def required_parameters(outside: Iterable[str]) -> tuple[str, ...]:
    """Every parameter the model reads, for a region with these outside destinations.

    Read as params.NAME in sim/model.py, agents.py, rules.py and the backends.
    """
    outside = tuple(outside)
    per_destination = tuple(f"{prefix}_{k}" for prefix in PER_DESTINATION for k in outside)
    return REGION_PARAMETERS + per_destination


REGION_PARAMETERS: tuple[str, ...] = (
    "mortality_a_male",
    "mortality_a_female",
    "mortality_b",
    "infant_mortality",
    "total_fertility_rate",
    "fertility_mean_age",
    "fertility_sd_age",
    "sex_ratio_at_birth",
    "skill_high_share_new_cohorts",
    "skill_mid_share_new_cohorts",
    "wage_core_2023",
    "wage_town_factor",
    "skill_premium_mid",
    "skill_premium_high",
    "wage_growth",
    "labour_demand_growth",
    "labour_demand_elasticity",
    "wage_adjustment_speed",
    "employment_rate_2023",
    "employment_rate_outside",
    "net_wage_factor",
    "retirement_age_men",
    "retirement_age_women",
    "rural_work_age_max",
    "farm_work_age_max",
    "commute_access_2023",
    "road_commute_elasticity",
    "farm_capacity_per_worker",
    "crop_income_per_mu_2023",
    "farm_income_growth",
    "land_rent_growth",
    "land_match_rate",
    "enterprise_land_growth",
    "enterprise_land_headroom",
    "farm_subsidy_per_mu",
    "rural_business_income_2023",
    "urban_other_income_2023",
    "migrant_other_income_factor",
    "pension_rural_2023",
    "pension_urban_2023",
    "pension_growth_rural",
    "pension_growth_urban",
    "rural_other_transfers_2023",
    "remittance_share",
    "collective_dividend_2023",
    "urban_other_growth",
    "rural_other_growth",
    "hazard_16_24",
    "hazard_25_34",
    "hazard_35_44",
    "hazard_45_59",
    "hazard_60_74",
    "beta_income",
    "beta_distance",
    "beta_out_of_province",
    "beta_network",
    "beta_services",
    "children_services_multiplier",
    "beta_housing",
    "asc_home",
    "asc_town",
    "asc_core",
    "asc_outside",
    "home_age_gradient",
    "stay_bonus",
    "child_follow_rate",
    "hukou_min_stay_years",
    "hukou_apply_rate",
    "hukou_land_fear",
    "land_let_fear",
    "land_guard_cost",
    "small_city_utility",
    "service_access_village",
    "housing_cost_core",
    "housing_cost_central",
    "housing_cost_town",
    "county_tax_rate",
    "land_sale_revenue_per_urban_resident",
    "service_spending_share",
    "road_spending_share",
    "work_relief_earnings_2023",
    "work_relief_labour_share",
    "citizenisation_public_cost",
    "higher_level_transfer_share",
    "county_borrowing_limit",
    "park_public_share",
    "residence_service_cost",
    "school_place_cost",
    "training_cost_per_trainee",
    "road_depreciation",
    "service_depreciation",
    "participation_16_19",
    "participation_20_24",
    "participation_prime_men",
    "participation_prime_women",
    "industry_share_core",
    "industry_share_towns",
    "homestead_rent",
    "consolidation_productivity_gain",
    "agri_investment_elasticity",
    "agri_park_productivity_share",
    "urban_other_transfers_2023",
    "town_dweller_wage_share",
    "mortality_decline",
    "mortality_table_year",
    "labour_demand_relocation",
    "unemployed_hazard_factor",
    "outside_wage_growth_premium",
    "wage_adjustment_gap_max",
    "commute_access_max",
    "service_index_max",
    "income_floor",
    "training_age_max",
    "parent_age_max",
    "rural_high_skill_factor",
    "initial_stay_years",
    "central_urbanisation_shift_2023",
)

# The decision's three target indicators, for its target year and for 2035 (whose
# thresholds the run's config may replace).
REQUIRED_TARGETS: tuple[tuple[str, str, int], ...] = tuple(
    (unit, indicator, year)
    for year in (2027, 2035)
    for unit, indicator in (
        ("city", "resident_urbanisation_rate"),
        ("county_area", "resident_urbanisation_rate"),
        ("city", "income_ratio"),
    )
)
