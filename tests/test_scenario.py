import re

import pytest

from sim.errors import ScenarioError
from sim.levers import LEVERS
from sim.paths import project_dir
from sim.scenario import available, compose_levers, load_scenario

SHIPPED = (
    "baseline",
    "stalled",
    "hukou_services",
    "land_reform",
    "county_industry",
    "services_roads",
    "decision_package",
)
CLAUSES = {
    "hukou_services": {"(十四)"},
    "land_reform": {"(十六)"},
    "county_industry": {"(七)", "(十一)"},
    "services_roads": {"(十八)", "(十九)"},
}


def write(tmp_path, name, text):
    (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")


def test_the_scenario_library_is_complete():
    folder = project_dir("scenarios")
    assert set(SHIPPED) <= set(available(folder))
    for name in SHIPPED:
        sc = load_scenario(name, folder, period=(2023, 2027))
        assert re.search(r"[\u4e00-\u9fff]", sc.title_zh), name
        assert sc.title_en and len(sc.description) > 80, name
        assert sc.chain[-1] == name


@pytest.mark.parametrize("name", SHIPPED)
def test_every_lever_a_scenario_sets_names_its_clause(name):
    """Each lever line carries a comment with the catalogue's clause for that lever."""
    path = project_dir("scenarios") / f"{name}.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    body = lines[lines.index("levers:") + 1 :] if "levers:" in lines else []
    for line in body:
        m = re.match(r"  (\w+):", line)
        if m:
            lever = LEVERS[m.group(1)]
            assert "#" in line and lever.clause in line.split("#", 1)[1], (name, line)


@pytest.mark.parametrize(("name", "clauses"), CLAUSES.items())
def test_clause_scenarios_change_their_clauses_levers(name, clauses):
    folder = project_dir("scenarios")
    own = load_scenario(name, folder).plan.changed()
    base = load_scenario("baseline", folder).plan.changed()
    delta = {k for k, v in own.items() if base.get(k) != v}
    assert delta
    for lever_id in delta:
        assert any(c in LEVERS[lever_id].clause for c in clauses), (name, lever_id)


def test_stalled_freezes_every_lever_and_baseline_continues_2023_programmes():
    folder = project_dir("scenarios")
    assert load_scenario("stalled", folder).plan.changed() == {}
    baseline = load_scenario("baseline", folder)
    assert baseline.chain == ("stalled", "baseline")
    assert 0 < len(baseline.plan.changed()) <= 5
    # No baseline schedule starts before the first simulated year or names the decision's.
    assert baseline.plan.policy_at(2023.0).services_by_residence[0] == 0.6


def test_decision_package_composes_every_clause_and_sets_every_lever():
    sc = load_scenario("decision_package", project_dir("scenarios"))
    assert sc.chain == (
        "stalled",
        "baseline",
        "hukou_services",
        "land_reform",
        "county_industry",
        "services_roads",
        "decision_package",
    )
    assert set(sc.plan.changed()) == set(LEVERS)
    policy = sc.plan.policy_at(2027.0)
    assert policy.settlement_ease.tolist() == [1.0] * 5
    assert policy.services_by_residence[0] == pytest.approx(0.9)  # hukou_services, not baseline
    assert policy.land_transfer_friction[0] == pytest.approx(0.2)  # land_reform over baseline
    assert len(sc.digest) == 64


def test_defaults_apply_a_shared_parent_once_and_later_files_win(tmp_path):
    write(tmp_path, "root", "levers: {settlement_ease: 0.5, work_relief: 0.02}\n")
    write(tmp_path, "a", "defaults: [root]\nlevers: {settlement_ease: 0.7}\n")
    write(tmp_path, "b", "defaults: [root]\nlevers: {park_investment: {anju: 0.01}}\n")
    write(tmp_path, "both", "defaults: [a, b, _self_]\nlevers: {work_relief: 0.05}\n")
    sc = load_scenario("both", tmp_path)
    assert sc.chain == ("root", "a", "b", "both")
    policy = sc.plan.policy_at(2025.0)
    assert policy.settlement_ease.tolist() == [0.7] * 5  # b's copy of root did not undo a
    assert policy.park_investment.tolist() == [0, 0.01, 0, 0, 0]
    assert policy.work_relief[0] == 0.05


def test_self_first_lets_the_parent_win(tmp_path):
    write(tmp_path, "parent", "levers: {settlement_ease: 0.5}\n")
    write(tmp_path, "child", "defaults: [_self_, parent]\nlevers: {settlement_ease: 0.9}\n")
    assert load_scenario("child", tmp_path).plan.policy_at(2025).settlement_ease[0] == 0.5


def test_county_mappings_merge_county_by_county(tmp_path):
    write(tmp_path, "parent", "levers: {park_investment: 0.01, rental_housing: {anju: 0.1}}\n")
    write(
        tmp_path,
        "child",
        "defaults: [parent]\nlevers:\n"
        "  park_investment: {shehong: 0.03}\n"
        "  rental_housing: {daying: 0.2}\n",
    )
    sc = load_scenario("child", tmp_path)
    policy = sc.plan.policy_at(2024.0)
    assert policy.park_investment.tolist() == [0.01, 0.01, 0.03, 0.01, 0.01]
    assert policy.rental_housing.tolist() == [0, 0.1, 0, 0, 0.2]
    assert sc.levers["park_investment"]["shehong"] == 0.03
    assert sc.levers["park_investment"]["anju"] == 0.01


def test_compose_levers_matches_the_plan():
    merged = compose_levers([{"x": 1, "y": {"anju": 1}}, {"x": {"anju": 2}, "y": 3}])
    assert merged == {"x": {k: 1 for k in merged["x"]} | {"anju": 2}, "y": 3}


def test_plain_references_are_allowed(tmp_path):
    write(
        tmp_path,
        "refs",
        "levers:\n"
        "  park_investment: {anju: 0.02, daying: '${levers.park_investment.anju}'}\n"
        "  agri_parks: {ramp: [2024, 2027], to: '${levers.park_investment.anju}'}\n",
    )
    policy = load_scenario("refs", tmp_path).plan.policy_at(2027.0)
    assert policy.park_investment.tolist() == [0, 0.02, 0, 0, 0.02]
    assert policy.agri_parks.tolist() == [0.02] * 5


def test_lever_overrides_apply_last_and_are_checked(tmp_path):
    folder = project_dir("scenarios")
    sc = load_scenario("baseline", folder, lever_overrides={"settlement_ease": 0.5})
    assert sc.plan.policy_at(2030.0).settlement_ease.tolist() == [0.5] * 5
    assert sc.plan.policy_at(2030.0).services_by_residence[0] > 0.6  # baseline kept
    with pytest.raises(ScenarioError, match=r"^command line: levers.settlement_ease=3"):
        load_scenario("baseline", folder, lever_overrides={"settlement_ease": 3})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("levers: {free_lunch: 1}\n", "levers.free_lunch: unknown lever"),
        (
            "levers: {settlement_ease: 1.5}\n",
            "levers.settlement_ease=1.5: outside the allowed range [0, 1]",
        ),
        ("levers: {park_investment: {lhasa: 0.01}}\n", "levers.park_investment.lhasa: unknown"),
        (
            "levers: {settlement_ease: {step: 2040, to: 1}}\n",
            "levers.settlement_ease.step=2040: year outside the simulated period; "
            "allowed [2023, 2035]",
        ),
        ("levers: [1, 2\n", "malformed YAML"),
        ("levers:\n  a: 1\n  a: 2\n", "malformed YAML"),
        ("levers: 3\n", "levers=3: allowed a mapping"),
        ("- 1\n- 2\n", "top level must be a mapping"),
        ("levers:\n  _target_: os.system\n", "key 'levers._target_' is not allowed"),
        ("levers: !!python/object/apply:os.system ['true']\n", "malformed YAML"),
        ("_target_: os.system\nlevers: {}\n", "key '_target_' is not allowed"),
        ("title_en: ${oc.env:HOME}\nlevers: {}\n", "title_en='${oc.env:HOME}': calls a resolver"),
        (
            "levers: {settlement_ease: '${oc.decode:1}'}\n",
            "levers.settlement_ease='${oc.decode:1}': calls a resolver",
        ),
        ("levers: {settlement_ease: 'x${now:%Y}'}\n", "calls a resolver"),
        ("levers: {settlement_ease: '${levers.'}\n", "malformed interpolation"),
        ("levers: {settlement_ease: '${levers.nowhere}'}\n", "nowhere"),
        ("colour: red\nlevers: {}\n", "unknown key(s) colour"),
        ("defaults: [bad]\nlevers: {}\n", "extends itself"),
        ("defaults: [nowhere]\nlevers: {}\n", "defaults: scenario='nowhere': unknown scenario"),
        ("defaults: baseline\nlevers: {}\n", "defaults='baseline': allowed a list"),
    ],
)
def test_bad_scenarios_are_refused_in_one_line(tmp_path, text, message):
    write(tmp_path, "bad", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario("bad", tmp_path, period=(2023, 2035))
    text = str(info.value)
    assert message in text and "bad.yaml" in text, text
    assert "\n" not in text


def test_errors_name_the_file_that_set_the_bad_value(tmp_path):
    write(tmp_path, "parent", "levers: {work_relief: 0.05}\n")
    write(tmp_path, "child", "defaults: [parent]\nlevers: {settlement_ease: -1}\n")
    with pytest.raises(ScenarioError, match=r"child\.yaml: levers\.settlement_ease=-1"):
        load_scenario("child", tmp_path)


def test_non_utf8_and_unknown_names(tmp_path):
    (tmp_path / "latin.yaml").write_bytes("title_en: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario("latin", tmp_path)
    with pytest.raises(ScenarioError, match="scenario='two': unknown scenario; allowed: latin"):
        load_scenario("two", tmp_path)
    with pytest.raises(ScenarioError, match="not a scenario name"):
        load_scenario("../etc/passwd", tmp_path)
