"""Writes sim/regions/two_place: a textbook Harris-Todaro region (docs/regions.md).

One county: an urban core and villages under a seatless township; no outside place;
every friction of the migration choice but expected income removed; a rigid seat wage
(HT's minimum wage) with fixed jobs; a fixed farm income per worker; no births, deaths
or ageing across the move ages. Every number is a test assumption, with its reason.

    .venv/bin/python experiments/regions/make_two_place.py
"""

import csv
import io
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "sim/regions/suining"
DST = ROOT / "sim/regions/two_place"
DST.mkdir(parents=True, exist_ok=True)
WHY = "two-place test region: "
OVR = {
    # demography off: no births, no deaths
    "mortality_a_male": (0, "no deaths, so the movers are a closed population"),
    "mortality_a_female": (0, "no deaths"),
    "infant_mortality": (0, "no deaths"),
    "mortality_decline": (0, "no deaths"),
    "total_fertility_rate": (0, "no births"),
    "skill_high_share_new_cohorts": (0, "one skill level"),
    "skill_mid_share_new_cohorts": (0, "one skill level"),
    # urban side: a rigid wage (HT's minimum wage) and fixed jobs
    "wage_core_2023": (40000, "the seat's wage, twice the farm income (A = 2)"),
    "skill_premium_mid": (1, "one skill level"),
    "skill_premium_high": (1, "one skill level"),
    "wage_growth": (0, "rigid wage"),
    "wage_adjustment_speed": (0, "rigid wage: HT's minimum wage"),
    "labour_demand_growth": (0, "fixed jobs"),
    "labour_demand_relocation": (0, "fixed jobs"),
    "employment_rate_2023": (0.3125, "jobs = 0.3125 x the 2023 seat seekers, 12.5% of the movers"),
    "net_wage_factor": (1, "the wage is the income"),
    "outside_wage_growth_premium": (0, "no outside place"),
    # rural side: a fixed farm income per worker
    "farm_capacity_per_worker": (5, "each worker farms 5 mu, below the 6 mu a person holds"),
    "crop_income_per_mu_2023": (4000, "5 mu x 4000 yuan = 20,000 yuan a year per farm worker"),
    "farm_income_growth": (0, "fixed farm income"),
    "land_rent_growth": (0, "no rent"),
    "farm_subsidy_per_mu": (0, "income is the crop only"),
    "consolidation_productivity_gain": (0, "levers do not move farm income"),
    "agri_investment_elasticity": (0, "levers do not move farm income"),
    "agri_park_productivity_share": (0, "levers do not move farm income"),
    "rural_business_income_2023": (0, "income is the crop only"),
    "commute_access_2023": (0, "villagers farm; no commuting to wage work"),
    # other incomes off (they do not enter the choice; zero so the official incomes read clean)
    "urban_other_income_2023": (0, "wage only"),
    "urban_other_transfers_2023": (0, "wage only"),
    "rural_other_transfers_2023": (0, "crop only"),
    "pension_rural_2023": (0, "no pensions"),
    "pension_urban_2023": (0, "no pensions"),
    "remittance_share": (0, "no remittances"),
    "collective_dividend_2023": (0, "no dividends"),
    "homestead_rent": (0, "no homestead income"),
    "work_relief_earnings_2023": (0, "no work relief"),
    # the choice: expected income only
    "beta_income": (1, "the experiment's knob (tests set 1, 4 and 16)"),
    "beta_distance": (0, "no distance cost"),
    "beta_out_of_province": (0, "no province border"),
    "beta_network": (0, "no networks"),
    "beta_services": (0, "no service access"),
    "beta_housing": (0, "no housing cost"),
    "asc_home": (0, "no home premium"),
    "asc_core": (0, "no slot constant"),
    "home_age_gradient": (0, "no age in the choice"),
    "stay_bonus": (0, "no stay bonus (tests also set 1)"),
    "unemployed_hazard_factor": (1, "seekers reconsider as often as others (tests also set 2)"),
    "hazard_16_24": (0.3, "one yearly decision hazard for every age"),
    "hazard_25_34": (0.3, "one hazard"),
    "hazard_35_44": (0.3, "one hazard"),
    "hazard_45_59": (0.3, "one hazard"),
    "hazard_60_74": (0.3, "one hazard"),
    "hukou_apply_rate": (0, "no hukou frictions: nobody converts (all rural hukou)"),
    "land_guard_cost": (0, "no land guarding"),
    "small_city_utility": (0, "no small-city bonus"),
    "participation_16_19": (1, "every mover works"),
    "participation_20_24": (1, "every mover works"),
    "participation_prime_men": (1, "every mover works"),
    "participation_prime_women": (1, "every mover works"),
    "rural_work_age_max": (74, "every mover works"),
    "farm_work_age_max": (74, "every mover farms at home"),
}
PER_DESTINATION = ("wage_factor_", "settlement_ease_", "service_access_", "housing_cost_")
KEEP = ("service_access_village", "housing_cost_core", "housing_cost_central", "housing_cost_town")


def number(v):
    return str(int(v)) if float(v) == int(v) else repr(float(v))


with open(SRC / "parameters.csv", encoding="utf-8") as handle:
    rows = list(csv.DictReader(handle))
out = io.StringIO()
writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
writer.writeheader()
for r in rows:
    name = r["name"]
    if name.startswith(PER_DESTINATION) and name not in KEEP:
        continue  # no outside destination
    if name in OVR:
        value, why = OVR[name]
        r["value"] = number(value)
        r["min"] = number(min(float(r["min"]), value))
        r["max"] = number(max(float(r["max"]), value, 64 if name == "beta_income" else value))
        r["basis"], r["source"] = "assumption", WHY + why
    else:
        r["source"] = f"as Suining ({r['basis']}); does not enter the two-place test"
        r["basis"] = "assumption"
    writer.writerow(r)
