import dataclasses
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import ronghe_here

from sim.config import GoalSettings
from sim.goals import assess
from sim.levers import LEVERS, default_policy, package_cost
from sim.paths import project_dir
from sim.scenario import load_scenario


def table(seed, urbanisation, county_area, ratio):
    rows = [
        (2023, unit, "resident_population", value)
        for unit, value in zip(
            ("chuanshan", "anju", "shehong", "pengxi", "daying"),
            (4, 2, 2, 1, 1),
            strict=True,
        )
    ]
    rows += [
        (2027, "city", "resident_urbanisation_rate", urbanisation),
        (2027, "county_area", "resident_urbanisation_rate", county_area),
        (2027, "city", "income_ratio", ratio),
    ]
    t = pd.DataFrame(rows, columns=["year", "unit", "indicator", "value"])
    t["seed"] = seed
    return t


def test_assess_counts_targets_met_and_prices_the_package(region):
    scenario = load_scenario(
        "stalled", project_dir("scenarios"), lever_overrides={"collective_dividends": 100.0}
    )
    tables = [
        table(1, 0.631, 0.50, 1.93),  # all three met
        table(2, 0.629, 0.50, 1.93),  # urbanisation 0.1 point short
        table(3, 0.640, 0.50, 1.96),  # ratio 0.02 short
        table(4, 0.635, 0.49, 1.90),
    ]
    goal = GoalSettings(replicates=4, probability=0.8, penalty=1000.0)
    result = assess(tables, region, scenario, goal, region.targets)
    assert result.probability == {
        "urbanisation": 0.75,
        "county_area": 1.0,
        "income_ratio": 0.75,
        "all": 0.5,
    }
    assert result.mean_gap["urbanisation"] == pytest.approx(0.1 / 4)
    assert result.mean_gap["income_ratio"] == pytest.approx(2 / 4)
    # 100 yuan to each member: 2.4 million yuan per yuan, in every county.
    assert result.cost == pytest.approx(100 * LEVERS["collective_dividends"].cost_per_unit)
    penalty = 1000.0 * (0.3 + 0.025 + 0.5)
    assert result.objective == pytest.approx(result.cost + penalty)
    assert result.seeds == [1, 2, 3, 4]
    feasible = assess(tables[:1] + tables[3:], region, scenario, goal, region.targets)
    assert feasible.probability["all"] == 1.0 and feasible.objective == feasible.cost


def test_package_cost_counts_only_moves_in_the_reform_direction():
    weights = np.array([0.4, 0.2, 0.2, 0.1, 0.1])
    friction = LEVERS["land_transfer_friction"]
    base = default_policy()
    now = base.land_transfer_friction
    lower = {"land_transfer_friction": now - 0.1}
    higher = {"land_transfer_friction": now + 0.1}
    assert package_cost(lower, weights, base) == pytest.approx(0.1 * friction.cost_per_unit)
    assert package_cost(higher, weights, base) == 0.0
    roads = {"rural_roads": np.array([1e8, 0, 0, 0, 0])}
    assert package_cost(roads, weights, base) == pytest.approx(100.0)  # million yuan
    one_county = {"park_investment": np.array([0, 0.01, 0, 0, 0])}
    assert package_cost(one_county, weights, base) == pytest.approx(0.2 * 0.01 * 200000)


def test_every_lever_has_a_documented_cost():
    for lever in LEVERS.values():
        assert lever.cost_per_unit > 0 and lever.cost_basis, lever.id
        assert lever.reform_direction in (-1, 1)


def test_goal_seeking_sweep_runs_end_to_end(tmp_path):
    """Optuna proposes packages; each trial runs replicates and returns its objective."""
    result = ronghe_here(
        "run", "-m", "+experiment=goal_seek", "hydra.sweeper.n_trials=3",
        "hydra.sweeper.n_jobs=1", "goal.replicates=2", "scale=0.0005",
        f"hydra.sweep.dir={tmp_path}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    # No Hydra or Optuna chatter, and values shown to three digits.
    assert "[HYDRA]" not in result.stdout + result.stderr
    assert "A new study created" not in result.stdout + result.stderr
    assert "goal seeking: best objective " in result.stdout
    assert re.search(r"settlement_ease 0\.9\d\d?,", result.stdout)
    goals = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("*/goal.json"))]
    assert len(goals) == 3
    for goal in goals:
        assert set(goal["probability"]) == {"urbanisation", "county_area", "income_ratio", "all"}
        assert goal["objective"] >= goal["cost"] > 0 and len(goal["seeds"]) == 2
        assert 0.95 <= goal["levers"]["settlement_ease"] <= 1.0
    assert (tmp_path / "optimization_results.yaml").is_file()
    table = subprocess.run(
        [sys.executable, "experiments/goal_seek/best_packages.py", str(tmp_path)],
        capture_output=True, text=True, cwd=project_dir("conf").parent,
    )  # fmt: skip
    assert table.returncode == 0, table.stderr
    assert "| trial | feasible | cost |" in table.stdout
    assert (tmp_path / "best_packages.csv").is_file()


def test_goal_settings_are_validated(tmp_path):
    result = ronghe_here("run", "goal.replicates=-1", f"hydra.run.dir={tmp_path / 'never'}")
    assert result.returncode == 2
    assert "goal.replicates=-1: allowed integer in [0, 1000]" in result.stderr
    unknown = ronghe_here("run", "-m", "+experiment=moonshot")
    assert unknown.returncode == 2 and "unknown experiment; allowed: goal_seek" in unknown.stderr
    assert dataclasses.asdict(GoalSettings())["replicates"] == 0
