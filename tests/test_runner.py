import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config import MIN_SCALE, validate
from sim.indicators import indicator_table
from sim.runner import simulate

# Flows over the year before have no value in the base year.
UNDEFINED_IN_2023 = {
    "citizenisation",
    "hukou_transfers_in",
    "hukou_transfers_out",
    "births",
    "deaths",
    "net_migration",
    # The migration choice's expectations: the base year has no migration phase.
    "expected_urban_income",
    "expected_rural_income",
    "expected_income_gap",
}
# Means and shares of a group that can be empty at this scale, with the indicator and
# value that say it is empty: away (外出) or local (本地) migrant workers, children.
EMPTY_GROUPS = {
    "migrant_workers_away_mean_age": ("migrant_workers_local_share", 1.0),
    "migrant_workers_local_mean_age": ("migrant_workers_local_share", 0.0),
    "urban_share_of_children": ("resident_children", 0.0),
}


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**31))
def test_the_smallest_allowed_scale_runs_with_every_indicator_defined(seed):
    """Issue 10.8: scale=1e-5 died in the population synthesis; the minimum now runs."""
    cfg = validate({"scale": MIN_SCALE, "seed": seed, "end_year": 2026, "progress": "off"})
    model, _, _, _ = simulate(cfg)
    table = indicator_table(
        model.tallies,
        weight=model.weight,
        steps_per_year=4,
        county_area=cfg.resolved(model.region).settings.county_area,
        scenario="baseline",
        seed=seed,
    )
    undefined = table[~np.isfinite(table.value)]
    values = table.set_index(["year", "unit", "indicator"]).value
    for row in undefined[undefined.indicator.isin(EMPTY_GROUPS)].itertuples():
        # Undefined only where its group is empty.
        witness, empty = EMPTY_GROUPS[row.indicator]
        assert values[(row.year, row.unit, witness)] == empty, row
    undefined = undefined[~undefined.indicator.isin(EMPTY_GROUPS)]
    assert set(undefined.indicator) <= UNDEFINED_IN_2023 and (undefined.year == 2023).all()
    first = model.tallies[0]
    assert 300 < first.residents.sum() + first.outside_by_dest.sum() < 400  # about 353 agents


# --- ensemble=posterior ------------------------------------------------------------------


def test_a_posterior_ensemble_runs_every_draw_with_its_own_parameters_and_seed(tmp_path, region):
    import json

    import pandas as pd
    from conftest import ronghe_here

    from sim.charts.scorecard import scorecard
    from sim.ensemble import run_ensemble
    from sim.posterior import load_posterior
    from sim.sweeps import read_indicators, replicate_seeds

    out = tmp_path / "run"
    done = ronghe_here(
        "run",
        "ensemble=posterior",
        "draws=3",
        "scale=0.002",
        "end_year=2027",
        "progress=off",
        f"hydra.run.dir={out}",
    )
    assert done.returncode == 0, done.stderr
    assert "P(met in 2027) =" in done.stdout and "over 3 posterior draws" in done.stdout
    table = read_indicators(out / "indicators.parquet")
    seeds = replicate_seeds(1, 3)
    assert sorted(table.draw.unique()) == [0, 1, 2]
    assert table.groupby("draw").seed.first().tolist() == seeds
    # Draw k is the run of its parameters and seed, bit for bit.
    posterior = load_posterior()
    alone = run_ensemble(
        [
            {"seed": seeds[k], "scale": 0.002, "end_year": 2027, "params": posterior.params_of(k)}
            for k in range(3)
        ],
        workers=1,
    )
    for k in range(3):
        own = table[table.draw == k].drop(columns="draw").reset_index(drop=True)
        pd.testing.assert_frame_equal(own, alone[k])
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["ensemble"]["draws"] == 3 and prov["ensemble"]["seeds"] == seeds
    assert len(prov["ensemble"]["posterior_sha256"]) == 64
    # The scorecard's probabilities are over the draws.
    card = scorecard(table, region.targets)
    assert (card.runs == 3).all()