(DST / "parameters.csv").write_text(out.getvalue(), encoding="utf-8")

(DST / "units.csv").write_text(
    "key,kind,name_zh,name_en,subdistricts,towns,townships,villages,lon,lat,"
    "seat_labour_market,central,county_area,in_province,source\n"
    "city,city,两地,Two places,,,,,,,,,,,"
    f'"{WHY}a textbook Harris-Todaro region (issue 15.2): one rural place and one urban place"\n'
    "county,county,城乡,Town and country,1,0,0,100,105.0,30.0,,yes,yes,yes,"
    f'"{WHY}an urban core and 100 villages under a township without an urban seat '
    '(towns 0, townships 0), so the villages and the core are the only places"\n',
    encoding="utf-8",
)

N, X0 = 1_000_000, 0.4
facts = [
    ("city", "resident_population", 2023, N, "persons"),
    ("city", "registered_population", 2023, N, "persons"),
    ("city", "resident_urbanisation_rate", 2023, X0, "fraction"),
    ("city", "urban_resident_population", 2023, int(N * X0), "persons"),
    ("city", "registered_urbanisation_rate", 2023, 0, "fraction"),
    ("city", "external_residents", 2023, 0, "persons"),
    ("county", "registered_population", 2023, N, "persons"),
    ("county", "resident_population", 2023, N, "persons"),
    ("county", "registered_urbanisation_rate", 2023, 0, "fraction"),
    ("county", "resident_urbanisation_rate", 2023, X0, "fraction"),
    ("county", "urban_core_share", 2023, 1, "fraction"),
    ("county", "external_resident_share", 2023, 1, "fraction"),
    ("city", "absent_to_central_city_share", 2023, 0, "fraction"),
    ("city", "external_rural_hukou_share", 2023, 1, "fraction"),
    ("city", "young_adults_with_parents", 2023, 0, "fraction"),
    ("city", "elders_with_children", 2023, 0, "fraction"),
    ("city", "elder_couples_with_children", 2023, 0, "fraction"),
    ("city", "migrant_children_with_mother", 2023, 0, "fraction"),
    ("city", "land_transfer_rate", 2023, 0.5, "fraction"),
    ("city", "abandoned_land_share", 2023, 0.5, "fraction"),
    ("city", "land_per_rural_person", 2023, 6, "mu per rural-hukou person"),
    ("city", "land_rent", 2023, 0, "yuan per mu per year"),
    ("city", "sex_ratio", 2020, 1.0, "males per female"),
    ("city", "persons_per_village", 2020, 10000, "registered persons per administrative village"),
    ("city", "registered_household_size", 2019, 2, "persons per household"),
    ("city", "road_circuity", "", 1.3, "road km per straight-line km"),
    ("city", "local_distance_km", "", 5, "km"),
    ("city", "town_to_seat_distance_km", "", 10, "km"),
]
facts += [
    ("city", f"married_share_{b}", 2023, 0.5, "fraction")
    for b in ("20_24", "25_29", "30_59", "60_74", "75_plus")
]
facts += [
    ("city", f"skill_{lv}_{a}_{b}", 2023, 0, "fraction")
    for lv in ("high", "mid")
    for a in ("urban", "rural")
    for b in ("16_24", "25_34", "35_44", "45_59", "60_plus")
]
facts += [
    ("city", f"away_weight_{b}", 2023, 1, "relative propensity to live away")
    for b in ("16_19", "20_29", "30_39", "40_49", "50_59", "60_69", "70_plus")
]
header = "unit,indicator,year,value,unit_of_measure,basis,source,note\n"
(DST / "assumptions.csv").write_text(
    header
    + "".join(
        f"{u},{i},{y},{v},{m},assumption,{WHY}a textbook world,\n" for u, i, y, v, m in facts
    ),
    encoding="utf-8",
)
(DST / "facts.csv").write_text(header, encoding="utf-8")
bands = [(5 * k, 5 * k + 4) for k in range(17)] + [(85, 99)]
(DST / "age_structure.csv").write_text(
    "age_from,age_to,share,basis,source\n"
    + "".join(
        f"{a},{b},{(1 / 6 if 20 <= a <= 45 else 0):.10f},assumption,"
        f"{WHY}ages 20-49 only: nobody crosses the move ages 16 and 74 before 2047\n"
        for a, b in bands
    ),
    encoding="utf-8",
)
targets = "unit,indicator,year,value,direction,clause,basis,source\n"
for year in (2027, 2035):
    for unit, ind, value, direction in (
        ("city", "resident_urbanisation_rate", 0.25, "at_least"),
        ("county_area", "resident_urbanisation_rate", 0.25, "at_least"),
        ("city", "income_ratio", 1.0, "at_most"),
    ):
        targets += (
            f"{unit},{ind},{year},{value},{direction},none,assumption,"
            f'"{WHY}no plan; the Harris-Todaro share (0.25) and income parity"\n'
        )
(DST / "targets.csv").write_text(targets, encoding="utf-8")
(DST / "history.csv").write_text(
    "unit,indicator,year,value,basis,series_break,source\n"
    f"city,resident_urbanisation_rate,2023,{X0},assumption,,{WHY}the start state\n",
    encoding="utf-8",
)
(DST / "lever_evidence.csv").write_text(
    "lever,parameter,low,central,high,unit,basis,source,design,note\n", encoding="utf-8"
)
shutil.copy(SRC / "levers.csv", DST / "levers.csv")
print("written", DST)
