import csv
import io
import math
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.data import (
    CALIBRATION_FILES,
    DATA_FILES,
    DEFAULT_DATA_DIR,
    REPLICATION_FILE,
    RegionData,
    data_hash,
    load_region,
)
from sim.data.consistency import COUNTY_SUM_TOLERANCE
from sim.data.required import (
    PER_DESTINATION,
    REGION_PARAMETERS,
    REQUIRED_TARGETS,
    required_figures,
    required_parameters,
)
from sim.data.schema import FRACTION, TABLES, measure_of
from sim.errors import ECHO_CHARS, DataError


def test_default_data_loads_with_sources(region):
    assert [u.key for u in region.counties] == ["chuanshan", "anju", "shehong", "pengxi", "daying"]
    assert region.value("city", "resident_population", 2023) == 2748000
    assert region.value("city", "resident_urbanisation_rate", 2023) == pytest.approx(0.5978)
    # Every figure says where it comes from.
    assert all(f.source for f in region.figures.values())
    assert all(spec.source for spec in region.parameters.values())
    # County figures add up to the city's.
    for indicator in ("registered_population", "resident_population"):
        total = sum(region.value(u.key, indicator, 2023) for u in region.counties)
        assert total == pytest.approx(region.value("city", indicator, 2023), abs=1)


def test_targets_of_the_decision(region):
    targets = {(t.unit, t.indicator, t.year): t for t in region.targets}
    assert targets[("city", "resident_urbanisation_rate", 2027)].value == 0.63
    assert targets[("county_area", "resident_urbanisation_rate", 2027)].value == 0.485
    assert targets[("city", "income_ratio", 2027)].value == 1.94
    assert targets[("city", "income_ratio", 2027)].clause == "(十三)"


def test_missing_file_is_named(data_copy):
    (data_copy / "facts.csv").unlink()
    with pytest.raises(DataError, match=r"facts\.csv: missing"):
        load_region(data_copy)


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("facts.csv", "2748000", "lots", r"facts\.csv line \d+: column 'value' value 'lots'"),
        (
            "assumptions.csv",
            ",assumption,",
            ",guess,",
            r"column 'basis' value 'guess' is not one of assumption, calibrated, computed",
        ),
        (
            "parameters.csv",
            "beta_distance,0.26,",
            "beta_distance,9.26,",
            r"parameter beta_distance=9.26 outside its range \[0, 5\]",
        ),
        (
            "units.csv",
            "105.57,30.52,,yes,no,yes",
            "105.57,30.52,,no,no,yes",
            r"the first county, chuanshan, must be the central city",
        ),
        ("units.csv", "105.45,30.35,chuanshan,no", "105.45,30.35,chuanshan,yes", r"second central"),
        ("units.csv", "anju,county", "county_area,county", r"unit key county_area is reserved"),
        ("age_structure.csv", "0,4,0.0483", "0,4,0.9483", r"shares add to"),
    ],
)
def test_malformed_files_give_one_line_errors(data_copy, name, old, new, message):
    path = data_copy / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DataError, match=message) as info:
        load_region(data_copy)
    assert "\n" not in str(info.value)


def test_data_hash_tracks_content(data_copy):
    before = data_hash(data_copy)
    path = data_copy / "facts.csv"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert data_hash(data_copy) != before


# --- impossible data -----------------------------------------------------------------


def damage(folder, name, old, new):
    """Replace the first ``old`` in a data file by ``new``; with ``old=None`` append ``new``."""
    path = folder / name
    text = path.read_text(encoding="utf-8")
    if old is None:
        text += new + "\n"
    else:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")


def last_line_of(folder, name, fragment):
    """The (1-based) number of the last line of a data file that contains ``fragment``."""
    lines = (folder / name).read_text(encoding="utf-8").splitlines()
    found = [n for n, line in enumerate(lines, start=1) if fragment in line]
    assert found, fragment
    return found[-1]


def assert_refused(folder, name, old, new, expected):
    """Damage ``name`` and check the load fails in one line naming the file and ``expected``."""
    damage(folder, name, old, new)
    message = one_line_error(folder)
    assert f"{name} line" in message or f"{name}:" in message, message
    for text in expected:
        assert text in message, message


