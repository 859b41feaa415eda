"""Sweep throughput: the basic launcher against joblib on local cores, and the cost per run.

Run from the project root (after ``./go test`` has installed it):

    .venv/bin/python benchmarks/bench_sweeps.py [--runs 100] [--scale 0.05] [--workers 2]
                                                [--rounds 3]

Prints, in one run on this machine:

1. ``--runs`` runs (seeds derived with ``seeds=N``) at a small scale through
   ``hydra/launcher=sequential`` (Hydra's basic launcher, one process) and through
   ``hydra/launcher=cores`` with ``--workers`` joblib workers, both with ``threads=1``:
   wall time, runs per minute and the speed-up (target >= 1.7 on 2 workers). The two
   sweeps are run back to back ``--rounds`` times, alternating which goes first, and the
   median speed-up is reported with every round's, because this machine is noisy;
2. the fixed cost of one run: a single ``ronghe run`` process (interpreter start,
   imports, configuration, loading the compiled kernels from numba's cache) minus the
   model's own time, and the one-off cost of compiling the kernels into an empty cache;
3. whether workers recompiled: the slowest run of the joblib sweep against the median.

Results are written to ``benchmarks/results/sweeps.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim.sweeps import collect

ROOT = Path(__file__).resolve().parent.parent


def ronghe(args: list[str], env: dict | None = None) -> float:
    """Run ``ronghe`` with ``args``; return the wall time in seconds."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "sim.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"ronghe {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return wall


def model_times(folder: Path) -> list[float]:
    """Wall time of each run's model and I/O, from its provenance."""
    _, runs = collect(folder)
    return [float(t) for t in runs["wall_time_s"]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--end-year", type=int, default=2035)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    common = [
        f"seeds={args.runs}",
        f"scale={args.scale}",
        f"end_year={args.end_year}",
        "threads=1",
        "progress=off",
    ]
    out: dict = {"host": platform.node(), "cpus": os.cpu_count(), "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ronghe(["run", "scale=0.0005", "end_year=2024", f"hydra.run.dir={tmp / 'warm'}"])

        # 2. Fixed cost of one run, with the kernels cached, and compiling them afresh.
        single = ronghe(
            [
                "run",
                f"scale={args.scale}",
                f"end_year={args.end_year}",
                "progress=off",
                f"hydra.run.dir={tmp / 'one'}",
            ]
        )
        prov = json.loads((tmp / "one" / "provenance.json").read_text())
        cold_env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp / "empty-cache"))
        cold = ronghe(
            [
                "run",
                f"scale={args.scale}",
                f"end_year={args.end_year}",
                "progress=off",
                f"hydra.run.dir={tmp / 'cold'}",
            ],
            env=cold_env,
        )
        out["single_run_process_s"] = round(single, 2)
        out["single_run_model_s"] = prov["wall_time_s"]
        out["fixed_cost_per_process_s"] = round(single - prov["wall_time_s"], 2)
        out["compile_into_empty_cache_s"] = round(cold - single, 2)

        # 1. The sweep through both launchers, back to back, in alternating order.
        def sweep(launcher: list[str], folder: Path) -> float:
            return ronghe(["run", "-m", *launcher, *common, f"hydra.sweep.dir={folder}"])

        launchers = {
            "basic": ["hydra/launcher=sequential"],
            "joblib": ["hydra/launcher=cores", f"hydra.launcher.n_jobs={args.workers}"],
        }
        rounds = []
        for k in range(args.rounds):
            order = ("basic", "joblib") if k % 2 == 0 else ("joblib", "basic")
            walls = {name: sweep(launchers[name], tmp / f"{name}-{k}") for name in order}
            basic_runs = model_times(tmp / f"basic-{k}")
            joblib_runs = model_times(tmp / f"joblib-{k}")
            assert len(basic_runs) == len(joblib_runs) == args.runs
            rounds.append(
                {
                    "first": order[0],
                    "basic_wall_s": round(walls["basic"], 2),
                    "joblib_wall_s": round(walls["joblib"], 2),
                    "speedup": round(walls["basic"] / walls["joblib"], 3),
                    "median_run_model_s": round(statistics.median(basic_runs), 3),
                    # A worker that recompiled would show a run tens of seconds long.
                    "joblib_slowest_run_s": round(max(joblib_runs), 3),
                    "joblib_median_run_s": round(statistics.median(joblib_runs), 3),
                }
            )
            print(f"round {k + 1}: {rounds[-1]}", flush=True)
            for name in order:
                shutil.rmtree(tmp / f"{name}-{k}")
        middle = sorted(rounds, key=lambda r: r["speedup"])[len(rounds) // 2]
        out.update(
            runs=args.runs,
            scale=args.scale,
            end_year=args.end_year,
            workers=args.workers,
            rounds=len(rounds),
            speedup_median=middle["speedup"],
            speedups=[r["speedup"] for r in rounds],
            basic_wall_s=middle["basic_wall_s"],
            joblib_wall_s=middle["joblib_wall_s"],
            basic_runs_per_minute=round(60 * args.runs / middle["basic_wall_s"], 1),
            joblib_runs_per_minute=round(60 * args.runs / middle["joblib_wall_s"], 1),
            median_run_model_s=middle["median_run_model_s"],
            basic_overhead_per_run_s=round(
                middle["basic_wall_s"] / args.runs - middle["median_run_model_s"], 3
            ),
            joblib_slowest_run_s=max(r["joblib_slowest_run_s"] for r in rounds),
            joblib_median_run_s=middle["joblib_median_run_s"],
            per_round=rounds,
        )
    for key, value in out.items():
        print(f"{key:32} {value}")
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "sweeps.json").write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
