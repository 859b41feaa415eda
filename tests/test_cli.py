import json
import os
import shutil
import sys

import pandas as pd
import pytest
from conftest import ronghe, ronghe_here

from sim.data import DATA_FILES, DEFAULT_DATA_DIR


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "r"
    result = ronghe_here("run", "scale=0.002", "seed=4", "end_year=2028", f"hydra.run.dir={out}")
    assert result.returncode == 0, result.stderr
    return out, result


def test_run_writes_results_and_prints_2027_targets(run_dir):
    out, result = run_dir
    for name in ("indicators.parquet", "config.yaml", "provenance.json", "population_fit.csv"):
        assert (out / name).is_file(), name
    assert not list(out.glob(".staging-*"))
    assert "2027 target indicators" in result.stdout
    for label in ("常住人口城镇化率", "县域城镇化率", "城乡居民收入比", "63.0%", "48.5%", "1.94"):
        assert label in result.stdout
    # Progress bars stay quiet when stderr is not a terminal.
    assert "step/s" not in result.stderr and "it/s" not in result.stderr


def test_indicator_table_contract(run_dir):
    out, _ = run_dir
    table = pd.read_parquet(out / "indicators.parquet")
    assert list(table.columns) == ["year", "unit", "indicator", "value", "scenario", "seed"]
    assert set(table.unit) == {
        "city",
        "county_area",
        "chuanshan",
        "anju",
        "shehong",
        "pengxi",
        "daying",
    }
    needed = {
        "resident_population",
        "urban_resident_population",
        "resident_urbanisation_rate",
        "registered_population",
        "registered_urbanisation_rate",
        "urban_income_per_capita",
        "rural_income_per_capita",
        "income_ratio",
        "citizenisation",
        "land_transfer_rate",
        "rural_share_aged_60_plus",
    }
    assert needed <= set(table.indicator)
    assert set(table.year) == set(range(2023, 2029))
    assert (table.scenario == "baseline").all() and (table.seed == 4).all()
    v = table.set_index(["year", "unit", "indicator"]).value
    # Counts are real persons whatever the scale; rates are fractions.
    assert v[(2023, "city", "resident_population")] == pytest.approx(2.748e6, rel=0.01)
    assert 0 < v[(2027, "county_area", "resident_urbanisation_rate")] < 1


def test_provenance(run_dir):
    out, _ = run_dir
    prov = json.loads((out / "provenance.json").read_text())
    for key in (
        "version",
        "git_commit",
        "data_hash",
        "config_hash",
        "seed",
        "backend",
        "scale",
        "wall_time_s",
        "peak_memory_mb",
    ):
        assert key in prov
    assert prov["seed"] == 4 and prov["backend"] == "numba" and prov["scale"] == 0.002
    assert len(prov["data_hash"]) == 64 and prov["peak_memory_mb"] > 0


