"""Engine benchmark: full-scale run, numba vs Mesa-agent throughput, step vs state copy.

Run from the project root (after ``./go test`` or ``./go main`` has installed it):

    .venv/bin/python benchmarks/bench_engine.py [--full-scale 1.0] [--small-scale 0.005]

Prints, in one run on this machine:

1. the full-scale baseline 2023-2035 with ``backend=numba`` through ``ronghe run``: wall
   time and peak memory of the process (compiled kernels warmed up by tiny runs on one
   and two threads first, which compile both forms of every kernel);
2. runs per minute of an ensemble (:func:`sim.ensemble.run_ensemble`) of seeds at scale
   0.02 to 2035 on two worker processes;
3. person-steps per second of ``backend=numba`` and ``backend=agents`` on the same 1:200
   population, and their ratio;
4. the time of one step at full scale divided by the time of one copy of the person
   state arrays;
5. with another process keeping one core busy, the throughput of the default thread
   count (``threads=0``) and of two threads over one thread, at 1:200 and at full
   scale;
6. the cold start: a tiny run compiling into an empty numba cache.

Figures are measured side by side in the same run, since machines here are noisy. The
results are also written to ``benchmarks/results/engine.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba

from sim import threads
from sim.config import LAST_YEAR
from sim.data import load_region
from sim.levers import default_policy
from sim.model import RongheModel, RunSpec
from sim.params import resolve_params
from sim.population import synthesize
from sim.world import build_world

ROOT = Path(__file__).resolve().parents[1]


def full_scale_run(scale: float) -> dict:
    """Wall time and peak memory of ``ronghe run`` at ``scale`` (a fresh process)."""
    ronghe = [sys.executable, "-m", "sim.cli", "run"]
    with tempfile.TemporaryDirectory() as tmp:
        for threads in (1, 2):  # both compiled forms of the kernels (sim.kernels.Kernel)
            subprocess.run(
                [
                    *ronghe,
                    "scale=0.0005",
                    "end_year=2024",
                    f"threads={threads}",
                    f"hydra.run.dir={tmp}/warm{threads}",
                ],
                check=True,
                capture_output=True,
            )
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        done = subprocess.run(
            [
                *ronghe,
                f"scale={scale}",
                "end_year=2035",
                "progress=off",
                f"hydra.run.dir={tmp}/full",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        prov = json.loads(Path(tmp, "full", "provenance.json").read_text())
    # The largest child is the full run, unless the warm-up was larger (then use its own).
    peak_mb = prov["peak_memory_mb"] if peak_kb <= before else peak_kb / 1024
    return {
        "scale": scale,
        "agents": prov["agents_initial"],
        "wall_s": round(wall, 2),
        "model_wall_s": prov["wall_time_s"],
        "peak_memory_mb": round(peak_mb, 1),
        "summary": [line for line in done.stdout.splitlines() if "target" in line],
    }


def _model(region, world, params, scale: float, backend: str, seed: int = 1):
    """A model before its first step, on the threads a run's default (threads=0) gives."""
    population = synthesize(region, world, params, scale, seed)
    threads.configure(0, agents=population.persons.n)
    policy = default_policy()
    # The last simulable year: the contention rounds take more steps than 2023-2035 has.
    spec = RunSpec(seed=seed, scale=scale, backend=backend, end_year=LAST_YEAR)
    return RongheModel(region, world, params, population, spec, lambda t: policy)


def throughput(
    region, world, params, scale: float, numba_steps: int, agent_steps: int, rounds: int
) -> dict:
    """Person-steps per second of both backends on the same population.

    The two backends take turns (``rounds`` times) so that machine noise hits both; the
    medians over rounds are reported.
    """
    models = {
        "numba": _model(region, world, params, scale, "numba"),
        "agents": _model(region, world, params, scale, "agents"),
    }
    steps = {"numba": numba_steps, "agents": agent_steps}
    for model in models.values():
        model.step()  # compile / warm up
    rates = {name: [] for name in models}
    persons = 0
    for _ in range(rounds):
        for name, model in models.items():
            done, elapsed = 0, 0.0
            for _ in range(steps[name]):
                alive = int(model.backend.export()[0].alive.sum())  # not timed
                started = time.perf_counter()
                model.step()
                elapsed += time.perf_counter() - started
                done += alive
            rates[name].append(done / elapsed)
            persons = alive
    out = {
        name: {
            "steps_per_round": steps[name],
            "rounds": rounds,
            "person_steps_per_s": statistics.median(r),
            "all": r,
        }
        for name, r in rates.items()
    }
    out["ratio"] = out["numba"]["person_steps_per_s"] / out["agents"]["person_steps_per_s"]
    out["scale"] = scale
    out["persons"] = persons
    return out


