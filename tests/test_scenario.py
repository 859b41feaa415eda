import json
import os
import re
import subprocess
import sys
import time

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim.errors import ScenarioError
from sim.levers import LEVERS
from sim.paths import project_dir
from sim.scenario import (
    MAX_DESCRIPTION_CHARS,
    MAX_EXTENDS_DEPTH,
    MAX_FILE_BYTES,
    MAX_NAME_CHARS,
    MAX_TITLE_CHARS,
    available,
    compose_levers,
    load_scenario,
)

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
        ("levers: !!python/object/apply:os.system ['true']\n", "line 1: YAML tags are not allowed"),
        ("levers: {settlement_ease: !!binary aGVsbG8=}\n", "line 1: YAML tags are not allowed"),
        ("_target_: os.system\nlevers: {}\n", "key '_target_' is not allowed"),
        ("title_en: ${oc.env:HOME}\nlevers: {}\n", "title_en='${oc.env:HOME}': calls a resolver"),
        (
            "levers: {settlement_ease: '${oc.decode:1}'}\n",
            "levers.settlement_ease='${oc.decode:1}': calls a resolver",
        ),
        ("levers: {settlement_ease: 'x${now:%Y}'}\n", "calls a resolver"),
        ("levers: {settlement_ease: '${levers.'}\n", "not a single whole-value reference"),
        ("levers: {settlement_ease: '${levers.nowhere}'}\n", "levers.nowhere is not set"),
        # References: one whole value, into levers, leading to one value (issue 10, point 9).
        (
            "levers: {settlement_ease: '${levers.work_relief}${levers.work_relief}'}\n",
            "levers.settlement_ease='${levers.work_relief}${levers.work_relief}': not a single "
            "whole-value reference; allowed: a plain value, or",
        ),
        ("levers: {settlement_ease: 'x${levers.work_relief}'}\n", "not a single whole-value"),
        ("levers: {settlement_ease: '${.work_relief}'}\n", "not a single whole-value"),
        ("levers: {settlement_ease: '${layers.0.x}'}\n", "not a single whole-value"),
        ("title_en: '${levers.work_relief}'\nlevers: {}\n", "a reference outside levers"),
        (
            "levers: {settlement_ease: '${levers.park_investment}', "
            "park_investment: {anju: 0.01}}\n",
            "levers.settlement_ease='${levers.park_investment}': levers.park_investment is "
            "a mapping or list",
        ),
        (
            "levers: {settlement_ease: {ramp: [2024, 2027], to: 1}, work_relief: "
            "'${levers.settlement_ease.ramp}'}\n",
            "levers.settlement_ease.ramp is a mapping or list",
        ),
        (
            "levers: {settlement_ease: '${levers.work_relief}', work_relief: "
            "'${levers.settlement_ease}'}\n",
            "levers.settlement_ease='${levers.work_relief}': a reference cycle "
            "(levers.work_relief -> levers.settlement_ease -> levers.work_relief)",
        ),
        ("levers: {settlement_ease: '${levers.settlement_ease}'}\n", "a reference cycle"),
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


# Issue 10, points 7, 9 and 11: reading a scenario folder that may come from anyone.

ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{level}: &{level} [{','.join([f'*{below}'] * 9)}]\n"
    for below, level in zip("abcdefgh", "bcdefghi", strict=True)
)


def load_in_child(folder, name, seconds=20):
    """``load_scenario(name, folder)`` in a child process held to 2 GiB and ``seconds``.

    Returns the exit code (0 loaded, 2 refused) and what it printed: the chain or the error.
    A hang or runaway memory fails the test instead of the test session.
    """
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "from pathlib import Path\n"
        "from sim.errors import ScenarioError\n"
        "from sim.scenario import load_scenario\n"
        "try:\n"
        "    print(' '.join(load_scenario(sys.argv[1], Path(sys.argv[2])).chain))\n"
        "except ScenarioError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(2)\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, name, str(folder)],
            capture_output=True,
            text=True,
            timeout=seconds,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"loading {name} did not finish within {seconds} s")
    assert done.returncode in (0, 2), done.stderr[-2000:]
    return done.returncode, done.stdout.strip()


