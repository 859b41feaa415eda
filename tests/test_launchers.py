"""Sweeps through Hydra's launchers: identical results, failures, kills and resumes.

The Slurm tests need a cluster: `scripts/slurm-local up` (which `.ci/run` starts) and
SLURM_CONF in the environment. They are skipped without one, unless
RONGHE_REQUIRE_SLURM=1 (set by `.ci/run`) makes a missing cluster an error.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from conftest import ronghe

from sim.runfolder import FAILED
from sim.sweeps import collect, replicate_seeds

SWEEP = ["scenario=baseline,land_reform", "seeds=3", "scale=0.0005", "end_year=2025"]


def slurm_ready() -> bool:
    ready = bool(os.environ.get("SLURM_CONF")) and shutil.which("sbatch") is not None
    if ready:
        ready = subprocess.run(["scontrol", "ping"], capture_output=True).returncode == 0
    if not ready and os.environ.get("RONGHE_REQUIRE_SLURM") == "1":
        pytest.fail("RONGHE_REQUIRE_SLURM=1 but no Slurm cluster answers (scripts/slurm-local up)")
    return ready


def sweep(folder, *extra, timeout=600):
    result = ronghe(
        "run", "-m", *SWEEP, *extra, "progress=off", f"hydra.sweep.dir={folder}", timeout=timeout
    )
    assert result.returncode == 0, result.stderr[-3000:]
    indicators, runs = collect(folder)
    assert (runs.status == "complete").all() and len(runs) == 6
    return indicators.sort_values(["scenario", "seed", "year", "unit", "indicator"]).reset_index(
        drop=True
    )


def assert_identical(a: pd.DataFrame, b: pd.DataFrame):
    keys = ["scenario", "seed", "year", "unit", "indicator"]
    assert a[keys].equals(b[keys])
    assert np.array_equal(a["value"].to_numpy(), b["value"].to_numpy(), equal_nan=True)


@pytest.fixture(scope="module")
def sequential(tmp_path_factory):
    return sweep(tmp_path_factory.mktemp("sequential"), "hydra/launcher=sequential")


def test_replicates_and_run_folders(sequential):
    assert set(sequential.seed) == set(replicate_seeds(1, 3))
    assert set(sequential.scenario) == {"baseline", "land_reform"}


def test_local_cores_give_bit_identical_results(sequential, tmp_path):
    cores = sweep(tmp_path, "hydra/launcher=cores", "hydra.launcher.n_jobs=2", "threads=1")
    assert_identical(sequential, cores)


def test_slurm_array_gives_bit_identical_results(sequential, tmp_path):
    if not slurm_ready():
        pytest.skip("no Slurm cluster (scripts/slurm-local up)")
    slurm = sweep(tmp_path, "hydra/launcher=slurm", "hydra.launcher.timeout_min=10", timeout=300)
    assert_identical(sequential, slurm)
    assert (tmp_path / ".submitit").is_dir()


def test_a_cancelled_slurm_job_fails_the_sweep_promptly(tmp_path):
    if not slurm_ready():
        pytest.skip("no Slurm cluster (scripts/slurm-local up)")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "run",
            "-m",
            "hydra/launcher=slurm",
            "backend=agents",
            "scale=0.005",
            "seed=1,2",
            "end_year=2035",
            "progress=off",
            f"hydra.sweep.dir={tmp_path}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        job = ""
        deadline = time.time() + 120
        while not job and time.time() < deadline:
            time.sleep(0.5)
            listed = subprocess.run(
                ["squeue", "-h", "-t", "R", "-o", "%i|%o"], capture_output=True, text=True
            ).stdout.splitlines()
            # Only this sweep's jobs (their output lies in its folder): a job of an
            # earlier test may still show as running while Slurm finishes it.
            ours = [line.split("|")[0] for line in listed if str(tmp_path) in line]
            job = ours[0] if ours else ""
        assert job, "no job started running"
        subprocess.run(["scancel", job], check=True)
        cancelled = time.time()
        _, err = proc.communicate(timeout=120)
        waited = time.time() - cancelled
    finally:
        if proc.poll() is None:
            proc.kill()
        subprocess.run(["scancel", "--name=ronghe"], capture_output=True)
    assert proc.returncode != 0
    assert "UncompletedJobError" in err and "CANCELLED" in err
    assert waited < 90, waited
    # The cancelled run never completes (it may not even have a folder yet, if Slurm
    # cancelled it before Python started); at most the other run does.
    if any(tmp_path.glob("*/.ronghe-run.lock")):
        _, runs = collect(tmp_path)
        assert (runs.status == "complete").sum() < 2


def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path, monkeypatch, capsys):
    """A run that fails at run time (here an injected fault) is recorded; the rest go on."""
    import sim.runner
    from sim.cli import main

    real = sim.runner.run_to_directory

    def faulty(cfg, *args, **kwargs):
        if cfg.settings.seed == 2:
            raise RuntimeError("injected fault\nsecond line")
        return real(cfg, *args, **kwargs)

    monkeypatch.setattr(sim.runner, "run_to_directory", faulty)
    sweep_dir = tmp_path / "sweep"
    common = ["scale=0.0005", "end_year=2024", "progress=off", f"hydra.sweep.dir={sweep_dir}"]
    code = main(["run", "-m", "seed=1,2,3", *common])
    err = capsys.readouterr().err
    assert code == 1
    assert (
        err.count("run failed (seed=2 scale=0.0005 end_year=2024 progress=off), recorded in") == 1
    )
    assert "some runs failed; each is recorded in its folder's failed.json" in err
    _, runs = collect(sweep_dir)
    folder = "end_year=2024,scale=0.0005,seed={}".format
    assert runs.set_index("run_id").status.to_dict() == {
        folder(1): "complete",
        folder(2): "failed",
        folder(3): "complete",
    }
    failed = runs[runs.status == "failed"].iloc[0]
    assert failed.error == "RuntimeError: injected fault"
    assert failed.overrides == "seed=2 scale=0.0005 end_year=2024 progress=off"
    record = json.loads((sweep_dir / folder(2) / "failed.json").read_text())
    assert "Traceback" in record["traceback"] and "seed=2" in record["overrides"]
    listing = ronghe("collect", str(sweep_dir))
    assert listing.returncode == 0
    assert "2 complete runs" in listing.stdout and "1 failed run(s)" in listing.stdout

    monkeypatch.setattr(sim.runner, "run_to_directory", real)
    assert main(["run", "-m", "seed=1,2,3", *common]) == 0  # resumes: only seed=2 runs
    out = capsys.readouterr().out
    assert out.count("skipped (complete results of this run exist)") == 2
    _, runs = collect(sweep_dir)
    assert (runs.status == "complete").all() and not (sweep_dir / folder(2) / FAILED).exists()


def test_a_run_folder_holding_a_users_file_is_left_alone(tmp_path):
    """The run whose folder holds a file Ronghe did not write fails; the others finish."""
    sweep_dir = tmp_path / "sweep"
    mine = sweep_dir / "end_year=2024,scale=0.0005,seed=2"
    mine.mkdir(parents=True)
    (mine / "indicators.parquet").write_text("the user's own file")
    result = ronghe(
        "run",
        "-m",
        "seed=1,2",
        "scale=0.0005",
        "end_year=2024",
        "progress=off",
        f"hydra.sweep.dir={sweep_dir}",
    )
    assert result.returncode == 1
    assert "holds indicators.parquet, which Ronghe did not write" in result.stderr
    assert "nothing written" in result.stderr
    assert sorted(p.name for p in mine.iterdir()) == ["indicators.parquet"]
    assert (mine / "indicators.parquet").read_text() == "the user's own file"
    assert (sweep_dir / "end_year=2024,scale=0.0005,seed=1" / "provenance.json").is_file()


def test_a_killed_sweep_loses_nothing_and_resumes(tmp_path):
    folder = tmp_path / "sweep"
    args = [
        "run",
        "-m",
        "hydra/launcher=sequential",
        "seeds=6",
        "scale=0.002",
        "end_year=2026",
        "progress=off",
        f"hydra.sweep.dir={folder}",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while len(list(folder.glob("*/indicators.parquet"))) < 2 and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    indicators, runs = collect(folder)
    done = set(runs[runs.status == "complete"].run_id)
    assert 2 <= len(done) < 6, runs.status.tolist()
    assert set(indicators.run_id) == done  # nothing half-written is collected
    for run_id in done:
        pd.read_parquet(folder / run_id / "indicators.parquet")  # complete files only
    stamps = {r: (folder / r / "indicators.parquet").stat().st_mtime_ns for r in done}

    result = ronghe(*args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("skipped (complete results of this run exist)") == len(done)
    _, runs = collect(folder)
    assert (runs.status == "complete").all() and len(runs) == 6
    for run_id, stamp in stamps.items():  # finished runs were kept, not redone
        assert (folder / run_id / "indicators.parquet").stat().st_mtime_ns == stamp
    assert not list(folder.glob("*/.staging-*"))
