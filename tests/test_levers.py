import numpy as np
import pytest

from sim.errors import DataError
from sim.levers import (
    CATALOGUE,
    LEVERS,
    MODELLED_SPENDING,
    Policy,
    catalogue_spending,
    default_policy,
    lever_defaults,
    region_defaults,
)


def test_catalogue_is_consistent():
    assert len(LEVERS) == len(CATALOGUE)
    for lever in CATALOGUE:
        assert lever.name_zh and lever.name_en and lever.clause.startswith("(")
        assert lever.mechanism
    clauses = {lv.clause for lv in CATALOGUE}
    for clause in (
        "(十四)",
        "(十六)",
        "(七)",
        "(十一)",
        "(十三)",
        "(十七)",
        "(十八)",
        "(十九)",
        "(十)",
    ):
        assert any(clause in c for c in clauses), clause


def test_default_policy_has_every_lever_per_county():
    policy = default_policy()
    for lever in CATALOGUE:
        assert getattr(policy, lever.id).shape == (5,)


def test_every_lever_is_sized_by_evidence(region):
    """Each lever has evidence rows; a row's interval holds the value the model uses."""
    rows = region.lever_evidence
    assert {e.lever for e in rows} == set(LEVERS)
    for e in rows:
        central = region_defaults().value(e.lever) if e.parameter == "default" else e.central
        assert e.low <= central <= e.high, (e.lever, e.parameter)
        if e.parameter != "default" and e.parameter in region.parameters:
            assert central == region.parameters[e.parameter].value
        assert e.source and e.design


def test_catalogue_spending_prices_moves_in_the_reform_direction_per_county():
    shares = np.array([0.3, 0.15, 0.25, 0.15, 0.15])
    base = default_policy()
    assert not catalogue_spending(base, shares, 0.3, base).any()
    values = dict(default_policy().values)
    values["park_investment"] = np.array([0.0, 0.0, 0.02, 0.0, 0.0])
    values["land_transfer_friction"] = np.full(5, 0.7)  # away from reform: free
    values["work_relief"] = np.full(5, 0.2)  # modelled from the persons paid, not here
    cost = catalogue_spending(Policy(values), shares, 0.3, base)
    park = LEVERS["park_investment"].cost_per_unit * 1e6 * 0.3 * 0.02 * 0.25
    assert cost == pytest.approx([0, 0, park, 0, 0])
    assert {"work_relief", "collective_dividends", "rural_roads"} <= MODELLED_SPENDING


def test_every_lever_says_how_its_money_flows_through_the_county_budgets():
    for lever in CATALOGUE:
        assert lever.county_budget.split(" ")[0] in ("spending", "revenue:", "no"), lever.id
    per_county_money = [lv for lv in CATALOGUE if lv.unit.startswith("extra yuan")]
    assert per_county_money and all(lv.unit.endswith("per county") for lv in per_county_money)


def test_the_regions_2023_lever_values_are_checked_against_the_catalogue(region, tmp_path):
    import dataclasses

    from sim.data import LeverDefault

    defaults = lever_defaults(region)
    for lever in CATALOGUE:
        assert (lever.low <= defaults.values[lever.id]).all(), lever.id
        assert (defaults.values[lever.id] <= lever.high).all(), lever.id
        assert defaults.sources[lever.id]
    rows = region.lever_defaults

    def refused(changed, message):
        with pytest.raises(DataError, match=message):
            lever_defaults(dataclasses.replace(region, lever_defaults=changed))

    refused(rows[1:], "no 'all' row for lever")
    refused((*rows, LeverDefault("teleport", "all", 1, "assumption", "x")), "unknown lever")
    city_wide = next(lv.id for lv in CATALOGUE if not lv.per_county)
    per_county = next(lv.id for lv in CATALOGUE if lv.per_county)
    refused((*rows, LeverDefault(city_wide, "anju", 0, "assumption", "x")), "is city-wide")
    refused((*rows, LeverDefault(per_county, "anju", 9e9, "assumption", "x")), "outside")
    own = lever_defaults(
        dataclasses.replace(
            region, lever_defaults=(*rows, LeverDefault(per_county, "anju", 0.0, "sourced", "x"))
        )
    )
    anju = region.county_keys.index("anju")
    assert own.values[per_county][anju] == 0.0
    assert (np.delete(own.values[per_county], anju) == defaults.value(per_county)).all()
