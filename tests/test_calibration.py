import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from test_launchers import slurm_ready
from test_moments import observation

from sim import rng
from sim.calibration import (
    Plan,
    Setup,
    coverage,
    end_year_for,
    free_parameters,
    history_match,
    latin_design,
    point_seeds,
    posterior_draws,
    slurm_runner,
    to_params,
)
from sim.data import PriorSpec
from sim.ensemble import run_ensemble
from sim.errors import ConfigError
from sim.moments import compared, moments_of
from sim.priors import priors_of

# A toy record: one observed level that depends on one parameter only, so the posterior
# is known in closed form. y = 0.4 + 0.2 * (stay_bonus - 1.5) / 2 + noise(sd 0.01);
# observed 0.45 with sd 0.02; uniform priors.
OBSERVED, OBS_SD, NOISE_SD = 0.45, 0.02, 0.01


def toy_region(region):
    obs = observation(
        moment="toy",
        indicator="resident_urbanisation_rate",
        statistic="level",
        year_from=None,
        year=2023,
        value=OBSERVED,
        sd_obs=OBS_SD,
        sd_discrepancy=0.0,
    )
    priors = {
        "stay_bonus": PriorSpec(
            "stay_bonus", "uniform", None, None, 1.5, 3.5, "judgement", "parameter", "t"
        ),
        "asc_home": PriorSpec(
            "asc_home", "uniform", None, None, 0.4, 2.0, "judgement", "parameter", "t"
        ),
    }
    return dataclasses.replace(region, observations=(obs,), priors=priors)


class ToyRunner:
    """Stands in for the model: a table with the toy level, noisy by seed."""

    def __init__(self):
        self.runs = 0

    def __call__(self, members):
        self.runs += len(members)
        tables = []
        for m in members:
            noise = NOISE_SD * math.sqrt(2) * _erfinv(2 * rng.uniform(m["seed"], 0, 0, 1) - 1)
            value = 0.4 + 0.2 * (m["params"]["stay_bonus"] - 1.5) / 2 + noise
            tables.append(
                pd.DataFrame(
                    [
                        {
                            "year": 2023,
                            "unit": "city",
                            "indicator": "resident_urbanisation_rate",
                            "value": value,
                        }
                    ]
                )
            )
        return tables


def _erfinv(x):
    from scipy.special import erfinv

    return float(erfinv(x))


SETUP = Setup(scale=0.001, start_year=2023, end_year=2023, seed=3)
PLAN = Plan(waves=2, points=96, candidates=20_000, draws=200)


def test_the_posterior_of_a_toy_record_matches_the_closed_form(region, tmp_path):
    toy = toy_region(region)
    result = history_match(
        tmp_path / "toy", toy, SETUP, PLAN, log=lambda s: None, runner=ToyRunner()
    )
    # Posterior of stay_bonus: y = 0.4 + 0.1 (s - 1.5) ~ N(0.45, 0.02^2 + 0.01^2), so
    # s ~ N(2.0, sqrt(0.0005) / 0.1 = 0.224) truncated to [1.5, 3.5].
    s = result["draws"]["stay_bonus"]
    from scipy import stats

    exact = stats.truncnorm((1.5 - 2.0) / 0.2236, (3.5 - 2.0) / 0.2236, 2.0, 0.2236)
    assert s.mean() == pytest.approx(exact.mean(), abs=0.05)
    assert s.std() == pytest.approx(exact.std(), rel=0.2)
    informed = result["informed"].set_index("parameter")
    # In the unit cube the prior's sd is 1/sqrt(12) and the posterior's exact.std() / 2.
    expected_ratio = exact.std() / 2 * math.sqrt(12)
    assert informed.loc["stay_bonus", "width_ratio"] == pytest.approx(expected_ratio, rel=0.2)
    assert informed.loc["asc_home", "width_ratio"] > 0.85  # the record says nothing of it
    assert result["coverage"].covered.all()
    assert result["effective_size"] >= PLAN.draws


def test_a_stopped_calibration_resumes_and_gives_the_same_draws(region, tmp_path, monkeypatch):
    toy = toy_region(region)
    first = ToyRunner()
    one = history_match(tmp_path / "a", toy, SETUP, PLAN, runner=first, log=lambda s: None)
    assert first.runs == PLAN.waves * PLAN.points + PLAN.draws
    # Lose the posterior predictive and the last wave: only they are run again.
    (tmp_path / "a" / "predictive.parquet").unlink()
    (tmp_path / "a" / f"wave_{PLAN.waves - 1}.parquet").unlink()
    again = ToyRunner()
    two = history_match(tmp_path / "a", toy, SETUP, PLAN, runner=again, log=lambda s: None)
    assert again.runs == PLAN.points + PLAN.draws
    pd.testing.assert_frame_equal(one["draws"], two["draws"])
    # Another folder, same settings: the same draws (every random choice is seeded).
    three = history_match(tmp_path / "b", toy, SETUP, PLAN, runner=ToyRunner(), log=lambda s: None)
    pd.testing.assert_frame_equal(one["draws"], three["draws"])
    with pytest.raises(ConfigError, match=r"holds a calibration with other settings .*plan"):
        history_match(
            tmp_path / "a",
            toy,
            SETUP,
            dataclasses.replace(PLAN, points=64),
            runner=ToyRunner(),
            log=lambda s: None,
        )
    # Waves run by other code are never resumed: the calibration starts afresh elsewhere.
    import sim.calibration

    monkeypatch.setattr(sim.calibration, "engine_digest", lambda: "edited")
    with pytest.raises(ConfigError, match=r"other settings \(engine_digest\)"):
        history_match(tmp_path / "a", toy, SETUP, PLAN, runner=ToyRunner(), log=lambda s: None)