def one_line_error(folder):
    with pytest.raises(DataError) as info:
        load_region(folder)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message
    return message


FACTS_ROW_2 = (
    '"《2023年遂宁市国民经济和社会发展统计公报》 as quoted by '
    'hbzqbyyxgs.com/news/702960.html",274.8万'
)

# (file, old text, new text or appended row, file and fragment of the line the message
# names, fragments the message must hold: the column and value, and what is allowed)
IMPOSSIBLE = [
    pytest.param(
        "facts.csv",
        "city,resident_urbanisation_rate,2023,0.5978",
        "city,resident_urbanisation_rate,2023,1.5",
        ("facts.csv", "city,resident_urbanisation_rate,2023"),
        ["column 'value' value '1.5'", "outside [0, 1]"],
        id="rate_1.5",
    ),
    pytest.param(
        "assumptions.csv",
        "anju,resident_urbanisation_rate,2023,0.3877",
        "anju,resident_urbanisation_rate,2023,-0.3",
        ("assumptions.csv", "anju,resident_urbanisation_rate,2023"),
        ["column 'value' value '-0.3'", "outside [0, 1]"],
        id="rate_-0.3",
    ),
    pytest.param(
        "facts.csv",
        "anju,resident_population,2023,414690",
        "anju,resident_population,2023,-414690",
        ("facts.csv", "anju,resident_population,2023"),
        ["column 'value' value '-414690'", "outside [0, 35,000,000]"],
        id="negative_residents",
    ),
    pytest.param(
        "facts.csv",
        "city,resident_population,2023,2748000",
        "city,resident_population,2023,1e12",
        ("facts.csv", "city,resident_population,2023"),
        ["column 'value' value '1e12'", "outside [0, 35,000,000]", "35 million"],
        id="1e12_persons",
    ),
    pytest.param(
        "facts.csv",
        "2.63,persons per household",
        "2.63,people per home",
        ("facts.csv", "registered_household_size"),
        ["column 'unit_of_measure' value 'people per home'", "allowed: fraction, persons,"],
        id="unknown_unit_of_measure",
    ),
    pytest.param(
        "facts.csv",
        "2748000,persons",
        "2748000,fraction",
        ("facts.csv", "city,resident_population,2023"),
        ["column 'unit_of_measure' value 'fraction'", "allowed: persons"],
        id="unit_of_measure_that_does_not_suit",
    ),
    pytest.param(
        "facts.csv",
        "city,urban_resident_population,2023,1642800",
        "city,urban_resident_population,2023,3000000",
        ("facts.csv", "city,urban_resident_population,2023"),
        ["3,000,000, more than its resident_population 2,748,000", "allowed: at most"],
        id="urban_above_residents",
    ),
    pytest.param(
        "facts.csv",
        "city,urban_resident_population,2023,1642800",
        "city,urban_resident_population,2023,1662800",
        ("facts.csv", "city,resident_urbanisation_rate,2023"),
        ["urban residents / residents give 0.6051", "allowed difference 0.0005"],
        id="urban_residents_disagree_with_rate",
    ),
    pytest.param(
        "facts.csv",
        "daying,resident_population,2023,372390",
        "daying,resident_population,2023,402390",
        ("facts.csv", "city,resident_population,2023"),
        ["resident_population in 2023 add to 2,778,000", "allowed difference 0.5%"],
        id="county_residents_off_by_1.1%",
    ),
    pytest.param(
        "facts.csv",
        "daying,registered_population,2023,509300",
        "daying,registered_population,2023,409300",
        ("facts.csv", "city,registered_population,2023"),
        ["registered_population in 2023 add to 3,431,200", "allowed difference 0.5%"],
        id="county_registered_off_by_2.8%",
    ),
    pytest.param(
        "assumptions.csv",
        "daying,resident_urbanisation_rate,2023,0.4697",
        "daying,resident_urbanisation_rate,2023,0.5697",
        ("facts.csv", "city,resident_urbanisation_rate,2023"),
        ["give 1,679,974 urban persons, the city's figures 1,642,754", "difference 0.2%"],
        id="county_urban_residents_off",
    ),
    pytest.param(
        "assumptions.csv",
        "daying,external_resident_share,2023,0.08",
        "daying,external_resident_share,2023,0.18",
        ("assumptions.csv", "chuanshan,external_resident_share,2023"),
        ["external_resident_share of chuanshan", "add to 1.1000; allowed 0.98-1.02"],
        id="shares_add_to_1.1",
    ),
    pytest.param(
        "facts.csv",
        FACTS_ROW_2,
        FACTS_ROW_2.replace('",274.8万', ",274.8万"),
        ("facts.csv", "city,resident_population,2023"),
        ["a quoted field runs past the end of the line (unclosed quote?)"],
        id="unclosed_quote_swallows_rows",
    ),
    pytest.param(
        "targets.csv",
        None,
        "city,income_ratio",
        ("targets.csv", "city,income_ratio"),
        ["fewer fields than columns (2 fields, the header has 8 columns)"],
        id="short_row",
    ),
    pytest.param(
        "facts.csv",
        "2748000",
        "nan",
        ("facts.csv", "city,resident_population,2023"),
        ["column 'value' value 'nan' is not finite"],
        id="nan",
    ),
    pytest.param(
        "facts.csv",
        None,
        "city,resident_population,2023,2748000,persons,sourced,communiqué,",
        ("facts.csv", "city,resident_population,2023,2748000,persons,sourced,communiqué,"),
        ["figure city/resident_population/2023 is given twice (first in facts.csv line 2)"],
        id="duplicate_figure",
    ),
    pytest.param(
        "assumptions.csv",
        None,
        "city,resident_population,2023,2748000,persons,assumption,a guess,",
        ("assumptions.csv", "city,resident_population,2023"),
        ["is given twice (first in facts.csv line 2)", "allowed: one row per unit"],
        id="duplicate_figure_across_files",
    ),
    pytest.param(
        "parameters.csv",
        None,
        "beta_distance,0.3,utility per log km,0,5,assumption,a guess,a description",
        ("parameters.csv", "beta_distance,0.3,"),
        ["beta_distance is given twice (first on line", "allowed: one row per name"],
        id="duplicate_parameter",
    ),
    pytest.param(
        "targets.csv",
        None,
        "city,income_ratio,2027,1.9,at_most,(十三),assumption,a guess",
        ("targets.csv", "city,income_ratio,2027,1.9,"),
        ["city/income_ratio/2027 is given twice (first on line 4)", "allowed: one row per"],
        id="duplicate_target",
    ),
    pytest.param(
        "history.csv",
        None,
        "city,income_ratio,2015,2.2,sourced,,a source",
        ("history.csv", "city,income_ratio,2015,2.2,"),
        ["city/income_ratio/2015 is given twice (first on line", "allowed: one row per"],
        id="duplicate_history_row",
    ),
    pytest.param(
        "units.csv",
        "daying,county",
        "anju,county",
        ("units.csv", "Daying County"),
        ["anju is given twice (first on line 4)", "allowed: one row per key"],
        id="duplicate_unit",
    ),
    pytest.param(
        "targets.csv",
        "city,resident_urbanisation_rate,2027,0.63",
        "city,resident_urbanisation_rate,2027,63",
        ("targets.csv", "city,resident_urbanisation_rate,2027"),
        ["column 'value' value '63'", "outside [0, 1]"],
        id="target_in_percent",
    ),
    pytest.param(
        "history.csv",
        "city,income_ratio,2015,2.198",
        "city,income_ratio,2015,0.5",
        ("history.csv", "city,income_ratio,2015"),
        ["column 'value' value '0.5'", "outside [1, 10]"],
        id="history_income_ratio_below_1",
    ),
    pytest.param(
        "history.csv",
        "city,resident_population,2015",
        "city,resident_population,1850",
        ("history.csv", "city,resident_population,1850"),
        ["column 'year' value '1850'", "outside [1949, 2100]"],
        id="year_before_1949",
    ),
    pytest.param(
        "facts.csv",
        "city,resident_population,2023",
        "cty,resident_population,2023",
        ("facts.csv", "cty,resident_population,2023"),
        ["column 'unit' value 'cty'", "is not one of city, chuanshan"],
        id="unknown_unit",
    ),
    pytest.param(
        "parameters.csv",
        "beta_distance,0.26,utility per log km,0,5",
        "beta_distance,0.26,utility per log km,6,5",
        ("parameters.csv", "beta_distance,"),
        ["column 'max' value '5'", "allowed: max >= min"],
        id="min_above_max",
    ),
    pytest.param(
        "units.csv",
        "105.57,30.52",
        "205.57,30.52",
        ("units.csv", "chuanshan,county"),
        ["column 'lon' value '205.57'", "outside [73, 136]"],
        id="longitude_outside_china",
    ),
    pytest.param(
        "age_structure.csv",
        "5,9,0.0564",
        "6,9,0.0564",
        ("age_structure.csv", "6,9,0.0564"),
        ["column 'age_from' value '6'", "allowed: 5"],
        id="gap_in_age_bands",
    ),
    pytest.param(
        "units.csv",
        "30.35,chuanshan,",
        "30.35,wuhan,",
        ("units.csv", "30.35,wuhan,"),
        ["seat_labour_market 'wuhan' must be another county's key"],
        id="seat_market_of_an_unknown_county",
    ),
    pytest.param(
        "units.csv",
        "105.57,30.52,,",
        "105.57,30.52,anju,",
        ("units.csv", "105.57,30.52,anju,"),
        ["seat_labour_market anju itself joins chuanshan"],
        id="seat_markets_joined_in_a_chain",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "at", "expected"), IMPOSSIBLE)