def step_vs_copy(region, world, params, scale: float, steps: int) -> dict:
    """Median step time over median copy time of the person arrays, at ``scale``."""
    model = _model(region, world, params, scale, "numba")
    model.step()
    step_times, copy_times = [], []
    for _ in range(steps):
        started = time.perf_counter()
        model.step()
        step_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        model.backend.persons.copy()
        copy_times.append(time.perf_counter() - started)
    step, copy = statistics.median(step_times), statistics.median(copy_times)
    return {
        "persons": model.backend.persons.n,
        "step_s": round(step, 4),
        "copy_s": round(copy, 4),
        "step_over_copy": step / copy,
    }


def cold_start() -> dict:
    """Wall time of a tiny ``ronghe run`` compiling into an empty numba cache, and warm.

    One thread compiles the serial forms of the kernels (what small runs use); two
    threads then compile the parallel forms (what full-scale runs use).
    """
    ronghe = [sys.executable, "-m", "sim.cli", "run", "scale=0.0005", "end_year=2024"]
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NUMBA_CACHE_DIR=str(Path(tmp, "empty-cache")))
        for label, threads_ in (("one_thread_s", 1), ("two_threads_s", 2), ("warm_s", 2)):
            started = time.perf_counter()
            subprocess.run(
                [*ronghe, f"threads={threads_}", f"hydra.run.dir={tmp}/{label}"],
                check=True,
                capture_output=True,
                env=env,
            )
            out[label] = round(time.perf_counter() - started, 2)
    return out


def ensemble_rate(scale: float, runs: int, workers: int) -> dict:
    """Runs per minute of :func:`sim.ensemble.run_ensemble`: ``runs`` seeds to 2035.

    Timed from the call to the last table, so the workers' start and their loading of the
    compiled kernels count.
    """
    from sim.ensemble import run_ensemble
    from sim.sweeps import replicate_seeds

    members = [{"seed": s, "scale": scale, "end_year": 2035} for s in replicate_seeds(1, runs)]
    started = time.perf_counter()
    tables = run_ensemble(members, workers=workers)
    wall = time.perf_counter() - started
    assert len(tables) == runs
    return {
        "scale": scale,
        "runs": runs,
        "workers": workers,
        "end_year": 2035,
        "wall_s": round(wall, 2),
        "runs_per_min": runs / wall * 60,
    }