def test_multirun_sweep(tmp_path):
    sweep = tmp_path / "sweep"
    result = ronghe_here(
        "run", "-m", "seed=1,2", "scale=0.0005", "end_year=2024", f"hydra.sweep.dir={sweep}"
    )
    assert result.returncode == 0, result.stderr
    runs = sorted(p for p in sweep.iterdir() if (p / "indicators.parquet").exists())
    assert len(runs) == 2
    seeds = {int(pd.read_parquet(r / "indicators.parquet").seed.iloc[0]) for r in runs}
    assert seeds == {1, 2}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["colour=red"], "unknown override key 'colour'"),
        (["scale=0"], "scale=0: allowed [0.0001, 1]"),
        (["scale=1e-5"], "scale=1e-05: allowed [0.0001, 1]"),  # issue 10.8: was a traceback
        (["scale=-1"], "scale=-1: allowed [0.0001, 1]"),
        (["end_year=2020"], "end_year=2020: allowed [2023, 2050]"),
        (["start_year=2019"], "start_year=2019: allowed 2023"),
        (["scenario=utopia"], "scenario='utopia': unknown scenario; allowed: baseline, "),
        (["backend=gpu"], "backend='gpu': allowed numba or agents"),
        (["params.beta_income=99"], "params.beta_income=99: outside the allowed range"),
        (["levers.free_lunch=1"], "command line: levers.free_lunch: unknown lever"),
        (["scenarios_dir=/no/such/folder"], "scenarios_dir='/no/such/folder': not a folder"),
        (
            ["levers.settlement_ease=2"],
            "levers.settlement_ease=2: outside the allowed range [0, 1]",
        ),
        (["-m", "levers.park_investment=0,0.5"], "levers.park_investment=0.5: outside"),
        (
            ["levers.park_investment={lhasa:0.01}"],
            "levers.park_investment.lhasa: unknown county",
        ),
        (
            ["levers.settlement_ease={step:2040,to:1}"],
            "levers.settlement_ease.step=2040: year outside the simulated period; allowed "
            "[2023, 2035]",
        ),
        (
            ["scenario=decision_package", "end_year=2025"],
            "services_roads.yaml: levers.rural_roads.chuanshan.per_year=2027: year outside "
            "the simulated period; allowed [2023, 2025]",
        ),
        (["-m", "seed=1,-5"], "seed=-5: allowed integer"),
    ],
)
def test_bad_overrides_fail_in_one_line_before_any_run(tmp_path, args, message):
    out = tmp_path / "never"
    result = ronghe_here("run", *args, f"hydra.run.dir={out}", f"hydra.sweep.dir={out}")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert not out.exists()


