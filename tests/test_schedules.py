import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.errors import ScenarioError
from sim.levers import LEVERS, region_defaults
from sim.schedules import constant, default_plan, plan_from_levers

PERIOD = (2023, 2035)


def plan(levers, period=PERIOD, base=None):
    return plan_from_levers("test.yaml", levers, period, base)


def test_default_plan_is_the_2023_policy_at_all_times():
    for t in (2023.0, 2024.25, 2035.75):
        policy = default_plan().policy_at(t)
        for lever_id in LEVERS:
            assert getattr(policy, lever_id).tolist() == [region_defaults().value(lever_id)] * 5


def test_constant_step_ramp_and_per_year():
    p = plan(
        {
            "settlement_ease": 0.5,
            "services_by_residence": {"step": 2026, "to": 0.9},
            "land_consolidation": {"ramp": [2024, 2028], "from": 0.2, "to": 0.6},
            "work_relief": {"per_year": {2027: 0.05, 2025: 0.02}},
        }
    )
    at = p.policy_at
    assert at(2024.0).settlement_ease.tolist() == [0.5] * 5
    assert at(2025.75).services_by_residence[0] == 0.6  # the 2023 default before the step
    assert at(2026.0).services_by_residence[0] == 0.9
    assert at(2023.5).land_consolidation[0] == 0.2
    assert at(2024.0).land_consolidation[0] == pytest.approx(0.2)
    assert at(2025.0).land_consolidation[0] == pytest.approx(0.3)
    assert at(2026.5).land_consolidation[0] == pytest.approx(0.45)
    assert at(2028.0).land_consolidation[0] == pytest.approx(0.6)
    assert at(2035.0).land_consolidation[0] == pytest.approx(0.6)
    assert at(2024.75).work_relief[0] == 0.01
    assert at(2025.0).work_relief[0] == 0.02
    assert at(2026.75).work_relief[0] == 0.02
    assert at(2027.25).work_relief[0] == 0.05


def test_per_county_schedules_keep_the_counties_left_out():
    base = plan({"park_investment": 0.01})
    p = plan({"park_investment": {"shehong": {"ramp": [2024, 2026], "to": 0.03}}}, base=base)
    values = p.policy_at(2025.0).park_investment
    # A ramp starts from the lever's 2023 value (0) unless it says `from:`.
    assert values.tolist() == pytest.approx([0.01, 0.01, 0.015, 0.01, 0.01])
    assert set(p.changed()) == {"park_investment"}
    assert p.schedules["settlement_ease"] == (constant(0.95),) * 5


def test_describe():
    p = plan(
        {
            "services_by_residence": {"step": 2026, "to": 0.9},
            "rural_roads": {"per_year": {2024: 1e8, 2027: 2e7}},
            "land_consolidation": {"ramp": [2024, 2027], "to": 0.3},
        }
    )
    assert p.schedules["services_by_residence"][0].describe() == "0.6 → 0.9 from 2026"
    assert p.schedules["rural_roads"][0].describe() == "0, then 2024: 100,000,000, 2027: 20,000,000"
    assert p.schedules["land_consolidation"][0].describe() == "0.1 → 0.3 (linear 2024–2027)"


@given(
    start=st.integers(2023, 2034),
    length=st.integers(1, 16),
    a=st.floats(0, 1),
    b=st.floats(0, 1),
    times=st.lists(st.floats(2023, 2051), min_size=2, max_size=8),
)
def test_ramps_stay_between_their_ends_and_move_one_way(start, length, a, b, times):
    end = min(start + length, 2050)
    schedule = plan({"land_consolidation": {"ramp": [start, end], "from": a, "to": b}})
    values = [schedule.policy_at(t).land_consolidation[0] for t in sorted(times)]
    lo, hi = min(a, b), max(a, b)
    assert all(lo - 1e-12 <= v <= hi + 1e-12 for v in values)
    steps = [y - x for x, y in itertools.pairwise(values)]
    sign = 1 if b >= a else -1
    assert all(sign * d >= -1e-12 for d in steps)


@given(table=st.dictionaries(st.integers(2023, 2035), st.floats(0, 0.2), min_size=1))
def test_per_year_holds_each_value_until_the_next_year(table):
    p = plan({"work_relief": {"per_year": table}})
    years = sorted(table)
    for year in years:
        for quarter in (0.0, 0.25, 0.75):
            assert p.policy_at(year + quarter).work_relief[0] == table[year]
    assert p.policy_at(years[0] - 0.25).work_relief[0] == region_defaults().value("work_relief")


@pytest.mark.parametrize(
    ("levers", "message"),
    [
        ({"free_lunch": 1}, "levers.free_lunch: unknown lever"),
        ({"settlement_ease": 1.5}, "levers.settlement_ease=1.5: outside the allowed range [0, 1]"),
        ({"settlement_ease": "high"}, "levers.settlement_ease='high': not a number"),
        ({"settlement_ease": True}, "not a number"),
        ({"park_investment": {"lhasa": 0.01}}, "levers.park_investment.lhasa: unknown county"),
        ({"services_by_residence": {"anju": 0.5}}, "not set per county"),
        (
            {"settlement_ease": {"step": 2040, "to": 1.0}},
            "levers.settlement_ease.step=2040: year outside the simulated period; "
            "allowed [2023, 2035]",
        ),
        (
            {"settlement_ease": {"step": 2019, "to": 1.0}},
            "year outside the simulated period",
        ),
        (
            {"settlement_ease": {"ramp": [2036, 2040], "to": 1.0}},
            "levers.settlement_ease.ramp=2036",
        ),
        ({"settlement_ease": {"ramp": [2025, 2051], "to": 1.0}}, "allowed [2023, 2050]"),
        ({"settlement_ease": {"ramp": [2027, 2025], "to": 1.0}}, "the last year must follow"),
        ({"settlement_ease": {"ramp": [2025], "to": 1.0}}, "allowed [FIRST_YEAR, LAST_YEAR]"),
        ({"settlement_ease": {"step": 2025}}, "a step needs 'to: VALUE'"),
        ({"settlement_ease": {"step": 2025, "to": 2.0}}, "levers.settlement_ease.to=2.0: outside"),
        ({"settlement_ease": {"step": 2025.5, "to": 1.0}}, "not a year"),
        ({"settlement_ease": {"step": 2025, "ramp": [2024, 2026], "to": 1}}, "not a schedule"),
        ({"services_by_residence": {"grow": 2025}}, "not a schedule"),
        ({"park_investment": {"grow": 2025}}, "unknown county; allowed: chuanshan"),
        ({"work_relief": {"per_year": {2024: 0.5}}}, "levers.work_relief.per_year.2024=0.5"),
        ({"work_relief": {"per_year": {2036: 0.05}}}, "year outside the simulated period"),
        ({"work_relief": {"per_year": {}}}, "non-empty mapping"),
        ({"work_relief": {"per_year": {2024: 0.05}, "to": 0.1}}, "per_year takes no 'to'"),
        ({"park_investment": {"anju": {"anju": 0.01}}}, "levers.park_investment.anju="),
    ],
)
def test_bad_schedules_name_file_key_value_and_range(levers, message):
    with pytest.raises(ScenarioError) as info:
        plan(levers)
    text = str(info.value)
    assert text.startswith("test.yaml: ") and message in text, text
    assert "\n" not in text


def test_a_ramp_may_end_after_the_run():
    p = plan({"land_consolidation": {"ramp": [2024, 2044], "to": 0.5}}, period=(2023, 2027))
    assert p.policy_at(2027.75).land_consolidation[0] == pytest.approx(0.1 + 0.4 * 3.75 / 20)