def refusal(tmp_path, name="bad", **kwargs):
    """The one-line message ``load_scenario`` refuses ``name`` with."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(name, tmp_path, **kwargs)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message, message
    return message


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    assert len(ALIAS_BOMB.encode()) < 400
    write(tmp_path, "bomb", ALIAS_BOMB)
    started = time.monotonic()
    code, message = load_in_child(tmp_path, "bomb")
    assert code == 2
    assert message == (
        f"{tmp_path / 'bomb.yaml'}: line 1: YAML anchors and aliases are not allowed in a scenario"
    )
    assert time.monotonic() - started < 15


def test_the_cli_refuses_an_alias_bomb_in_one_line(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    write(folder, "bomb", ALIAS_BOMB)
    started = time.monotonic()
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "sim.cli",
                "run",
                f"scenarios_dir={folder}",
                "scenario=bomb",
                "progress=off",
                "end_year=2024",
                "scale=0.001",
            ],
            capture_output=True,
            text=True,
            timeout=20,
            cwd=tmp_path,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("ronghe run with an alias bomb did not exit within 20 s")
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith("ronghe: error: ") and "bomb.yaml: line 1: YAML anchors" in lines[0]
    assert time.monotonic() - started < 15


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    anchor=st.from_regex(r"[A-Za-z0-9_-]{1,16}", fullmatch=True),
    place=st.integers(0, 4),
    as_alias=st.booleans(),
)
def test_any_anchor_or_alias_is_refused_with_its_line(tmp_path_factory, anchor, place, as_alias):
    folder = tmp_path_factory.mktemp("anchors")
    values = [
        "0.5",
        "{step: 2025, to: 0.9}",
        "{ramp: [2024, 2027], to: 0.9}",
        "{per_year: {2024: 0.7}}",
        "{anju: 0.01}",
    ]
    lines = ["title_en: marked", "levers:"] + [f"  lever{i}: {v}" for i, v in enumerate(values)]
    mark = f"*{anchor}" if as_alias else f"&{anchor} {values[place]}"
    lines[2 + place] = f"  lever{place}: {mark}"
    write(folder, "marked", "\n".join(lines) + "\n")
    message = refusal(folder, "marked")
    assert message.endswith(
        f"marked.yaml: line {3 + place}: YAML anchors and aliases are not allowed in a scenario"
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shared=st.recursive(
        st.integers(0, 9) | st.text("abcxyz", min_size=1, max_size=5),
        lambda inner: (
            st.lists(inner, min_size=1, max_size=3)
            | st.dictionaries(st.text("abcxyz", min_size=1, max_size=4), inner, min_size=1)
        ),
        max_leaves=6,
    ).filter(lambda value: isinstance(value, list | dict)),
    uses=st.integers(2, 4),
)
def test_shared_values_dumped_by_pyyaml_are_refused(tmp_path_factory, shared, uses):
    """PyYAML writes a value shared by several keys as an anchor and aliases."""
    folder = tmp_path_factory.mktemp("shared")
    text = yaml.safe_dump({"levers": {f"lever{i}": shared for i in range(uses)}})
    write(folder, "shared", text)
    anchor_line = next(i for i, line in enumerate(text.splitlines(), 1) if "&id" in line)
    assert refusal(folder, "shared").endswith(
        f"shared.yaml: line {anchor_line}: YAML anchors and aliases are not allowed in a scenario"
    )


def exponential_references(kind):
    """A scenario whose references would expand to 2**40 characters or 9**9 values."""
    if kind == "concatenated":
        lines = ["  l0: '0.5'"] + [
            f"  l{i}: '${{levers.l{i - 1}}}${{levers.l{i - 1}}}'" for i in range(1, 41)
        ]
        return "levers:\n" + "\n".join(lines) + "\n"
    lines = ["  l0: [1, 1, 1, 1, 1, 1, 1, 1, 1]"] + [
        f"  l{i}: [{', '.join([repr(f'${{levers.l{i - 1}}}')] * 9)}]" for i in range(1, 10)
    ]
    return "levers:\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (
            "concatenated",
            "levers.l1='${levers.l0}${levers.l0}': not a single whole-value reference",
        ),
        ("to a list", "levers.l1.0='${levers.l0}': levers.l0 is a mapping or list"),
    ],
)
def test_references_that_expand_exponentially_are_refused(tmp_path, kind, message):
    write(tmp_path, "refbomb", exponential_references(kind))
    code, output = load_in_child(tmp_path, "refbomb")
    assert code == 2 and output.startswith(f"{tmp_path / 'refbomb.yaml'}: {message}"), output


def test_reference_chains_resolve_across_files_and_the_command_line(tmp_path):
    """The README's form, followed from reference to reference in the composed levers."""
    write(
        tmp_path,
        "parent",
        "levers:\n"
        "  park_investment: {anju: 0.02, daying: '${levers.park_investment.anju}'}\n"
        "  agri_parks: {per_year: {2024: 0.03, 2026: '${levers.work_relief}'}}\n",
    )
    write(
        tmp_path,
        "child",
        "defaults: [parent]\n"
        "levers:\n"
        "  park_investment: {anju: 0.04, shehong: '${levers.park_investment.daying}'}\n"
        "  work_relief: '${levers.agri_parks.per_year.2024}'\n"
        "  rental_housing: {ramp: [2024, 2027], to: 0.3}\n"
        "  settlement_ease: '${levers.rental_housing.to}'\n",
    )
    sc = load_scenario(
        "child", tmp_path, lever_overrides={"vocational_training": "${levers.work_relief}"}
    )
    policy = sc.plan.policy_at(2027.0)
    # anju is 0.04 in the composed levers, so both parent's and child's references give 0.04.
    assert policy.park_investment.tolist() == [0, 0.04, 0.04, 0, 0.04]
    assert policy.agri_parks.tolist() == [0.03] * 5
    assert policy.work_relief[0] == policy.vocational_training[0] == 0.03
    assert policy.settlement_ease.tolist() == [0.3] * 5
    assert sc.levers["park_investment"]["shehong"] == 0.04
    assert sc.levers["vocational_training"] == 0.03
    assert "${" not in json.dumps(sc.levers)