@pytest.mark.parametrize("damage", ["missing", "malformed"])
def test_bad_data_file_fails_cleanly(tmp_path, damage):
    data = tmp_path / "data"
    data.mkdir()
    for name in DATA_FILES:
        shutil.copy(DEFAULT_DATA_DIR / name, data / name)
    if damage == "missing":
        (data / "assumptions.csv").unlink()
    else:
        text = (data / "facts.csv").read_text(encoding="utf-8")
        (data / "facts.csv").write_text(text.replace("2748000", "2,748,000", 1), encoding="utf-8")
    out = tmp_path / "run"
    result = ronghe_here(
        "run", f"region={data}", "scale=0.0005", "end_year=2024", f"hydra.run.dir={out}"
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "data file" in lines[0], result.stderr
    assert not out.exists()


BAD_SCENARIOS = {
    "unknown_lever": ("levers: {free_lunch: 1}\n", "levers.free_lunch: unknown lever"),
    "unknown_county": (
        "levers: {park_investment: {lhasa: 0.01}}\n",
        "levers.park_investment.lhasa: unknown county; allowed: chuanshan",
    ),
    "out_of_range": (
        "levers: {work_relief: 0.9}\n",
        "levers.work_relief=0.9: outside the allowed range [0, 0.2]",
    ),
    "late_year": (
        "levers: {work_relief: {per_year: {2031: 0.05}}}\n",
        "levers.work_relief.per_year=2031: year outside the simulated period; allowed [2023, 2030]",
    ),
    "malformed": ("levers: {work_relief: [0.1\n", "malformed YAML"),
    "target": ("levers:\n  _target_: os.system\n", "key 'levers._target_' is not allowed"),
    "resolver": (
        "levers: {work_relief: '${oc.env:HOME}'}\n",
        "levers.work_relief='${oc.env:HOME}': calls a resolver",
    ),
}


@pytest.mark.parametrize("case", BAD_SCENARIOS)
def test_bad_scenario_files_fail_in_one_line_before_any_run(tmp_path, case):
    text, message = BAD_SCENARIOS[case]
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / f"{case}.yaml").write_text(text, encoding="utf-8")
    out = tmp_path / "never"
    result = ronghe_here(
        "run",
        f"scenarios_dir={folder}",
        f"scenario={case}",
        "end_year=2030",
        f"hydra.run.dir={out}",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and f"{case}.yaml" in lines[0], result.stderr
    assert not out.exists()


def test_every_scenario_runs_and_records_its_levers(tmp_path):
    sweep = tmp_path / "sweep"
    names = "baseline,stalled,hukou_services,land_reform,county_industry,services_roads,"
    result = ronghe_here(
        "run",
        "-m",
        f"scenario={names}decision_package",
        "scale=0.0005",
        "end_year=2027",
        "levers.work_relief=0.05",
        f"hydra.sweep.dir={sweep}",
    )
    assert result.returncode == 0, result.stderr
    runs = sorted(p for p in sweep.iterdir() if (p / "indicators.parquet").exists())
    assert len(runs) == 7
    for run in runs:
        prov = json.loads((run / "provenance.json").read_text())
        table = pd.read_parquet(run / "indicators.parquet")
        assert table.scenario.iloc[0] == prov["scenario"]
        assert prov["scenario_files"][-1] == prov["scenario"]
        assert len(prov["scenario_sha256"]) == 64
        assert prov["levers"]["work_relief"] == 0.05  # the command line applies last
        if prov["scenario"] == "decision_package":
            assert prov["levers"]["settlement_ease"] == {"step": 2024, "to": 1.0}
        assert set(table.year) == {2023, 2024, 2025, 2026, 2027}


def test_hydra_s_own_flags_work(tmp_path, monkeypatch):
    """Issue 10.11: `--cfg job` (Hydra's documented form) was taken for an override."""
    monkeypatch.chdir(tmp_path)
    shown = ronghe_here("run", "--cfg", "job", "scale=0.002")
    assert shown.returncode == 0, shown.stderr
    assert "scale: 0.002" in shown.stdout and "scenario: baseline" in shown.stdout
    swept = ronghe_here("run", "-m", "--cfg=job", "seeds=2")  # Hydra refuses both
    assert swept.returncode == 2
    assert swept.stderr.strip().splitlines() == [
        "ronghe: error: run: --multirun and --cfg exclude each other; give one of them"
    ]
    info = ronghe_here("run", "--info", "defaults")
    assert info.returncode == 0 and "ronghe_schema" in info.stdout
    assert not (tmp_path / "outputs").exists()  # showing runs nothing
    bad = ronghe_here("run", "--cfg", "everything")
    assert bad.returncode == 2
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and "--cfg/-c: invalid choice: 'everything'" in lines[0]


def test_listings():
    levers = ronghe_here("levers")
    assert levers.returncode == 0 and "落户通道" in levers.stdout and "(十四)" in levers.stdout
    scenarios = ronghe_here("scenarios")
    assert scenarios.returncode == 0 and "decision_package" in scenarios.stdout
    assert "决定全面实施" in scenarios.stdout and "extends: baseline <- stalled" in scenarios.stdout
    detail = ronghe_here("scenarios", "land_reform")
    assert detail.returncode == 0 and "(十六)" in detail.stdout
    assert "0.5 → 0.2 (linear 2024–2027)" in detail.stdout
    params = ronghe_here("params")
    assert params.returncode == 0 and "beta_distance" in params.stdout
    unknown = ronghe_here("fly")
    assert unknown.returncode == 2 and "unknown command 'fly'" in unknown.stderr


def test_console_script_is_installed():
    exe = shutil.which(
        "ronghe", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    )
    assert exe is not None


@pytest.mark.parametrize("command", ["run", "collect", "report", "levers", "scenarios", "params"])
def test_every_command_has_its_help(command):
    done = ronghe_here(command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: ronghe {command}")
    assert done.stderr == ""


def test_run_help_describes_every_key_with_its_default_meaning_and_range():
    from sim.config import SETTINGS

    text = ronghe_here("run", "--help").stdout
    flat = " ".join(text.split())  # lines are wrapped
    for key, s in SETTINGS.items():
        assert f"\n  {key}={s.shown_default()}\n" in text, key
        assert s.help in flat and f"allowed: {s.allowed()}" in flat, key
    assert "scale=0.01\n      agents per real person" in text
    assert "params.NAME=VALUE" in text and "levers.NAME=VALUE" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["county_area=[anju,lhasa]"], "county_area=['anju', 'lhasa']: allowed a non-empty list"),
        (["county_area=[anju,anju]"], "county_area=['anju', 'anju']: allowed a non-empty list"),
        (["targets_2035.income_ratio=9"], "targets_2035.income_ratio=9: allowed [1, 5]"),
        (["region="], "region='': allowed a library region's name"),
    ],
)
def test_region_dependent_settings_are_checked_before_any_run(tmp_path, args, message):
    from sim.cli import check_overrides
    from sim.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        check_overrides(args)
    assert message in str(err.value) and "\n" not in str(err.value)


