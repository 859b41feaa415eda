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