def test_impossible_data_is_refused_in_one_line(data_copy, name, old, new, at, expected):
    damage(data_copy, name, old, new)
    message = one_line_error(data_copy)
    at_file, fragment = at
    assert f"{at_file} line {last_line_of(data_copy, at_file, fragment)}:" in message, message
    for text in expected:
        assert text in message, message


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("city,land_rent,", "no figure for city/land_rent/2023"),
        ("other_provinces,distance_km,", "other_provinces has no lon/lat"),
    ],
)
def test_a_missing_required_figure_fails_at_load(data_copy, row, expected):
    path = data_copy / "assumptions.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(x for x in lines if not x.startswith(row)), encoding="utf-8")
    message = one_line_error(data_copy)
    assert expected in message and "facts.csv" in message
    assert "needs a row" in message or "must give its distance_km" in message


def header_only(folder, name):
    path = folder / name
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")


def test_header_only_parameters_names_the_missing_parameters(data_copy):
    header_only(data_copy, "parameters.csv")
    message = one_line_error(data_copy)
    assert "parameters.csv: missing parameter(s) mortality_a_male, mortality_a_female" in message
    assert f"and {len(required_parameters(load_region().outside_keys)) - 6} more" in message
    assert "each needs a row" in message


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("units.csv", "no unit of kind county"),
        ("facts.csv", "no figure for anju/registered_population/2023"),
        ("assumptions.csv", "no figure for anju/external_resident_share/2023"),
        ("age_structure.csv", "no rows after the header"),
        ("targets.csv", "no target for city/resident_urbanisation_rate/2027"),
        ("history.csv", "no rows after the header"),
    ],
)
def test_header_only_files_fail_in_one_line(data_copy, name, expected):
    header_only(data_copy, name)
    message = one_line_error(data_copy)
    assert name in message and expected in message