def test_a_folder_holding_files_of_someone_else_is_left_alone(region, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "summary.md").write_text("my notes")
    with pytest.raises(ConfigError, match="holds files Ronghe did not write there"):
        history_match(
            folder, toy_region(region), SETUP, PLAN, runner=ToyRunner(), log=lambda s: None
        )
    assert [p.name for p in folder.iterdir()] == ["summary.md"]
    assert (folder / "summary.md").read_text() == "my notes"


def test_a_record_the_model_cannot_reach_is_refused(region, tmp_path):
    toy = toy_region(region)
    far = dataclasses.replace(toy.observations[0], value=0.9)
    toy = dataclasses.replace(toy, observations=(far,))
    with pytest.raises(ConfigError, match="ruled out"):
        history_match(tmp_path / "far", toy, SETUP, PLAN, runner=ToyRunner(), log=lambda s: None)


def test_designs_and_seeds_are_fixed_by_the_seed():
    a, b = latin_design(50, 4, 1), latin_design(50, 4, 1)
    assert np.array_equal(a, b) and not np.array_equal(a, latin_design(50, 4, 2))
    # A Latin hypercube: each tenth of every axis holds exactly a tenth of the points.
    counts = np.stack([np.bincount((a[:, j] * 10).astype(int), minlength=10) for j in range(4)])
    assert (counts == 5).all()
    assert len(set(point_seeds(SETUP, 0, 100)) | set(point_seeds(SETUP, 1, 100))) == 200


def test_coverage_counts_an_observation_inside_its_predictive_interval():
    obs = [
        observation(moment="a", value=1.0, sd_obs=0.1, sd_discrepancy=0.0),
        observation(moment="b", value=5.0, sd_obs=0.1, sd_discrepancy=0.0, use="holdout"),
    ]
    predictive = pd.DataFrame({"a": np.full(50, 1.05), "b": np.full(50, 1.0)})
    table = coverage(obs, predictive).set_index("moment")
    assert table.loc["a", "covered"] and not table.loc["b", "covered"]


def test_too_few_effective_candidates_are_named(region):
    toy = toy_region(region)
    obs = list(toy.observations)

    class Flat:
        def predict(self, u):
            return np.where(u[:, 0] < 0.001, OBSERVED, 10.0), np.full(len(u), 1e-6)

    with pytest.raises(ConfigError, match=r"effective sample size of 2, below the 50 draws"):
        posterior_draws([Flat()], obs, latin_design(2000, 2, 1), 50, seed=1)


def test_the_real_model_calibrates_end_to_end_on_a_tiny_configuration(region, tmp_path):
    """Three parameters, 32 runs at 1:500, one wave; every output in place."""
    names = ("asc_outside", "wage_growth", "hukou_apply_rate")
    checked = compared(region.observations)
    setup = Setup(scale=0.002, start_year=2023, end_year=end_year_for(checked, 2023), workers=1)
    plan = Plan(waves=1, points=32, candidates=4000, draws=16)
    result = history_match(tmp_path / "tiny", region, setup, plan, names, log=lambda s: None)
    assert list(result["draws"].columns) == [*names, "seed"] and len(result["draws"]) == 16
    assert set(result["predictive"].columns) == {o.moment for o in checked}
    assert set(result["coverage"].use) == {"fit", "holdout"}
    assert set(result["informed"].parameter) == set(names)
    assert (tmp_path / "tiny" / "wave_0.parquet").is_file()
    priors = priors_of(region)
    for name in names:
        values = result["draws"][name]
        assert values.between(priors[name].low, priors[name].high).all()


def test_free_parameters_leave_fixed_priors_and_levers_out(region):
    names = free_parameters(region)
    assert "asc_outside" in names and "training_age_max" not in names
    assert not [n for n in names if n.startswith("lever:")]
    params = to_params(np.full((1, len(names)), 0.5), names, priors_of(region))
    assert params.shape == (1, len(names))


def test_a_wave_on_slurm_gives_what_it_gives_locally(region, tmp_path):
    if not slurm_ready():
        pytest.skip("no Slurm cluster (scripts/slurm-local up)")
    checked = compared(region.observations)
    members = [
        {"seed": s, "scale": 0.002, "end_year": 2025, "params": {"wage_growth": w}}
        for s, w in ((1, 0.04), (2, 0.05), (3, 0.06))
    ]
    remote = slurm_runner(tmp_path / ".slurm", tasks=2, cpus_per_task=1, timeout_min=10)(members)
    local = run_ensemble(members, workers=1)
    for a, b in zip(remote, local, strict=True):
        pd.testing.assert_series_equal(moments_of(a, checked, 2023), moments_of(b, checked, 2023))
