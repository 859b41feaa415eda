import importlib
import importlib.util
import pickle
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from ema_workbench import SequentialEvaluator, perform_experiments
from ema_workbench.analysis import prim

import sim
from sim.data import load_region
from sim.ema import (
    MET_OUTCOMES,
    OUTCOMES,
    TARGET_OUTCOMES,
    goal_seek_levers,
    lever_ranges,
    ronghe_model,
    target_outcomes,
)
from sim.errors import ConfigError
from sim.indicators import TARGET_INDICATORS
from sim.levers import LEVERS, region_defaults
from sim.posterior import load_posterior

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "discovery.md"
SMALL = {"scale": 0.002, "end_year": 2027}


@pytest.fixture(scope="module")
def model():
    return ronghe_model(**SMALL)


@pytest.fixture(scope="module")
def results(model):
    with SequentialEvaluator(model) as evaluator:
        return perform_experiments(
            model,
            scenarios=3,
            policies=4,
            evaluator=evaluator,
            uncertainty_sampling_kwargs={"rng": 5},
            lever_sampling_kwargs={"rng": 6},
        )


def test_the_model_has_the_goal_seeking_levers_the_draws_and_the_outcomes(model):
    searched = yaml.safe_load((ROOT / "conf/experiment/goal_seek.yaml").read_text())
    names = [k.removeprefix("levers.") for k in searched["hydra"]["sweeper"]["params"]]
    assert [lever.name for lever in model.levers] == names and len(names) == 12
    for lever in model.levers:
        catalogue = LEVERS[lever.name]
        default = region_defaults().value(lever.name)
        assert lever.lower_bound == default  # from the 2023 value ...
        assert default < lever.upper_bound <= catalogue.high  # ... upwards
    assert goal_seek_levers()["homestead_revitalisation"] == (0.02, 0.5)
    [draw] = list(model.uncertainties)
    assert (draw.name, draw.lower_bound, draw.upper_bound) == (
        "draw",
        0,
        len(load_posterior().draws) - 1,
    )
    assert [o.name for o in model.outcomes] == list(OUTCOMES)


def test_perform_experiments_runs_every_case_and_the_flags_follow_the_targets(model, results):
    experiments, outcomes = results
    assert len(experiments) == 12 and experiments["draw"].nunique() == 3
    assert set(outcomes) == set(OUTCOMES)
    targets = {f"{t.unit}_{t.indicator}": t for t in load_region().targets if t.year == 2027}
    for name, met in zip(TARGET_OUTCOMES, MET_OUTCOMES, strict=True):
        assert np.isfinite(outcomes[name]).all()
        assert (outcomes[met] == targets[name].met(outcomes[name])).all()
    together = outcomes[MET_OUTCOMES[0]] & outcomes[MET_OUTCOMES[1]] & outcomes[MET_OUTCOMES[2]]
    assert (outcomes["all_met"] == together).all()
    assert (outcomes["lever_spending"] > 0).all()
    for lever in model.levers:
        assert experiments[lever.name].between(lever.lower_bound, lever.upper_bound).all()


def test_each_outcome_is_what_sim_run_gives_for_the_same_levers_and_draw(model, results):
    experiments, outcomes = results
    posterior = load_posterior()
    names = [lever.name for lever in model.levers]
    for i in (0, 7, 11):
        row = experiments.iloc[i]
        k = int(row["draw"])
        table = sim.run(
            "baseline",
            levers={name: float(row[name]) for name in names},
            params=posterior.params_of(k),
            seed=int(posterior.draws.seed.iloc[k]),
            **SMALL,
        )
        values = sim.targets(table).iloc[0]
        for name, (unit, indicator) in zip(TARGET_OUTCOMES, TARGET_INDICATORS, strict=True):
            assert outcomes[name][i] == values[f"{unit}.{indicator}"]
        spending = table.query("year == 2027 and unit == 'city' and indicator == 'lever_spending'")
        assert outcomes["lever_spending"][i] == spending["value"].item()


def test_numpy_scalars_give_the_same_outcomes_as_python_values_and_the_function_pickles(model):
    function = model.function
    levers = {"settlement_ease": 0.99, "rental_housing": 0.3, "agri_parks": 0.05}
    plain = function(**levers, draw=3)
    numpy = function(**{k: np.float64(v) for k, v in levers.items()}, draw=np.int64(3))
    assert numpy == plain
    assert pickle.loads(pickle.dumps(function))(**levers, draw=3) == plain
    # A parameter given by name overrides the draw's value; a seed, the draw's seed.
    member = function.member(**levers, draw=np.int64(3), beta_income=0.9, seed=7)
    assert member["params"]["beta_income"] == 0.9 and member["seed"] == 7
    assert member["levers"] == levers and member["scenario"] == "baseline"


