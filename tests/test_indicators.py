import numpy as np
import pytest

from sim.indicators import CORE_INDICATORS, indicator_table, target_values


@pytest.fixture(scope="module")
def table(make_model):
    model = make_model(scale=0.001, seed=9, end_year=2027)
    model.run()
    return indicator_table(
        model.tallies,
        weight=model.weight,
        steps_per_year=model.spy,
        county_area=["anju", "shehong", "pengxi", "daying"],
        scenario="baseline",
        seed=9,
    )


def test_units_add_up(table):
    v = table.set_index(["year", "unit", "indicator"]).value
    for year in (2023, 2027):
        counties = sum(
            v[(year, c, "resident_population")]
            for c in ("chuanshan", "anju", "shehong", "pengxi", "daying")
        )
        assert counties == pytest.approx(v[(year, "city", "resident_population")])
        area = sum(
            v[(year, c, "urban_resident_population")]
            for c in ("anju", "shehong", "pengxi", "daying")
        )
        assert v[(year, "county_area", "resident_urbanisation_rate")] == pytest.approx(
            area
            / sum(
                v[(year, c, "resident_population")] for c in ("anju", "shehong", "pengxi", "daying")
            )
        )
        assert v[(year, "city", "income_ratio")] == pytest.approx(
            v[(year, "city", "urban_income_per_capita")]
            / v[(year, "city", "rural_income_per_capita")]
        )


def test_rates_are_fractions_and_base_year_flows_are_missing(table):
    rates = table[table.indicator.str.endswith("_rate")]
    assert rates.value.between(0, 1).all()
    base = table[(table.year == 2023) & (table.indicator == "citizenisation")]
    assert base.value.isna().all()
    assert set(CORE_INDICATORS) <= set(table.indicator)


def test_income_components_add_up(table):
    v = table.set_index(["year", "unit", "indicator"]).value
    for side in ("urban", "rural"):
        parts = sum(
            v[(2026, "city", f"{side}_{k}_income_per_capita")]
            for k in ("wage", "operating", "property", "transfer")
        )
        assert parts == pytest.approx(v[(2026, "city", f"{side}_income_per_capita")])


def test_target_values(table):
    values = target_values(table, 2027)
    assert len(values) == 3 and all(np.isfinite(list(values.values())))


def test_where_registered_persons_live_and_the_age_pyramid_add_up(table):
    from sim.data import load_region

    COUNTY_KEYS, OUTSIDE_KEYS = load_region().county_keys, load_region().outside_keys
    from sim.indicators import living_in_indicator, pyramid_indicator

    v = table.set_index(["year", "unit", "indicator"]).value
    dests = COUNTY_KEYS + OUTSIDE_KEYS
    for year in (2023, 2027):
        for county in COUNTY_KEYS:
            lives = [v[(year, county, living_in_indicator(d))] for d in dests]
            assert sum(lives) == pytest.approx(v[(year, county, "registered_population")])
            assert lives[COUNTY_KEYS.index(county)] == max(lives)  # most live at home
        for d in dests:
            city = v[(year, "city", living_in_indicator(d))]
            assert city == pytest.approx(
                sum(v[(year, c, living_in_indicator(d))] for c in COUNTY_KEYS)
            )
        outside = sum(v[(year, "city", living_in_indicator(d))] for d in OUTSIDE_KEYS)
        assert outside == pytest.approx(v[(year, "city", "registered_living_outside")])
        for urban, name in (
            (True, "urban_resident_population"),
            (False, "rural_resident_population"),
        ):
            count = sum(
                v[(year, "city", pyramid_indicator(urban, female, band))]
                for female in (False, True)
                for band in range(18)
            )
            assert count == pytest.approx(v[(year, "city", name)])
    assert pyramid_indicator(True, True, 17) == "residents_urban_female_85_plus"
    assert pyramid_indicator(False, False, 4) == "residents_rural_male_20_24"
    old = [v[(2027, "city", pyramid_indicator(False, f, b))] for f in (0, 1) for b in range(12, 18)]
    assert sum(old) == pytest.approx(
        v[(2027, "city", "rural_share_aged_60_plus")]
        * v[(2027, "city", "rural_resident_population")]
    )


def test_lever_spending_and_budgets_add_up(table):
    from sim.levers import SPENDING_CATEGORIES

    v = table.set_index(["year", "unit", "indicator"]).value
    counties = ("chuanshan", "anju", "shehong", "pengxi", "daying")
    for year in (2023, 2027):
        for unit in ("city", "county_area", *counties):
            parts = sum(v[(year, unit, f"lever_spending_{c}")] for c in SPENDING_CATEGORIES)
            assert v[(year, unit, "lever_spending")] == pytest.approx(parts)
            assert v[(year, unit, "lever_spending")] > 0  # 2023 work relief and settling
            assert v[(year, unit, "other_spending")] >= 0
        for name in ("lever_spending", "other_spending", "county_balance", "capacity_spending"):
            total = sum(v[(year, c, name)] for c in counties)
            assert v[(year, "city", name)] == pytest.approx(total), name
            area = sum(v[(year, c, name)] for c in counties[1:])
            assert v[(year, "county_area", name)] == pytest.approx(area), name
    # The 2023 policy pays work relief but no lever dividends, road or service money.
    for name in ("collective_dividends", "rural_roads", "service_capacity"):
        assert v[(2027, "city", f"lever_spending_{name}")] == 0.0
    assert v[(2023, "city", "lever_spending_citizenisation")] == 0.0  # base year: none settle


def test_the_indicators_and_charts_read_results_without_the_engine():
    """Issue 15.6: drawing a chart, an indicator table or the report loads no model, numba
    or Mesa."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import sim.indicators, sim.tallies, sim.deliberation, sim.uncertainty\n"
        "import sim.charts.fan, sim.charts.compare, sim.charts.flows, sim.charts.scorecard\n"
        "import sim.report, sim.sweeps\n"
        "engine = ('sim.model', 'sim.kernels', 'sim.numba_backend', 'numba', 'mesa')\n"
        "print(','.join(m for m in engine if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
