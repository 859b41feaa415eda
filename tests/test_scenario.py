import pytest

from sim.errors import ScenarioError
from sim.runner import project_dir
from sim.scenario import available, load_scenario


def write(tmp_path, name, text):
    (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")


def test_baseline_is_the_2023_policy():
    sc = load_scenario("baseline", project_dir("scenarios"))
    assert sc.title_zh and sc.title_en
    policy = sc.policy()
    assert policy.settlement_ease.tolist() == [0.95] * 5
    assert "baseline" in available(project_dir("scenarios"))


def test_levers_per_county_and_extends(tmp_path):
    write(tmp_path, "base", "levers: {settlement_ease: 0.9}\n")
    write(tmp_path, "child", "extends: base\nlevers:\n  park_investment: {shehong: 0.02}\n")
    policy = load_scenario("child", tmp_path).policy()
    assert policy.settlement_ease.tolist() == [0.9] * 5
    assert policy.park_investment.tolist() == [0, 0, 0.02, 0, 0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("levers: {free_lunch: 1}\n", "unknown lever 'free_lunch'"),
        (
            "levers: {settlement_ease: 1.5}\n",
            "levers.settlement_ease=1.5 outside the allowed range [0, 1]",
        ),
        (
            "levers: {park_investment: {lhasa: 0.01}}\n",
            "levers.park_investment.lhasa: unknown county",
        ),
        ("levers: {services_by_residence: {anju: 0.5}}\n", "is not set per county"),
        ("levers: {settlement_ease: high}\n", "is not a number"),
        ("levers: [1, 2\n", "malformed YAML"),
        ("levers:\n  _target_: os.system\n", "key 'levers._target_' is not allowed"),
        ("title_en: ${oc.env:HOME}\nlevers: {}\n", "is an interpolation"),
        ("colour: red\nlevers: {}\n", "unknown key(s) colour"),
        ("extends: bad\nlevers: {}\n", "extends itself"),
    ],
)
def test_bad_scenarios_are_refused(tmp_path, text, message):
    write(tmp_path, "bad", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario("bad", tmp_path)
    assert message in str(info.value)
    assert "bad.yaml" in str(info.value)


def test_unknown_scenario_lists_the_known_ones(tmp_path):
    write(tmp_path, "one", "levers: {}\n")
    with pytest.raises(ScenarioError, match="scenario='two': unknown scenario; allowed: one"):
        load_scenario("two", tmp_path)
