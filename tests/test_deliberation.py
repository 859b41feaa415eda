import math

import numpy as np
import pandas as pd
import pytest

from sim.data import Target
from sim.deliberation import (
    costs,
    county_tradeoffs,
    effects,
    reversals,
    target_findings,
)

YEARS = range(2023, 2036)
SEEDS = (1, 2, 3, 4)
TARGETS = (
    Target("city", "resident_urbanisation_rate", 2027, 0.63, "at_least", "", "", ""),
    Target("county_area", "resident_urbanisation_rate", 2027, 0.485, "at_least", "", "", ""),
    Target("city", "income_ratio", 2027, 1.94, "at_most", "", "", ""),
    Target("city", "income_ratio", 2035, 1.80, "at_most", "", "", ""),
)


def rows(scenario, unit, indicator, value_of):
    return [
        {
            "scenario": scenario,
            "seed": seed,
            "year": year,
            "unit": unit,
            "indicator": indicator,
            "value": value_of(year, seed),
        }
        for year in YEARS
        for seed in SEEDS
    ]


def table():
    """A baseline and a package with known effects (seeds add the same noise to both)."""
    noise = {1: -0.003, 2: -0.001, 3: 0.001, 4: 0.003}
    out = []
    for scenario, urb_gain, ratio_path, spend, shehong in (
        ("baseline", 0.0, lambda y: 0.0, 10e8, 0.0),
        # Lowers the ratio until 2030, then raises it above the baseline's by 2035.
        ("package", 0.004, lambda y: -0.04 + 0.01 * max(0, y - 2030), 15e8, 0.01),
    ):
        out += rows(
            scenario,
            "city",
            "resident_urbanisation_rate",
            lambda y, s, g=urb_gain: 0.60 + 0.008 * (y - 2023) + g * (y > 2023) + noise[s],
        )
        out += rows(
            scenario,
            "county_area",
            "resident_urbanisation_rate",
            lambda y, s: 0.49 + 0.01 * (y - 2023) + noise[s],
        )
        out += rows(
            scenario,
            "city",
            "income_ratio",
            lambda y, s, p=ratio_path: 2.0 - 0.02 * (y - 2023) + p(y) * (y > 2023) + noise[s],
        )
        out += rows(scenario, "city", "lever_spending", lambda y, s, m=spend: m + 1e6 * s)
        out += rows(scenario, "shehong", "income_ratio", lambda y, s, d=shehong: 2.1 + d + noise[s])
    return pd.DataFrame(out)


def test_findings_give_the_chance_the_margin_and_the_first_year():
    findings = target_findings(table(), TARGETS)
    found = {(f.scenario, f.unit, f.indicator, f.year): f for f in findings}
    urb = found[("baseline", "city", "resident_urbanisation_rate", 2027)]
    assert urb.median == pytest.approx(0.632) and urb.margin == pytest.approx(0.002)
    assert urb.p_met == 0.75 and urb.runs == 4  # the seed at -0.003 falls short
    assert urb.first_year == 2027
    area = found[("baseline", "county_area", "resident_urbanisation_rate", 2027)]
    assert area.first_year == 2024 and area.p_met == 1.0
    late = found[("package", "city", "income_ratio", 2035)]
    assert late.direction == "at_most" and late.margin == pytest.approx(1.80 - (1.76 + 0.01))


def test_costs_and_effects_per_100_million_yuan():
    data = table()
    cost = {c.scenario: c for c in costs(data, 2027)}
    assert cost["package"].extra == pytest.approx(5e8)
    assert math.isnan(cost["baseline"].extra)
    found = {(e.scenario, e.indicator, e.unit): e for e in effects(data, 2027)}
    urb = found[("package", "resident_urbanisation_rate", "city")]
    assert urb.median == pytest.approx(0.004) and urb.per_100m == pytest.approx(0.0008)
    assert found[("package", "income_ratio", "city")].median == pytest.approx(-0.04)


def test_an_advantage_that_reverses_is_found_with_its_years():
    (turn,) = reversals(table(), TARGETS)
    assert (turn.scenario, turn.indicator) == ("package", "income_ratio")
    assert turn.best == pytest.approx(-0.04) and turn.best_year == 2027
    assert turn.turns_after == 2033  # -0.04 + 0.01 * 3 = -0.01 still favourable
    assert turn.end_year == 2035 and turn.end == pytest.approx(0.01)


def test_a_county_left_worse_off_is_named_only_when_the_pairs_agree():
    data = table()
    (worse,) = county_tradeoffs(data, 2035)
    assert (worse.scenario, worse.county, worse.indicator) == ("package", "shehong", "income_ratio")
    assert worse.median == pytest.approx(0.01) and worse.agreement == 1.0
    # Half the pairs one way, half the other: seed noise, not a trade-off.
    split = data.copy()
    part = (split.unit == "shehong") & (split.scenario == "package")
    base = split[(split.unit == "shehong") & (split.scenario == "baseline")]["value"].to_numpy()
    split.loc[part, "value"] = base + np.where(split.loc[part, "seed"] % 2 == 0, 0.01, -0.01)
    assert county_tradeoffs(split, 2035) == []
