import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest

import sim
from sim.ensemble import run_ensemble
from sim.errors import FinishedError

DOCS = Path(__file__).resolve().parent.parent / "docs" / "api.md"
SMALL = {"scale": 0.002, "end_year": 2025}


def test_a_run_is_the_table_ronghe_run_writes_and_touches_nothing_else(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    handlers = list(logging.getLogger().handlers)
    level = logging.getLogger().level
    table = sim.run("land_reform", seed=3, **SMALL)
    expected = run_ensemble([{"scenario": "land_reform", "seed": 3, **SMALL}], workers=1)[0]
    pd.testing.assert_frame_equal(table, expected)
    assert os.getcwd() == str(tmp_path) and not list(tmp_path.iterdir())
    assert logging.getLogger().handlers == handlers and logging.getLogger().level == level


def test_numpy_values_are_accepted_as_the_same_python_values():
    plain = sim.run(levers={"rural_roads": 0.5}, params={"asc_home": 1.2}, seed=2, **SMALL)
    numpy = sim.run(
        levers={"rural_roads": np.float64(0.5)},
        params={"asc_home": np.float32(1.2).item()},
        seed=np.int64(2),
        scale=np.float64(0.002),
        end_year=np.int64(2025),
    )
    pd.testing.assert_frame_equal(plain, numpy)


def test_several_seeds_run_once_each_and_targets_has_a_row_per_run():
    table = sim.run("baseline", seed=[1, 2], workers=1, scale=0.002, end_year=2027)
    assert sorted(table.seed.unique()) == [1, 2]
    card = sim.targets(table)
    assert card.index.names == ["scenario", "seed"] and len(card) == 2
    assert list(card.columns) == [
        "city.resident_urbanisation_rate",
        "county_area.resident_urbanisation_rate",
        "city.income_ratio",
    ]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"scale": 2}, sim.ConfigError, "scale=2: allowed [0.0001, 1]"),
        ({"levers": {"teleport": 1}}, sim.RongheError, "teleport"),
        ({"params": {"asc_home": "high"}}, sim.ConfigError, "asc_home"),
        ({"seed": []}, sim.ConfigError, "seed=[]: allowed a seed or a non-empty list"),
        ({"seed": [1, -5]}, sim.ConfigError, "seed=-5: allowed integer in [0, "),
        ({"colour": "red"}, sim.ConfigError, "unknown key 'colour'"),
        (
            {"ensemble": "posterior", "seed": [1, 2]},
            sim.ConfigError,
            "allowed one seed with ensemble=posterior",
        ),
    ],
)
def test_errors_carry_the_command_line_message(kwargs, error, message):
    with pytest.raises(error) as caught:
        sim.run(**{**SMALL, **kwargs})
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_posterior_ensemble_has_a_draw_column_paired_with_the_command_line():
    from sim.api import configure
    from sim.data import load_region
    from sim.runner import posterior_members

    table = sim.run(ensemble="posterior", draws=2, draw_seeds=2, workers=1, **SMALL)
    members = posterior_members(
        configure(ensemble="posterior", draws=2, draw_seeds=2, **SMALL), load_region()
    )
    assert sorted(set(zip(table.draw, table.seed, strict=True))) == sorted(
        zip(members.draw_of, (m.settings.seed for m in members.members), strict=True)
    )


def test_batch_run_works_without_glue_and_matches_sim_run():
    rows = mesa.batch_run(
        sim.RongheModel,
        parameters={"scenario": ["baseline", "land_reform"], "seed": [1, 2], **SMALL},
        max_steps=1000,
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    yearly = pd.DataFrame(rows)
    assert len(yearly) == 4 * 3  # four runs, the base year and two simulated years
    assert sorted(yearly.year.unique()) == [2023, 2024, 2025]
    table = sim.run("land_reform", seed=2, **SMALL)
    mine = yearly[(yearly.scenario == "land_reform") & (yearly.seed == 2)].set_index("year")
    for indicator in sim.api.REPORTED_INDICATORS:
        expected = table[(table.unit == "city") & (table.indicator == indicator)]
        np.testing.assert_array_equal(
            mine.loc[[2024, 2025], indicator].to_numpy(),
            expected.set_index("year").loc[[2024, 2025], "value"].to_numpy(),
        )
    # Mesa's own seeding (rng=...) gives the same runs as the seed parameter.
    by_rng = pd.DataFrame(
        mesa.batch_run(
            sim.RongheModel,
            parameters={"scenario": "land_reform", **SMALL},
            rng=[2],
            max_steps=1000,
            data_collection_period=-1,
            display_progress=False,
        )
    )
    assert by_rng.income_ratio.iloc[0] == mine.loc[2025, "income_ratio"]


def test_a_model_stops_running_at_its_end_year_and_refuses_to_go_on():
    model = sim.RongheModel(seed=1, scale=0.002, end_year=2024)
    assert model.running
    model.run_model()
    assert not model.running and model.steps == 4
    with pytest.raises(FinishedError, match="the run ended with 2024; allowed 4 steps"):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert frame.year.tolist() == [2023, 2024]
    with pytest.raises(sim.ConfigError, match="ensemble: not a setting of one model"):
        sim.RongheModel(ensemble="posterior", **SMALL)


def test_python_dash_m_sim_is_the_command_line():
    done = subprocess.run(
        [sys.executable, "-m", "sim", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stdout.startswith("usage: ronghe")
    assert (Path(sim.__file__).parent / "py.typed").is_file()


def test_the_examples_in_docs_api_run(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 6
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(DOCS), "exec"), namespace)
    shown = capsys.readouterr().out
    assert "scale=2: allowed [0.0001, 1]" in shown
    assert "resident_urbanisation_rate" in shown
    assert not namespace["model"].running