def test_ensemble_settings_are_checked_in_one_line(tmp_path):
    from conftest import ronghe_here

    from sim.posterior import load_posterior

    available = len(load_posterior().draws)
    cases = [
        (["draws=5"], "draws=5: allowed 0 without an ensemble (add ensemble=posterior)"),
        (["ensemble=prior"], "ensemble='prior': allowed none or posterior"),
        (["draw_seeds=2"], "draw_seeds=2: allowed 1 without an ensemble (add ensemble=posterior"),
        (["ensemble=posterior", "draw_seeds=17"], "draw_seeds=17: allowed integer in [1, 16]"),
        (
            ["ensemble=posterior", f"draws={available + 1}"],
            f"draws={available + 1}: allowed at most {available}, the posterior's draws",
        ),
    ]
    for k, (args, message) in enumerate(cases):
        done = ronghe_here(
            "run",
            *args,
            "scale=0.002",
            "end_year=2024",
            "progress=off",
            f"hydra.run.dir={tmp_path / str(k)}",
        )
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, done.stderr


def test_a_changed_posterior_makes_a_stored_ensemble_run_stale(tmp_path):
    """A resumed sweep reruns an ensemble run whose posterior file changed."""
    import shutil

    import pandas as pd
    from conftest import ronghe_here

    from sim.data import DEFAULT_DATA_DIR
    from sim.posterior import POSTERIOR_NAME, load_posterior, write_posterior

    region = tmp_path / "region"  # a region's posterior lives in its folder
    shutil.copytree(DEFAULT_DATA_DIR, region)
    own = region / POSTERIOR_NAME
    args = (
        "run",
        "-m",
        f"region={region}",
        "ensemble=posterior",
        "draws=2",
        "scale=0.002",
        "end_year=2024",
        "progress=off",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
    )
    first = ronghe_here(*args)
    assert first.returncode == 0, first.stderr
    again = ronghe_here(*args)
    assert "skipped (complete results of this run exist)" in again.stdout
    posterior = load_posterior(own)
    draws = posterior.draws.copy()
    draws["seed"] = draws["seed"] + 1
    write_posterior(pd.DataFrame(draws), posterior.meta, own)
    changed = ronghe_here(*args)
    assert changed.returncode == 0, changed.stderr
    assert "skipped" not in changed.stdout


def test_several_seeds_per_draw_are_paired_across_scenarios_and_reported(tmp_path, monkeypatch):
    """Issue 13.5: a sweep over scenarios pairs draws and seeds; the report splits the
    variance into parameters, base data and seeds."""
    from conftest import ronghe_here

    import sim.uncertainty
    from sim.posterior import load_posterior
    from sim.report import build_report
    from sim.results import read_draw_inputs
    from sim.sweeps import collect, replicate_seeds

    sweep = tmp_path / "sweep"
    done = ronghe_here(
        "run",
        "-m",
        "ensemble=posterior",
        "draws=3",
        "draw_seeds=2",
        "scenario=baseline,decision_package",
        "scale=0.002",
        "end_year=2027",
        "progress=off",
        f"hydra.sweep.dir={sweep}",
    )
    assert done.returncode == 0, done.stderr
    # A header and three targets per scenario.
    assert done.stdout.count("over 3 posterior draws x 2 seeds") == 2 * 4
    table, runs = collect(sweep)
    assert len(runs) == 2 and (runs.status == "complete").all()
    seeds = replicate_seeds(1, 6)
    posterior = load_posterior()
    pairs = []
    for run_id in runs.run_id:
        part = table[table.run_id == run_id]
        pairs.append(sorted(set(zip(part.draw, part.seed, strict=True))))
        inputs = read_draw_inputs(sweep / run_id)
        # Draw k runs on seeds k and k + draws: its first seed is that of draw_seeds=1.
        assert inputs[["draw", "seed"]].values.tolist() == [
            [k, seeds[k + j * 3]] for j in range(2) for k in range(3)
        ]
        for row in inputs.itertuples(index=False):  # the very values each member ran with
            own = posterior.params_of(row.draw)
            assert {name: getattr(row, name) for name in own} == own
    assert pairs[0] == pairs[1] and len(pairs[0]) == 6
    monkeypatch.setattr(sim.uncertainty, "MIN_DRAWS", 3)
    page = build_report(sweep, lang="en").read_text(encoding="utf-8")
    assert "3 posterior draws each, 2 seeds per draw, at scale 0.002" in page
    assert "<th>Base data</th>" in page and "3 × 2" in page
    shown = page[page.index("<th>Base data</th>") :]
    shown = shown[: shown.index("</table>")]
    assert shown.count("<tr>") == 6  # after the header: 2 scenarios x 3 targets