def test_empty_file_asks_for_a_header(data_copy):
    (data_copy / "targets.csv").write_text("", encoding="utf-8")
    message = one_line_error(data_copy)
    assert "targets.csv: empty; expected a header row: unit, indicator, year, value" in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("unit,indicator,year,value", "unit,indicator,year,value,value", "'value' given twice"),
        ("direction,clause", "direction,kind,clause", "unknown column(s) 'kind'; allowed: unit"),
    ],
)
def test_bad_headers_fail_in_one_line(data_copy, old, new, expected):
    damage(data_copy, "targets.csv", old, new)
    message = one_line_error(data_copy)
    assert "targets.csv line 1:" in message and expected in message


def _without_provenance_of_bytes(region):
    return region.figures, region.parameters, region.targets, region.history, region.units


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda b: b"\xef\xbb\xbf" + b, id="byte_order_mark"),
        pytest.param(lambda b: b + b"\n\n\n", id="trailing_blank_lines"),
        pytest.param(lambda b: b.replace(b"\n", b"\r\n"), id="windows_line_ends"),
    ],
)
def test_harmless_variations_load_the_same_region(data_copy, region, change):
    for name in DATA_FILES:
        path = data_copy / name
        path.write_bytes(change(path.read_bytes()))
    changed = load_region(data_copy)
    assert _without_provenance_of_bytes(changed) == _without_provenance_of_bytes(region)