def test_command_line_lever_values_are_checked_like_files(tmp_path):
    write(tmp_path, "plain", "levers: {}\n")
    message = refusal(tmp_path, "plain", lever_overrides={"settlement_ease": "${oc.env:HOME}"})
    assert message.startswith("command line: levers.settlement_ease='${oc.env:HOME}': calls")
    message = refusal(tmp_path, "plain", lever_overrides={"_target_": "os.system"})
    assert message.startswith("command line: key 'levers._target_' is not allowed")


SECRET = "root:$y$j9T$" + "Q" * 86 + ":19000:0:99999:7:::"


@pytest.fixture
def outside_secret(tmp_path):
    """A folder of scenarios, and a file outside it holding secret-looking lines."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    secret = tmp_path / "shadow"
    secret.write_text(f"{SECRET}\ndaemon:*:19000:0:99999:7:::\n", encoding="utf-8")
    return folder, secret


def test_links_leading_out_of_the_folder_are_refused(outside_secret):
    folder, secret = outside_secret
    (folder / "evil.yaml").symlink_to(secret)
    (folder / "up.yaml").symlink_to(f"../{secret.name}")
    write(folder, "child", "defaults: [evil]\nlevers: {}\n")
    for name in ("evil", "up"):
        message = refusal(folder, name)
        assert message == (
            f"{folder / name}.yaml: leads outside {folder}; a scenario must lie in that folder"
        )
    message = refusal(folder, "child")
    assert message.startswith(f"{folder / 'evil.yaml'}: leads outside")
    assert available(folder) == ["child"]


def test_links_within_the_folder_are_followed(tmp_path):
    folder = tmp_path / "scenarios"
    (folder / "shared").mkdir(parents=True)
    write(folder / "shared", "reform", "levers: {settlement_ease: 0.7}\n")
    (folder / "alias.yaml").symlink_to("shared/reform.yaml")
    assert available(folder) == ["alias"]
    policy = load_scenario("alias", folder).plan.policy_at(2025.0)
    assert policy.settlement_ease.tolist() == [0.7] * 5


LONG_KEY = "K" * 500
LONG_VALUE = "V" * 10_000


@pytest.mark.parametrize(
    "text",
    [
        f"levers: {{settlement_ease: '{LONG_VALUE}'}}\n",
        f"levers: {{park_investment: {{anju: '{LONG_VALUE}'}}}}\n",
        f"levers: {{settlement_ease: [{', '.join(['7'] * 5000)}]}}\n",
        f"levers: {{{LONG_KEY}: 1}}\n",
        f"levers: {{park_investment: {{{LONG_KEY}: 1}}}}\n",
        f"{LONG_KEY}: 1\nlevers: {{}}\n",
        f"levers: {{settlement_ease: 1, {LONG_KEY}: 1, {LONG_KEY}: 2}}\n",
        f"levers:\n  {LONG_KEY}: 1\n  {LONG_KEY}: 2\n",
        f"levers: {{settlement_ease: '${{{LONG_VALUE}}}'}}\n",
        f"title_en: {LONG_VALUE}\nlevers: {{}}\n",
        f"description: {LONG_VALUE}\nlevers: {{}}\n",
        f"defaults: [{LONG_KEY}]\nlevers: {{}}\n",
        f"defaults: {LONG_VALUE}\nlevers: {{}}\n",
        f"levers: {LONG_VALUE}\n",
        f"levers: {{settlement_ease: {{step: 2025, to: 1, {LONG_KEY}: 1}}}}\n",
        f"levers: [\n  {LONG_VALUE}\n",
        f"_{LONG_KEY}: 1\n",
    ],
    ids=lambda text: text[:24],
)
def test_errors_echo_at_most_60_characters_of_a_file(tmp_path, text):
    write(tmp_path, "bad", text)
    message = refusal(tmp_path, period=(2023, 2035))
    assert "V" * 61 not in message and "K" * 61 not in message and "7, " * 21 not in message
    assert len(message) < len(str(tmp_path)) + 60 + 600, message  # 600: the list of levers


@pytest.mark.parametrize("lines", [1, 2, 40])
def test_a_file_that_is_not_yaml_is_refused_without_its_content(tmp_path, lines):
    shadow = "".join(f"{SECRET.replace('root', f'user{i}')}\n" for i in range(lines))
    write(tmp_path, "shadow", shadow)
    message = refusal(tmp_path, "shadow")
    assert "$y$j9T$" not in message and "QQQQ" not in message, message
    # Each line ends in ":", so YAML reads the file as a mapping whose keys are the lines.
    assert message == (
        f"{tmp_path / 'shadow.yaml'}: {lines} unknown key(s) that are not names (not shown); "
        f"allowed: defaults, description, description_zh, levers, title_en, title_zh"
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.text(min_size=0, max_size=400), as_key=st.booleans())
def test_any_value_or_key_is_echoed_in_at_most_60_characters(tmp_path_factory, value, as_key):
    assume(not (as_key and value in LEVERS))  # a lever's own name is a valid key
    folder = tmp_path_factory.mktemp("echo")
    quoted = json.dumps(value)  # a YAML double-quoted scalar
    text = f"levers: {{{quoted}: 1}}\n" if as_key else f"levers: {{settlement_ease: {quoted}}}\n"
    write(folder, "echo", text)
    message = refusal(folder, "echo", period=(2023, 2035))
    assert len(message) <= len(str(folder)) + 60 + 600, message  # 600: the list of levers
    if len(value) > 60:
        assert value not in message and repr(value) not in message


def test_names_longer_than_the_cap_are_refused(tmp_path):
    name = "a" * 300  # too long for a file name: Path.is_file raised ENAMETOOLONG
    assert refusal(tmp_path, name) == (
        f"scenario='{'a' * 58}…: 300 characters; a scenario name has at most {MAX_NAME_CHARS}"
    )
    write(tmp_path, "child", f"defaults: [{name}]\nlevers: {{}}\n")
    assert refusal(tmp_path, "child").startswith(
        f"{tmp_path / 'child.yaml'}: defaults: scenario='aaa"
    )
    write(tmp_path, "b" * MAX_NAME_CHARS, "levers: {}\n")
    assert load_scenario("b" * MAX_NAME_CHARS, tmp_path).chain == ("b" * MAX_NAME_CHARS,)


def test_what_is_not_a_regular_file_is_refused_without_reading_it(tmp_path):
    (tmp_path / "folder.yaml").mkdir()
    os.mkfifo(tmp_path / "fifo.yaml")
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "nowhere.yaml")
    write(tmp_path, "plain", "levers: {}\n")
    assert available(tmp_path) == ["plain"]
    assert refusal(tmp_path, "folder") == (
        f"{tmp_path / 'folder.yaml'}: a folder; a scenario must be a regular file"
    )
    assert refusal(tmp_path, "gone") == f"{tmp_path / 'gone.yaml'}: no such file"
    # A FIFO with no writer blocks a reader forever: refused in a child, under a timeout.
    code, message = load_in_child(tmp_path, "fifo", seconds=20)
    assert code == 2
    assert message == (
        f"{tmp_path / 'fifo.yaml'}: a FIFO, socket or device; a scenario must be a regular file"
    )


def test_files_over_the_size_cap_are_refused_before_reading(tmp_path):
    assert max(p.stat().st_size for p in project_dir("scenarios").glob("*.yaml")) * 30 < (
        MAX_FILE_BYTES
    )
    with open(tmp_path / "huge.yaml", "wb") as sparse:  # 200 MB that take no disk space
        sparse.truncate(200 * 2**20)
    started = time.monotonic()
    assert refusal(tmp_path, "huge") == (
        f"{tmp_path / 'huge.yaml'}: 209,715,200 bytes; a scenario may have at most 65,536"
    )
    assert time.monotonic() - started < 2
    write(tmp_path, "big", "levers: {}\n" + "#" * MAX_FILE_BYTES)
    assert "bytes; a scenario may have at most 65,536" in refusal(tmp_path, "big")
    write(tmp_path, "fits", "levers: {}\n" + "#" * (MAX_FILE_BYTES - 20))
    assert load_scenario("fits", tmp_path).chain == ("fits",)


@pytest.mark.parametrize(
    ("key", "cap"),
    [
        ("description", MAX_DESCRIPTION_CHARS),
        ("title_zh", MAX_TITLE_CHARS),
        ("title_en", MAX_TITLE_CHARS),
    ],
)
def test_titles_and_descriptions_are_capped(tmp_path, key, cap):
    write(tmp_path, "fits", f"{key}: {'x' * cap}\nlevers: {{}}\n")
    assert getattr(load_scenario("fits", tmp_path), key) == "x" * cap
    write(tmp_path, "bad", f"{key}: {'x' * (cap + 1)}\nlevers: {{}}\n")
    assert refusal(tmp_path).endswith(
        f"{key}='{'x' * 58}…: {cap + 1:,} characters; allowed text of at most {cap:,} characters"
    )
    write(tmp_path, "bad", f"{key}: [1, 2]\nlevers: {{}}\n")
    assert refusal(tmp_path).endswith(
        f"{key}=[1, 2]: not text; allowed text of at most {cap:,} characters"
    )


def test_a_defaults_list_naming_a_parent_many_times_takes_linear_time(tmp_path):
    """Eight levels of forty copies: 40**8 visits if each copy were walked again."""
    write(tmp_path, "l0", "levers: {settlement_ease: 0.5}\n")
    for level in range(1, 9):
        write(tmp_path, f"l{level}", f"defaults: [{', '.join([f'l{level - 1}'] * 40)}]\n")
    code, output = load_in_child(tmp_path, "l8")
    assert (code, output) == (0, " ".join(f"l{level}" for level in range(9)))


def test_defaults_deeper_than_the_cap_are_refused(tmp_path):
    write(tmp_path, "d0", "levers: {settlement_ease: 0.5}\n")
    for level in range(1, 40):
        write(tmp_path, f"d{level}", f"defaults: [d{level - 1}]\n")
    assert len(load_scenario(f"d{MAX_EXTENDS_DEPTH - 1}", tmp_path).chain) == MAX_EXTENDS_DEPTH
    too_deep = f"defaults: scenarios extend scenarios more than {MAX_EXTENDS_DEPTH} levels deep"
    for top in (MAX_EXTENDS_DEPTH, 39):
        assert too_deep in refusal(tmp_path, f"d{top}")
    # Reached again through another parent, the depth is still counted.
    write(tmp_path, "wide", f"defaults: [d3, d{MAX_EXTENDS_DEPTH - 1}]\n")
    assert too_deep in refusal(tmp_path, "wide")


def test_available_survives_a_folder_it_cannot_list(tmp_path):
    assert available(tmp_path / "missing") == []
    assert "unknown scenario; allowed: (none)" in refusal(tmp_path / "missing", "baseline")
    for i in range(30):
        write(tmp_path, f"s{i:02d}", "levers: {}\n")
    assert refusal(tmp_path, "nowhere").endswith("s19, … (10 more)")
