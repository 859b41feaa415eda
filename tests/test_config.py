import dataclasses
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from sim.config import (
    SETTINGS,
    RunSettings,
    Targets2035,
    check_key,
    region_county_area,
    resolve_settings,
    run_targets,
    validate,
)
from sim.data import load_region
from sim.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
START = {"start_year": 2023}  # the context check_key gives by default


@pytest.fixture(scope="module")
def region():
    return load_region()


@pytest.mark.parametrize("key", SETTINGS)
def test_every_default_passes_its_own_check(key):
    check_key(key, SETTINGS[key].default)


def test_the_declared_defaults_are_the_dataclass_defaults():
    defaults = dataclasses.asdict(RunSettings())
    for key, s in SETTINGS.items():
        group, _, name = key.rpartition(".")
        assert (defaults[group][name] if group else defaults[key]) == s.default, key
    assert validate({}).settings == RunSettings()


@pytest.mark.parametrize("key", SETTINGS)
def test_a_value_of_the_wrong_type_is_refused_naming_key_value_and_allowed(key):
    with pytest.raises(ConfigError) as err:
        check_key(key, [[]])
    assert str(err.value) == f"{key}=[[]]: allowed {SETTINGS[key].allowed(START)}"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("scale", 2, "scale=2: allowed [0.0001, 1]"),
        ("scale", 0.0, "scale=0.0: allowed [0.0001, 1]"),
        ("seed", -1, "seed=-1: allowed integer in [0, 9223372036854775807]"),
        ("seed", True, "seed=True: allowed integer in [0, "),
        ("threads", 1025, "threads=1025: allowed integer in [0, 1024] (0 = automatic)"),
        ("backend", "gpu", "backend='gpu': allowed numba or agents"),
        ("steps_per_year", 3, "steps_per_year=3: allowed 1, 2, 4 or 12"),
        ("steps_per_year", 4.0, "steps_per_year=4.0: allowed 1, 2, 4 or 12"),
        ("start_year", 2019, "start_year=2019: allowed 2023"),
        ("end_year", 2051, "end_year=2051: allowed [2023, 2050] (start_year=2023)"),
        ("region", "", "region='': allowed a library region's name"),
        ("county_area", [], "county_area=[]: allowed a non-empty list of the region's"),
        ("county_area", ["anju", "anju"], "county_area=['anju', 'anju']: allowed"),
        ("region", 3, "region=3: allowed a library region's name"),
        ("targets_2035.income_ratio", 0.5, "targets_2035.income_ratio=0.5: allowed [1, 5]"),
        (
            "targets_2035.resident_urbanisation_rate",
            1,
            "targets_2035.resident_urbanisation_rate=1: allowed (0, 1), or null for the region's",
        ),
        ("goal.probability", 0, "goal.probability=0: allowed (0, 1]"),
        ("goal.year", 2030, "goal.year=2030: allowed 2027 or 2035"),
        ("draw_seeds", 17, "draw_seeds=17: allowed integer in [1, 16]"),
    ],
)
def test_an_out_of_range_value_is_refused_in_one_line(key, value, message):
    with pytest.raises(ConfigError) as err:
        check_key(key, value)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


@given(
    key=st.sampled_from(sorted(SETTINGS)),
    value=st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**64), 2**64),
        st.floats(allow_nan=False),
        st.text(max_size=8),
        st.lists(st.sampled_from(["anju", "daying", "", "x"]), max_size=3),
    ),
)
def test_a_value_is_either_allowed_or_refused_naming_key_value_and_allowed(key, value):
    try:
        check_key(key, value)
    except ConfigError as exc:
        assert str(exc) == f"{key}={value!r}: allowed {SETTINGS[key].allowed(START)}"
    else:
        assert value is not None or SETTINGS[key].null


def test_end_year_is_bounded_by_the_run_start_year():
    check_key("end_year", 2023, start_year=2023)
    with pytest.raises(ConfigError, match=re.escape("end_year=2022: allowed [2023, 2050]")):
        validate({"end_year": 2022})


def test_unknown_keys_are_refused_with_the_allowed_ones():
    with pytest.raises(ConfigError, match="unknown key 'colour'; allowed: backend, "):
        validate({"colour": "red"})
    with pytest.raises(ConfigError, match=re.escape("unknown key 'goal.colour'; allowed: ")):
        validate({"goal": {"colour": 1}})


def test_values_are_kept_in_their_declared_types():
    s = validate({"scale": 1, "county_area": ("anju",), "goal": {"penalty": 5}}).settings
    assert s.scale == 1.0 and isinstance(s.scale, float)
    assert s.county_area == ["anju"] and isinstance(s.goal.penalty, float)


def test_conf_config_yaml_holds_the_declared_defaults():
    conf = yaml.safe_load((ROOT / "conf" / "config.yaml").read_text(encoding="utf-8"))
    values = {k: v for k, v in conf.items() if k not in ("defaults", "hydra")}
    top = {k: s.default for k, s in SETTINGS.items() if "." not in k}
    assert values == top


def test_config_names_no_unit_of_a_region():
    source = (ROOT / "sim" / "config.py").read_text(encoding="utf-8")
    assert "COUNTY_KEYS" not in source
    region = load_region()
    for unit in (*region.counties, *region.outside):
        assert unit.key not in source, unit.key


def test_the_county_area_defaults_to_the_region_s_own(region):
    resolved = resolve_settings(RunSettings(), region)
    assert resolved.county_area == list(region_county_area(region))
    assert resolved.county_area == [u.key for u in region.counties[1:]]
    explicit = resolve_settings(RunSettings(county_area=["anju"]), region)
    assert explicit.county_area == ["anju"]
    with pytest.raises(ConfigError, match=r"county_area=\['lhasa'\]: allowed .* chuanshan"):
        resolve_settings(RunSettings(county_area=["lhasa"]), region)


def test_the_county_area_is_the_region_s_marked_counties(region):
    marked = ("anju", "shehong", "pengxi", "daying")
    assert region_county_area(region) == region.county_area_keys == marked
    unmarked = dataclasses.replace(
        region,
        units=tuple(dataclasses.replace(u, county_area=False) for u in region.units),
    )
    assert region_county_area(unmarked) == region.county_keys[1:]  # all but the central city


def test_the_2035_thresholds_come_from_the_region_s_targets_csv(region):
    later = {(t.unit, t.indicator): t.value for t in region.targets if t.year == 2035}
    resolved = resolve_settings(RunSettings(), region).targets_2035
    assert resolved == Targets2035(
        resident_urbanisation_rate=later[("city", "resident_urbanisation_rate")],
        county_area_urbanisation=later[("county_area", "resident_urbanisation_rate")],
        income_ratio=later[("city", "income_ratio")],
    )
    assert run_targets(region, Targets2035()) == region.targets
    # Editing the file changes the run's thresholds; an explicit setting still wins.
    edited = dataclasses.replace(
        region,
        targets=tuple(
            dataclasses.replace(t, value=1.7)
            if (t.indicator, t.year) == ("income_ratio", 2035)
            else t
            for t in region.targets
        ),
    )
    assert resolve_settings(RunSettings(), edited).targets_2035.income_ratio == 1.7
    mine = RunSettings(targets_2035=Targets2035(income_ratio=1.9))
    assert resolve_settings(mine, edited).targets_2035.income_ratio == 1.9
    ratio = [t for t in run_targets(edited, mine.targets_2035) if t.indicator == "income_ratio"]
    assert [t.value for t in ratio if t.year == 2035] == [1.9]