def test_not_utf8_is_named(data_copy):
    path = data_copy / "facts.csv"
    path.write_bytes(path.read_bytes() + "x,é\n".encode("latin-1"))
    assert "facts.csv: not UTF-8 text" in one_line_error(data_copy)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("2748000", "9" * 5000),
        ("unit,indicator", "unit," + "A" * 5000 + ",indicator"),
    ],
)
def test_echoed_file_content_is_cut_short(data_copy, old, new):
    damage(data_copy, "facts.csv", old, new)
    message = one_line_error(data_copy)
    assert "facts.csv" in message and "…" in message
    assert re.search(f"(9|A){{{ECHO_CHARS}}}", message) is None
    assert len(message) < len(str(data_copy)) + 300


def test_the_shipped_data_passes_every_check(region):
    assert set(region.figures) >= required_figures(region.county_keys, region.outside_keys)
    assert set(required_parameters(region.outside_keys)) <= set(region.parameters)
    assert set(REQUIRED_TARGETS) <= {(t.unit, t.indicator, t.year) for t in region.targets}
    assert all(measure_of(f.unit_of_measure) is not None for f in region.figures.values())
    assert set(TABLES) == set(DATA_FILES) | set(CALIBRATION_FILES) | {REPLICATION_FILE}
    city = region.value("city", "resident_population", 2023)
    counties = sum(region.value(u.key, "resident_population", 2023) for u in region.counties)
    assert abs(counties - city) <= COUNTY_SUM_TOLERANCE * city


def test_the_model_reads_only_figures_and_parameters_the_data_layer_requires(region, monkeypatch):
    from sim.model import RongheModel, RunSpec
    from sim.params import Params, resolve_params
    from sim.paths import project_dir
    from sim.population import synthesize
    from sim.scenario import load_scenario
    from sim.world import build_world

    figures, parameters = set(), set()
    value, getattr_ = RegionData.value, Params.__getattr__

    def recorded_value(self, unit, indicator, year=""):
        figures.add((unit, indicator, str(year)))
        return value(self, unit, indicator, year)

    def recorded_getattr(self, name):
        parameters.add(name)
        return getattr_(self, name)

    monkeypatch.setattr(RegionData, "value", recorded_value)
    monkeypatch.setattr(Params, "__getattr__", recorded_getattr)
    # The package moves every lever, so the model takes every branch that reads data.
    plan = load_scenario("decision_package", project_dir("scenarios")).plan
    world = build_world(region)
    params = resolve_params(region)
    population = synthesize(region, world, params, 0.001, 1)
    spec = RunSpec(
        seed=1,
        scale=0.001,
        backend="agents",
        end_year=2025,
        steps_per_year=4,
        check_invariants=False,
    )
    RongheModel(region, world, params, population, spec, plan.policy_at).run()
    distances = {(u.key, "distance_km", "") for u in region.outside if u.lon is None}
    assert figures and figures <= required_figures(region.county_keys, region.outside_keys) | (
        distances
    )
    assert parameters and parameters <= set(required_parameters(region.outside_keys))
    # And no requirement is stale: each required parameter is named in the model's code,
    # the per-destination ones as f"PREFIX_{key}".
    sim = Path(__file__).resolve().parent.parent / "sim"
    code = "".join(p.read_text(encoding="utf-8") for p in sim.glob("*.py"))
    for name in REGION_PARAMETERS:
        assert name in code, name
    for prefix in PER_DESTINATION:
        assert f'f"{prefix}_{{' in code, prefix


