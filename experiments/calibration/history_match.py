"""Calibrate Ronghe to Suining's record: history matching with emulators, then a posterior.

    python experiments/calibration/history_match.py [--name main] [--scale 0.02] \
        [--waves 3] [--points 512] [--draws 256] [--launcher local|slurm] [--write]

Runs waves of the model at parameter points over the free priors (sim/regions/suining/priors.csv),
compares each run's moments with the record (sim/regions/suining/observations.csv), emulates them,
rules out what cannot match, and draws the posterior (method: sim/calibration.py). The
results go to experiments/calibration/results/<name>/: the waves' runs, the draws and
their own runs (the posterior predictive), informed.csv (posterior against prior width),
coverage.csv (every fitted and held-out observation against its 90% predictive
interval) and summary.md. Stopped and started again with the same settings and code, it
resumes from the last complete wave; after an edit of the engine (what sim.calibration
imports: sim.paths.engine_digest) it refuses the folder (its waves were run by another
engine), so a refit starts in a new --name. ``--write`` stores the draws in
sim/regions/suining/posterior.parquet with the commit, engine digest and data hashes they were
fitted on.

``--launcher slurm`` runs each wave as a Slurm job array (submitit; the results folder
must be visible to the nodes). Seed noise at the default scale is shown by
``--seed-noise``: the sd of each moment over 12 seeds at the prior's centre, against the
moment's error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration import (
    Plan,
    Setup,
    end_year_for,
    free_parameters,
    history_match,
    simulate,
    slurm_runner,
)
from sim.data import load_region
from sim.moments import compared
from sim.paths import engine_digest
from sim.posterior import POSTERIOR_FILE, write_posterior
from sim.results import git_commit
from sim.sweeps import replicate_seeds

HERE = Path(__file__).resolve().parent


def seed_noise(region, setup: Setup, seeds: int = 12) -> pd.DataFrame:
    """Each moment's sd over seeds at the values in use, against its error."""
    checked = compared(region.observations)
    params = pd.DataFrame([{}] * seeds)
    moments = simulate(setup, params, checked, replicate_seeds(setup.seed, seeds))
    sd = pd.Series({o.moment: o.sd for o in checked})
    return pd.DataFrame(
        {"seed_sd": moments.std(), "error_sd": sd, "ratio": moments.std() / sd}
    ).rename_axis("moment")


def posterior_meta(result: dict, region, setup: Setup) -> dict[str, str]:
    """What the draws were fitted on."""
    return {
        "commit": git_commit(HERE) or "unknown",
        "engine_digest": engine_digest(),
        "data_hash": region.data_hash,
        "calibration_hash": region.calibration_hash,
        "scale": str(setup.scale),
        "method": "history matching with GP emulators, importance resampling (sim.calibration)",
        "effective_size": f"{result['effective_size']:.0f}",
    }


def markdown_table(frame: pd.DataFrame) -> str:
    """A pipe table of ``frame`` (numbers with 4 significant digits)."""

    def cell(value) -> str:
        if isinstance(value, float | np.floating):
            return f"{value:.4g}"
        return str(value)

    lines = [
        "| " + " | ".join(map(str, frame.columns)) + " |",
        "|" + "---|" * len(frame.columns),
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines)


def summary_markdown(result: dict, setup: Setup, plan: Plan, wall: float, noise) -> str:
    informed = result["informed"]
    cover = result["coverage"]
    lines = [
        "# Calibration summary\n",
        f"Scale {setup.scale}, runs {setup.start_year}-{setup.end_year}, {len(result['names'])} "
        f"free parameters, {plan.waves} waves of {plan.points} runs, {len(result['draws'])} "
        f"posterior draws (effective sample size {result['effective_size']:.0f} of "
        f"{result['candidates']} candidates not ruled out); {wall / 60:.1f} min.\n",
        "Share of the parameter space not ruled out after each wave: "
        + ", ".join(f"{s:.1%}" for s in result["nroy"])
        + ".\n",
        "## Parameters the record informs most (posterior sd / prior sd in quantile space)\n",
        markdown_table(informed.head(15)),
        "",
        f"{int((informed.width_ratio > 0.9).sum())} of {len(informed)} parameters keep more "
        "than 90% of their prior width (prior-driven).\n",
        "## Observations against their 90% posterior predictive intervals\n",
        markdown_table(cover),
        "",
    ]
    for use in ("fit", "holdout"):
        part = cover[cover.use == use]
        lines.append(f"- {use}: {int(part.covered.sum())} of {len(part)} covered")
    if noise is not None:
        lines += [
            "",
            "## Seed noise at this scale (sd over 12 seeds, values in use)\n",
            markdown_table(noise.reset_index()),
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", default="main")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--scale", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--waves", type=int, default=3)
    ap.add_argument("--points", type=int, default=512)
    ap.add_argument("--candidates", type=int, default=200_000)
    ap.add_argument("--draws", type=int, default=256)
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--launcher", choices=("local", "slurm"), default="local")
    ap.add_argument("--slurm-tasks", type=int, default=8)
    ap.add_argument("--seed-noise", action="store_true")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    region = load_region()
    checked = compared(region.observations)
    setup = Setup(
        scale=args.scale,
        start_year=2023,
        end_year=end_year_for(checked, 2023),
        seed=args.seed,
        workers=args.workers,
    )
    plan = Plan(args.waves, args.points, args.candidates, args.draws)
    folder = args.out / args.name
    runner = None
    if args.launcher == "slurm":
        runner = slurm_runner(folder / ".slurm", tasks=args.slurm_tasks)
    started = time.perf_counter()
    result = history_match(folder, region, setup, plan, free_parameters(region), runner)
    wall = time.perf_counter() - started
    meta = posterior_meta(result, region, setup)  # before this run's own files change the tree
    noise = seed_noise(region, setup) if args.seed_noise else None
    result["informed"].to_csv(folder / "informed.csv", index=False)
    result["coverage"].to_csv(folder / "coverage.csv", index=False)
    if noise is not None:
        noise.to_csv(folder / "seed_noise.csv")
    (folder / "summary.md").write_text(
        summary_markdown(result, setup, plan, wall, noise), encoding="utf-8"
    )
    print(f"wrote {folder}/summary.md")
    if args.write:
        draws = result["draws"].reset_index()
        write_posterior(draws, meta)
        print(f"wrote {POSTERIOR_FILE} ({len(draws)} draws)")
    return 0


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    sys.exit(main())