MY_PLAN = """\
defaults: [baseline]
title_zh: 我的方案
title_en: My plan
levers:
  rural_roads: 0.5
"""


def test_a_scenario_of_your_own_extends_the_library_and_can_be_previewed(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "my_plan.yaml").write_text(MY_PLAN, encoding="utf-8")
    listed = ronghe_here("scenarios", "--dir", str(folder))
    assert "my_plan" in listed.stdout and "decision_package" in listed.stdout
    for args in (["--dir", str(folder), "my_plan"], [str(folder / "my_plan.yaml")]):
        shown = ronghe_here("scenarios", *args)
        assert shown.returncode == 0, shown.stderr
        assert "我的方案  |  My plan" in shown.stdout
        assert "files: stalled -> baseline -> my_plan" in shown.stdout
        assert "rural_roads" in shown.stdout
    missing = ronghe_here("scenarios", str(tmp_path / "none.yaml"))
    assert missing.returncode == 2 and "no such scenario file" in missing.stderr
    out = tmp_path / "run"
    done = ronghe_here(
        "run",
        "scenario=my_plan",
        f"scenarios_dir={folder}",
        "scale=0.0005",
        "end_year=2024",
        "progress=off",
        f"hydra.run.dir={out}",
    )
    assert done.returncode == 0, done.stderr
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert prov["scenario_files"] == ["stalled", "baseline", "my_plan"]
    assert prov["levers"]["rural_roads"] == 0.5
    # The console stays quiet; the run's log says what it did.
    assert "INFO" not in done.stderr
    log = (out / "ronghe.log").read_text(encoding="utf-8")
    assert "run: scenario my_plan (files stalled -> baseline -> my_plan), seed 1" in log
    assert "levers changed from 2023: " in log and "rural_roads" in log
    assert "2024: residents " in log and "finished in " in log


def test_a_sweep_counts_its_runs_and_ends_with_a_summary(tmp_path):
    sweep = tmp_path / "sweep"
    args = ("run", "-m", "scale=0.0005", "end_year=2024", "progress=off")
    first = ronghe(*args, "seed=1,2", f"hydra.sweep.dir={sweep}")
    assert first.returncode == 0, first.stderr
    assert "[sweep] 1/2 runs done (1 complete) in" in first.stderr
    assert "[sweep] 2/2 runs done (2 complete) in" in first.stderr
    assert "sweep of 2 runs: 2 complete in" in first.stdout
    log = next(sweep.glob("*seed=1")) / "ronghe.log"
    written = log.read_text(encoding="utf-8")
    assert "finished in " in written
    again = ronghe(*args, "seed=1,2,3", f"hydra.sweep.dir={sweep}")
    assert again.returncode == 0, again.stderr
    assert "[sweep] 3/3 runs done (1 complete, 2 skipped) in" in again.stderr
    assert "sweep of 3 runs: 1 complete, 2 skipped in" in again.stdout
    assert log.read_text(encoding="utf-8") == written  # a skipped run keeps its log


def test_running_in_process_leaves_the_hosts_logging_alone(tmp_path):
    import logging

    root, ours = logging.getLogger(), logging.getLogger("ronghe")
    before = (list(root.handlers), root.level, list(ours.handlers), ours.level, ours.propagate)
    done = ronghe_here(
        "run", "scale=0.0005", "end_year=2024", "progress=off", f"hydra.run.dir={tmp_path / 'r'}"
    )
    assert done.returncode == 0, done.stderr
    after = (list(root.handlers), root.level, list(ours.handlers), ours.level, ours.propagate)
    assert after == before


def test_regions_lists_the_library_with_its_units():
    result = ronghe("regions")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    row = next(line for line in out.splitlines() if line.startswith("suining"))
    assert "遂宁市" in row and "chuanshan anju* shehong* pengxi* daying*" in row
    assert "chengdu chongqing rest_of_sichuan other_provinces" in row and row.endswith("yes")