def _rows(name):
    text = (DEFAULT_DATA_DIR / name).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def _write(folder, name, header, rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    (folder / name).write_text(out.getvalue(), encoding="utf-8")


def _fresh_copy(parent):
    folder = Path(tempfile.mkdtemp(dir=parent))
    for name in DATA_FILES:
        shutil.copy(DEFAULT_DATA_DIR / name, folder / name)
    return folder


FRACTION_ROWS = [
    (name, index)
    for name in ("facts.csv", "assumptions.csv")
    for index, row in enumerate(_rows(name)[1])
    if measure_of(row[4]) is FRACTION
]
OUTSIDE_0_1 = st.one_of(
    st.floats(max_value=-math.ulp(0.0), allow_infinity=False),  # the least negative float
    st.floats(min_value=math.nextafter(1.0, 2.0), allow_infinity=False),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=st.sampled_from(FRACTION_ROWS), value=OUTSIDE_0_1)
def test_any_fraction_outside_0_1_is_refused(tmp_path_factory, where, value):
    name, index = where
    folder = _fresh_copy(tmp_path_factory.getbasetemp())
    header, rows = _rows(name)
    rows[index][3] = repr(value)
    _write(folder, name, header, rows)
    message = one_line_error(folder)
    assert f"{name} line {index + 2}: column 'value' value" in message
    assert "outside [0, 1]" in message


PERMUTED = ("facts.csv", "assumptions.csv", "parameters.csv", "targets.csv", "history.csv")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_order_of_rows_loads_the_same_region(tmp_path_factory, region, data):
    folder = _fresh_copy(tmp_path_factory.getbasetemp())
    for name in PERMUTED:
        header, rows = _rows(name)
        _write(folder, name, header, data.draw(st.permutations(rows), label=name))
    shuffled = load_region(folder)
    assert shuffled.figures == region.figures
    assert shuffled.parameters == region.parameters
    assert set(shuffled.targets) == set(region.targets)
    key = lambda h: (h["unit"], h["indicator"], h["year"])  # noqa: E731
    assert sorted(shuffled.history, key=key) == sorted(region.history, key=key)


def test_a_run_on_impossible_data_exits_2_with_one_line(data_copy, tmp_path):
    damage(
        data_copy,
        "facts.csv",
        "city,resident_urbanisation_rate,2023,0.5978",
        "city,resident_urbanisation_rate,2023,1.5",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "run",
            f"hydra.run.dir={tmp_path / 'r'}",
            f"region={data_copy}",
            "progress=off",
            "end_year=2024",
            "scale=0.001",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ronghe: error: data file ")
    assert "facts.csv line 4: column 'value' value '1.5' is outside [0, 1]" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "land_rights_security,land_guard_cost,0.18,,0.75,",
            "land_rights_security,land_guard_cost,0.18,0.4,0.75,",
            ["central=0.4 for land_guard_cost", "leave central blank (one place per value)"],
            id="central_duplicates_parameters_csv",
        ),
        pytest.param(
            "land_rights_security,land_guard_cost,0.18,,0.75,",
            "land_rights_security,land_guard_cost,0.5,,0.75,",
            ["land_guard_cost=0.4 (parameters.csv)", "outside the interval [0.5, 0.75]"],
            id="model_value_outside_interval",
        ),
        pytest.param(
            "work_relief,work_relief_labour_share,0.2,,0.4,",
            "work_relief,relief_days_per_year,0.2,0.7,0.4,",
            ["column 'central'", "outside the interval [0.2, 0.4]"],
            id="stated_central_outside_interval",
        ),
        pytest.param(
            "work_relief,work_relief_labour_share,0.2,,0.4,",
            "work_relief,relief_days_per_year,0.2,,0.4,",
            ["'relief_days_per_year' is neither in parameters.csv nor 'default'"],
            id="central_missing_for_a_value_held_elsewhere",
        ),
        pytest.param(
            "small_cities,small_city_utility,0.2,,0.8,",
            "small_cities,small_city_utility,0.9,,0.8,",
            ["column 'high' value '0.8'", "allowed: high >= low"],
            id="high_below_low",
        ),
    ],
)
def test_lever_evidence_keeps_one_value_in_one_place(data_copy, old, new, expected):
    assert_refused(data_copy, "lever_evidence.csv", old, new, expected)


