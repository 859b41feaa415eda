import json
import shutil

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.errors import ConfigError
from sim.results import file_digest, write_run
from sim.runfolder import FAILED, LOCK, RunKey, is_complete, record_failure
from sim.sweeps import collect, expand_replicates, replicate_seeds, write_collected


@given(base=st.integers(0, 2**31), n=st.integers(1, 40))
def test_replicate_seeds_are_distinct_reproducible_and_start_at_the_base(base, n):
    seeds = replicate_seeds(base, n)
    assert len(seeds) == n == len(set(seeds))
    assert seeds[0] == base and seeds == replicate_seeds(base, n)
    assert all(0 <= s < 2**31 for s in seeds[1:])
    assert replicate_seeds(base, n + 3)[:n] == seeds  # more replicates extend the list


def test_many_replicate_seeds_derive_in_linear_time():
    """Issue 10.11: seeds=100000 spent 100 s in a quadratic membership test."""
    import time

    started = time.process_time()
    out = expand_replicates(["seeds=100000"], multirun=True)
    spent = time.process_time() - started
    assert len(out[0].split(",")) == 100_000
    assert spent < 10, spent  # about 0.3 s; the quadratic version took about 100 s


def test_expand_replicates_gives_every_scenario_the_same_seeds():
    out = expand_replicates(["scenario=a,b", "seeds=4", "seed=7"], multirun=True)
    assert out[0] == "scenario=a,b"
    assert out[1] == "seed=" + ",".join(map(str, replicate_seeds(7, 4)))
    assert expand_replicates(["scale=0.1"], multirun=False) == ["scale=0.1"]