def test_prim_finds_a_box_over_the_levers_in_the_results(model, results):
    experiments, outcomes = results
    names = [lever.name for lever in model.levers]
    ratio = outcomes["city_income_ratio"]
    low_ratio = ratio < np.median(ratio)  # half the cases: PRIM has something to find
    box = prim.Prim(experiments[names], low_ratio, mass_min=0.1).find_box()
    trajectory = box.peeling_trajectory
    assert trajectory["density"].iloc[-1] >= low_ratio.mean()
    assert trajectory["coverage"].between(0, 1).all() and trajectory["n"].iloc[0] == 12
    limits = box.box_lim
    for lever in model.levers:
        assert lever.lower_bound <= limits.at[0, lever.name] <= limits.at[1, lever.name]
        assert limits.at[1, lever.name] <= lever.upper_bound


def test_without_draws_the_runs_use_the_data_values_and_the_models_seed():
    model = ronghe_model("point", levers=["rural_roads"], draws=False, seed=4, **SMALL)
    assert not list(model.uncertainties)
    [lever] = list(model.levers)
    assert (lever.name, lever.lower_bound, lever.upper_bound) == ("rural_roads", 0.0, 1e9)
    outcomes = model.function(rural_roads=np.float64(5e8))
    table = sim.run(levers={"rural_roads": 5e8}, seed=4, **SMALL)
    assert outcomes == target_outcomes(table, model.function.targets)
    assert outcomes["city_income_ratio"] == sim.targets(table)["city.income_ratio"].item()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"levers": ["no_such_lever"]}, "levers.'no_such_lever': unknown lever"),
        ({"levers": {"work_relief": (0.0, 0.5)}}, "allowed low < high within [0, 0.2]"),
        ({"levers": {"work_relief": 0.1}}, "allowed a pair (low, high)"),
        ({"levers": "work_relief"}, "allowed a list of lever ids or a mapping"),
        ({"end_year": 2026}, "year=2027: allowed up to end_year=2026"),
        ({"year": 2030, "end_year": 2030}, "year=2030: no target for"),
        ({"draws": 100_000}, "draws=100000: allowed True, False or 1 to"),
        ({"scale": 2}, "scale=2: allowed [0.0001, 1]"),
        ({"ensemble": "posterior"}, "ensemble: not a setting of an EMA model"),
    ],
)
def test_bad_arguments_stop_with_one_line_before_any_run(arguments, message):
    with pytest.raises(ConfigError) as error:
        ronghe_model(**arguments)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_draw_outside_the_posterior_is_refused(model):
    with pytest.raises(ConfigError, match=r"draw=100000: allowed 0 to \d+"):
        model.function(draw=100_000)


def test_lever_ranges_default_to_goal_seeking_and_ids_to_the_reform_range():
    assert lever_ranges() == goal_seek_levers()
    assert lever_ranges(["land_transfer_friction", "settlement_ease"]) == {
        "land_transfer_friction": (0.0, 0.5),  # reform lowers the friction
        "settlement_ease": (0.95, 1.0),
    }


def test_without_the_ema_workbench_the_import_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ema_workbench", None)
    monkeypatch.delitem(sys.modules, "sim.ema")
    with pytest.raises(ConfigError) as error:
        importlib.import_module("sim.ema")
    message = str(error.value)
    assert 'pip install "ronghe[ema]"' in message and "\n" not in message


def test_the_engine_does_not_import_the_adapter():
    from sim.paths import ENGINE_ROOT, PACKAGE_DIR, module_closure

    assert "ema.py" not in {p.name for p in module_closure(PACKAGE_DIR, ENGINE_ROOT)}


def test_the_example_in_docs_discovery_runs(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert blocks
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(DOCS), "exec"), namespace)
    assert isinstance(namespace["experiments"], pd.DataFrame)
    assert set(namespace["outcomes"]) == set(OUTCOMES)
    assert "density" in capsys.readouterr().out


def _discover_script():
    spec = importlib.util.spec_from_file_location(
        "discover", ROOT / "experiments" / "discovery" / "discover.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_discovery_design_is_balanced_and_existing_results_are_kept(tmp_path, model, capsys):
    discover = _discover_script()
    draws = discover.assign_draws(packages=64, per_package=8, n_draws=256, seed=1)
    assert all(len(set(row)) == 8 for row in draws)  # no package meets a draw twice
    assert set(np.bincount(draws.ravel(), minlength=256)) == {2}  # every draw equally often
    cases = discover.design(model, 5, 3, 256, seed=2)
    assert len(cases) == 15 and (cases.groupby("package").size() == 3).all()
    assert (cases.groupby("package")["work_relief"].nunique() == 1).all()
    (tmp_path / "main").mkdir()
    (tmp_path / "main" / "summary.md").write_text("earlier results")
    assert discover.main(["--out", str(tmp_path)]) == 2
    assert "exists: choose another --name or pass --replace" in capsys.readouterr().err
    assert (tmp_path / "main" / "summary.md").read_text() == "earlier results"