# --- the calibration's files: observations.csv and priors.csv ---------------------------


def test_the_calibration_files_are_optional_and_hashed_apart(data_copy, calibration_copy):
    """A region without them loads (it cannot be calibrated); editing them leaves the
    model's data hash, which stored runs record, unchanged."""
    region = load_region(calibration_copy)
    assert region.observations and region.priors
    before = (region.data_hash, region.calibration_hash)
    damage(calibration_copy, "observations.csv", "0.0025,0.0025", "0.0025,0.003")
    after = load_region(calibration_copy)
    assert after.data_hash == before[0] and after.calibration_hash != before[1]
    for name in CALIBRATION_FILES:
        (calibration_copy / name).unlink()
    bare = load_region(calibration_copy)
    assert bare.observations == () and bare.priors == {}


OBSERVATION_ROW = "resident_population_growth_2021_2023,city,resident_population,growth,,2021,2023,"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            OBSERVATION_ROW,
            "resident_population_growth_2021_2023,city,resident_population,growth,,,2023,",
            ["column 'year_from'", "must be a year before 2023 for a growth"],
            id="growth_without_its_first_year",
        ),
        pytest.param(
            "resident_population_2015,city,resident_population,level,,,2015,3290000,30000,0,"
            "pre_census,context",
            "resident_population_2015,city,resident_population,level,,,2015,3290000,30000,0,"
            "pre_census,fit",
            ["column 'use'", "pre-census level, revised by the 2020 census"],
            id="pre_census_level_fitted",
        ),
        pytest.param(
            "-0.1175,0.01,0,across_break,context",
            "-0.1175,0.01,0,across_break,holdout",
            ["column 'use'", "across_break", "allowed use: context"],
            id="change_across_the_census_break_held_out",
        ),
        pytest.param(
            OBSERVATION_ROW + "-0.006129,0.0025",
            OBSERVATION_ROW + "-0.6129,0.0025",
            ["column 'value'", "neither halves nor doubles"],
            id="misplaced_digit_in_a_growth",
        ),
        pytest.param(
            OBSERVATION_ROW + "-0.006129,0.0025",
            OBSERVATION_ROW + "-0.006129,0",
            ["column 'sd_obs' value '0'", "a standard deviation"],
            id="an_observation_without_error",
        ),
        pytest.param(
            "urban_wage_income_per_capita,share,urban_income_per_capita,",
            "urban_wage_income_per_capita,share,,",
            ["column 'of'", "names the total of a share, and only of a share"],
            id="share_without_its_total",
        ),
        pytest.param(
            "growth,,2021,2023",
            "growth,urban_income_per_capita,2021,2023",
            ["column 'of'", "names the total of a share, and only of a share"],
            id="total_of_a_growth",
        ),
        pytest.param(
            "post_census,fit,derived",
            "post_census,fitted,derived",
            ["column 'use' value 'fitted'", "is not one of context, fit, holdout, input"],
            id="unknown_use",
        ),
    ],
)
def test_broken_observations_fail_in_one_line(calibration_copy, old, new, expected):
    assert_refused(calibration_copy, "observations.csv", old, new, expected)


def test_a_region_is_named_or_a_folder(tmp_path):
    from sim.data import REGIONS_DIR, library_regions, region_folder

    assert region_folder("suining") == REGIONS_DIR / "suining" == region_folder(None)
    assert region_folder(str(tmp_path)) == tmp_path
    assert "suining" in library_regions()
    assert load_region("suining").data_hash == load_region().data_hash
    with pytest.raises(DataError, match="neither a library region"):
        load_region("atlantis")


def test_replication_treatments_name_the_regions_counties(data_copy):
    path = data_copy / "replications.csv"
    shutil.copy(DEFAULT_DATA_DIR / "replications.csv", path)
    path.write_text(path.read_text().replace("anju pengxi", "anju lhasa"), encoding="utf-8")
    message = one_line_error(data_copy)
    assert "replications.csv line 2" in message and "the region's counties" in message
    everyone = " ".join(load_region().county_keys)
    path.write_text(path.read_text().replace("anju lhasa", everyone), encoding="utf-8")
    assert "leaves no control county" in one_line_error(data_copy)