@pytest.mark.parametrize(
    ("overrides", "multirun", "message"),
    [
        (["seeds=0"], True, "seeds='0': allowed an integer in [1, 100000]"),
        (["seeds=x"], True, "seeds='x'"),
        (["seeds=3"], False, "replicates need a multirun"),
        (["seeds=3", "seed=1,2"], True, "give one base seed"),
    ],
)
def test_bad_replicates(overrides, multirun, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        expand_replicates(overrides, multirun)


KEY = RunKey("c", "d", "s", "g")
OVERRIDES = ["scenario=baseline", "levers.work_relief=0.05"]


def fake_run(folder, name, *, seed, status, scale=0.01):
    """A run folder as a run leaves it: complete, failed or incomplete (killed)."""
    run = folder / name
    run.mkdir(parents=True)
    (run / LOCK).touch()
    overrides = [*OVERRIDES, f"seed={seed}", f"scale={scale}"]
    if status == "complete":
        table = pd.DataFrame(
            {
                "year": [2023, 2024],
                "unit": ["city", "city"],
                "indicator": ["income_ratio"] * 2,
                "value": [2.04, 2.03 - seed / 1000],
                "scenario": ["baseline"] * 2,
                "seed": [seed] * 2,
            }
        )
        prov = {"package": "ronghe", "scenario": "baseline", "seed": seed, "overrides": overrides}
        write_run(
            run,
            indicators=table,
            config={"seed": seed},
            provenance=prov | KEY.as_provenance(),
            population_fit=pd.DataFrame({"a": [1]}),
        )
    elif status == "failed":
        record_failure(run, ValueError("boom\nsecond line"), overrides)
    return run


def test_collect_gathers_complete_runs_and_reports_the_others(tmp_path):
    fake_run(tmp_path, "a", seed=1, status="complete")
    fake_run(tmp_path, "b", seed=2, status="complete", scale=0.02)
    fake_run(tmp_path, "c", seed=3, status="failed")
    fake_run(tmp_path, "d", seed=4, status="incomplete")
    (tmp_path / "d" / ".staging-123").mkdir()  # a killed run's half-written files
    indicators, runs = collect(tmp_path)
    assert list(indicators.columns) == [
        "run_id",
        "scenario",
        "levers.work_relief",
        "scale",
        "seed",
        "year",
        "unit",
        "indicator",
        "value",
    ]
    assert set(indicators.run_id) == {"a", "b"} and len(indicators) == 4
    assert indicators.set_index("run_id").loc["b", "scale"].tolist() == [0.02, 0.02]
    status = runs.set_index("run_id")["status"].to_dict()
    assert status == {"a": "complete", "b": "complete", "c": "failed", "d": "incomplete"}
    assert runs.set_index("run_id").loc["c", "error"] == "ValueError: boom"


def test_collected_tables_answer_queries_with_pandas_and_duckdb(tmp_path):
    """The queries shown in the README."""
    import duckdb

    for seed in (1, 2, 3):
        fake_run(tmp_path, f"r{seed}", seed=seed, status="complete")
    out, _ = write_collected(tmp_path)
    assert out == tmp_path / "collected"
    t = pd.read_parquet(out / "all_indicators.parquet")
    # A glob over run folders picks the runs, never the collected table.
    assert len(list(tmp_path.glob("*/indicators.parquet"))) == 3
    by_scenario = (
        t.query("unit == 'city' and indicator == 'income_ratio' and year == 2024")
        .groupby("scenario")["value"]
        .median()
    )
    assert by_scenario["baseline"] == pytest.approx(2.028)
    rows = duckdb.sql(
        f"""
        SELECT scenario, median(value) AS ratio, count(*) AS runs
        FROM '{out}/all_indicators.parquet'
        WHERE unit = 'city' AND indicator = 'income_ratio' AND year = 2024
        GROUP BY scenario
        """
    ).fetchall()
    assert rows == [("baseline", pytest.approx(2.028), 3)]
    write_collected(tmp_path)  # collecting again replaces the tables whole
    assert sorted(p.name for p in out.iterdir()) == [
        ".ronghe-manifest.json",
        "all_indicators.parquet",
        "runs.parquet",
    ]
    (out / "mine.csv").write_text("a file of the user's")
    with pytest.raises(ConfigError, match=r"collect=.*holds 1 file.*mine\.csv"):
        write_collected(tmp_path)  # never deletes what it did not write
    assert (out / "mine.csv").is_file()


def test_is_complete_needs_the_same_config_data_scenario_and_code(tmp_path):
    run = fake_run(tmp_path, "a", seed=1, status="complete")
    assert is_complete(run, KEY)
    assert not is_complete(run, RunKey("other", "d", "s", "g"))
    assert not is_complete(run, RunKey("c", "other", "s", "g"))
    assert not is_complete(run, RunKey("c", "d", "edited scenario", "g"))
    assert not is_complete(run, RunKey("c", "d", "s", "edited code"))
    (run / "indicators.parquet").write_bytes(b"PAR1 not a parquet file")
    assert not is_complete(run, KEY)
    (run / "indicators.parquet").unlink()
    assert not is_complete(run, KEY)


def test_collect_ignores_staging_and_hidden_folders(tmp_path):
    """Issue 10.10: a sweep being written holds staging folders with result files."""
    fake_run(tmp_path, "a", seed=1, status="complete")
    busy = fake_run(tmp_path, "b", seed=2, status="incomplete")
    staging = busy / ".staging-0123456789abcdef0123456789abcdef"
    staging.mkdir()
    shutil.copy(tmp_path / "a" / "provenance.json", staging / "provenance.json")
    shutil.copy(tmp_path / "a" / "indicators.parquet", staging / "indicators.parquet")
    (tmp_path / ".submitit" / "123").mkdir(parents=True)
    (tmp_path / ".submitit" / "123" / FAILED).write_text("{}")
    (tmp_path / ".collected-0a1b").mkdir()
    (tmp_path / ".collected-0a1b" / "provenance.json").write_text("{}")
    _, runs = collect(tmp_path)
    assert runs.set_index("run_id").status.to_dict() == {"a": "complete", "b": "incomplete"}


def rename_column(run):
    """Rename a column and record the new file's digest, as a careless edit might."""
    path = run / "indicators.parquet"
    pd.read_parquet(path).rename(columns={"value": "valeur"}).to_parquet(path, index=False)
    prov = json.loads((run / "provenance.json").read_text())
    prov["files"]["indicators.parquet"] = file_digest(path)
    (run / "provenance.json").write_text(json.dumps(prov))


@pytest.mark.parametrize(
    ("damage", "error"),
    [
        (lambda r: (r / "indicators.parquet").write_bytes(b"garbage"), "differs from the digest"),
        (lambda r: (r / "provenance.json").write_text("{"), "provenance.json: unreadable"),
        (lambda r: (r / "provenance.json").write_bytes(b"\xff\xfe"), "unreadable"),
        (rename_column, "columns year:int64, unit:large_string, indicator:large_string, valeur"),
        (lambda r: (r / FAILED).write_text("[oops"), None),  # a failed.json beside results
    ],
)
def test_one_bad_run_is_listed_and_never_blocks_collecting_the_others(tmp_path, damage, error):
    """Issue 10.8 and 10.10: corrupt files and other columns are failures, not tracebacks."""
    fake_run(tmp_path, "good", seed=1, status="complete")
    damage(fake_run(tmp_path, "bad", seed=2, status="complete"))
    indicators, runs = collect(tmp_path)
    status = runs.set_index("run_id")
    if error is None:  # results checked out; a stray failure record does not hide them
        assert set(indicators.run_id) == {"good", "bad"}
        return
    assert set(indicators.run_id) == {"good"} and "valeur" not in indicators.columns
    assert status.loc["bad", "status"] == "failed" and status.loc["good", "status"] == "complete"
    assert status.loc["bad", "error"].startswith("ResultsError: ")
    assert error in status.loc["bad", "error"]


def test_collect_refuses_what_is_not_a_sweep(tmp_path):
    with pytest.raises(ConfigError, match="no runs under"):
        collect(tmp_path)
    with pytest.raises(ConfigError, match="is not a folder"):
        collect(tmp_path / "nowhere")
    assert not (tmp_path / FAILED).exists()


def test_results_without_their_provenance_are_an_incomplete_run(tmp_path):
    """A rerun killed after retiring the provenance (removed first) but not the rest."""
    run = fake_run(tmp_path, "a", seed=1, status="complete")
    (run / "provenance.json").unlink()
    assert (run / "indicators.parquet").exists()
    table, runs = collect(tmp_path)
    assert runs.status.tolist() == ["incomplete"] and table.empty
