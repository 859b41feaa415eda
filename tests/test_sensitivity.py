"""The Morris experiment's pieces, on a cheap stand-in model and on two real runs."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from SALib.sample import morris as morris_sample

SCRIPT = Path(__file__).resolve().parent.parent / "experiments" / "sensitivity" / "morris.py"


@pytest.fixture(scope="module")
def morris():
    spec = importlib.util.spec_from_file_location("morris_experiment", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_factors_cover_parameters_and_every_lever(morris, region):
    spec = morris.problem(region)
    names = spec["names"]
    assert len(names) == len(set(names)) == spec["num_vars"]
    assert sum(n.startswith("levers.") for n in names) == 20
    for name, (lo, hi) in zip(names, spec["bounds"], strict=True):
        assert lo < hi, name
        if name.startswith("params."):
            p = region.parameters[name.split(".", 1)[1]]
            assert p.low <= lo <= p.value <= hi <= p.high


def test_analysis_ranks_a_known_function_and_draws_the_chart(morris, region, tmp_path):
    """Indicator j depends only on factor j (and strongly): Morris must find that."""
    spec = morris.problem(region)
    X = morris_sample.sample(spec, 8, num_levels=4, seed=3)
    lo = np.array([b[0] for b in spec["bounds"]])
    hi = np.array([b[1] for b in spec["bounds"]])
    unit = (X - lo) / (hi - lo)
    Y = np.column_stack([3 * unit[:, 0], unit[:, 1] ** 2, -2 * unit[:, 2]])
    table = morris.analyse(spec, X, Y, seed=3)
    for j, indicator in enumerate(morris.LABELS.values()):
        part = table[table.indicator == indicator]
        assert part.iloc[0].factor == spec["names"][j]
        assert (part.iloc[1:].mu_star.abs() < 1e-9).all()
        assert part.iloc[0].mu_star_conf >= 0
    csv = tmp_path / "morris.csv"
    table.to_csv(csv, index=False)
    morris.plot(csv, tmp_path / "morris.png")
    assert (tmp_path / "morris.png").stat().st_size > 10_000
    assert pd.read_csv(csv).shape[0] == 3 * spec["num_vars"]


def test_a_sample_point_runs_the_model(morris, region, world):
    spec = morris.problem(region)
    lo = [b[0] for b in spec["bounds"]]
    hi = [b[1] for b in spec["bounds"]]
    low = morris.run_point(region, world, spec["names"], lo, 0.0005, 1, 2025)
    high = morris.run_point(region, world, spec["names"], hi, 0.0005, 1, 2025)
    assert all(np.isfinite(low)) and low != high