def contention(region, world, params, scale: float, steps: int, rounds: int) -> dict:
    """Throughput with the default thread count and with 1 and 2 threads, one core busy.

    A busy-loop process holds one core throughout, as another user's job would. The
    thread counts take turns on one model (``rounds`` times); medians are reported.
    """
    from sim.threads import configure

    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        model = _model(region, world, params, scale, "numba")
        default = configure(0, agents=model.backend.persons.n)
        model.step()
        counts = sorted({1, default, min(2, numba.config.NUMBA_NUM_THREADS)})
        rates = {n: [] for n in counts}
        for _ in range(rounds):
            for n in counts:
                numba.set_num_threads(n)
                done, elapsed = 0, 0.0
                for _ in range(steps):
                    persons = model.backend.state()[0]
                    alive = int(persons.alive[: persons.n].sum())
                    started = time.perf_counter()
                    model.step()
                    elapsed += time.perf_counter() - started
                    done += alive
                rates[n].append(done / elapsed)
    finally:
        busy.kill()
        busy.wait()
    median = {n: statistics.median(r) for n, r in rates.items()}
    two = min(2, numba.config.NUMBA_NUM_THREADS)
    return {
        "scale": scale,
        "persons": model.backend.persons.n,
        "threads_default": default,
        "person_steps_per_s": {str(n): m for n, m in median.items()},
        "two_over_one": median[default] / median[1],
        "forced_two_over_one": median[two] / median[1],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full-scale", type=float, default=1.0)
    ap.add_argument("--small-scale", type=float, default=0.005)
    ap.add_argument("--numba-steps", type=int, default=12)
    ap.add_argument("--agent-steps", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--copy-steps", type=int, default=8)
    ap.add_argument("--ensemble-scale", type=float, default=0.02)
    ap.add_argument("--ensemble-runs", type=int, default=60)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    os.chdir(ROOT)
    # Ronghe's threading layer, chosen before anything here starts numba's threads (the
    # thread count printed below would otherwise start OpenMP's).
    threads.prepare()
    region = load_region()
    world = build_world(region)
    params = resolve_params(region)

    full = full_scale_run(args.full_scale)
    print(
        f"1. full scale (scale={full['scale']}, {full['agents']:,} agents) 2023-2035, "
        f"backend=numba, {numba.get_num_threads()} threads:"
    )
    print(
        f"   wall time {full['wall_s']:.1f} s for `ronghe run` (model and I/O "
        f"{full['model_wall_s']:.1f} s), peak memory {full['peak_memory_mb']:.0f} MB "
        f"(targets: <= 12 s, <= 1000 MB)"
    )
    for line in full["summary"]:
        print("  " + line)

    # Before any kernel runs in this process, so the ensemble's workers fork from a
    # process without numba threads, as a user's script would.
    ens = ensemble_rate(args.ensemble_scale, args.ensemble_runs, args.workers)
    print(
        f"2. ensemble: {ens['runs']} runs at scale {ens['scale']} to 2035 on {ens['workers']} "
        f"workers in {ens['wall_s']:.1f} s: {ens['runs_per_min']:.0f} runs/min "
        "(target >= 300)"
    )

    tp = throughput(
        region, world, params, args.small_scale, args.numba_steps, args.agent_steps, args.rounds
    )
    print(f"3. 1:{round(1 / tp['scale'])} population ({tp['persons']:,} persons):")
    for name in ("numba", "agents"):
        r = tp[name]
        rounds = ", ".join(f"{x:,.0f}" for x in r["all"])
        print(
            f"   backend={name:<7}{r['person_steps_per_s']:>12,.0f} person-steps/s (median of "
            f"{r['rounds']} interleaved rounds of {r['steps_per_round']} steps: {rounds})"
        )
    print(f"   ratio numba/agents {tp['ratio']:.0f}x (target >= 300x)")

    sc = step_vs_copy(region, world, params, args.full_scale, args.copy_steps)
    print(
        f"4. one step at full scale ({sc['persons']:,} person slots): {sc['step_s'] * 1000:.0f}"
        f" ms; one copy of the person arrays: {sc['copy_s'] * 1000:.1f} ms; "
        f"step / copy = {sc['step_over_copy']:.1f} (target <= 8)"
    )

    ct = contention(region, world, params, args.small_scale, args.numba_steps, args.rounds)
    ct_full = contention(region, world, params, args.full_scale, 3, 2)
    for label, c in (("5.", ct), ("  ", ct_full)):
        print(
            f"{label} one core busy elsewhere, scale {c['scale']} ({c['persons']:,} persons): "
            f"the default ({c['threads_default']} thread(s)) runs at {c['two_over_one']:.2f}x "
            f"one thread (target >= 0.9x); two threads forced: {c['forced_two_over_one']:.2f}x"
        )

    cold = cold_start()
    print(
        f"6. cold start (tiny run, empty numba cache): {cold['one_thread_s']:.1f} s on one "
        f"thread (target <= 30 s); then {cold['two_threads_s']:.1f} s on two threads "
        f"(compiles the parallel forms); warm {cold['warm_s']:.1f} s"
    )

    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "machine": platform.node(),
        "cpus": os.cpu_count(),
        "python": sys.version,
        "full_scale": full,
        "throughput": tp,
        "step_vs_copy": sc,
        "contention": {**ct, "full_scale": ct_full},
        "ensemble": ens,
        "cold_start": cold,
        "when_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (out / "engine.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
