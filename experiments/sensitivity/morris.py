"""Global sensitivity of the 2027 target indicators: Morris elementary effects (SALib).

    .venv/bin/python experiments/sensitivity/morris.py [--trajectories 10] [--scale 0.005] \
        [--out outputs/sensitivity/morris-<time>] [--replace]

Writes into a new folder under outputs/ by default; the committed results in
experiments/sensitivity/results are replaced only when named with --out and --replace.

Factors: the behavioural parameters of ``PARAMETERS``, assumptions or sizes inferred
indirectly from a study (each over its value ±25%, within the range of
sim/regions/suining/parameters.csv) and every policy lever (its whole range, set in all
counties from 2024). Each sample point is one run to 2027 with the same seed, so the
elementary effects are not blurred by sampling noise (common random numbers). Writes
``morris.csv`` (mu*, its 95% bootstrap confidence interval, sigma, per indicator and
factor), ``morris.md`` (the top factors) and ``morris.png`` (bar charts of mu* with the
intervals), drawn from the CSV only.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.sample import morris as morris_sample

from sim.data import load_region
from sim.indicators import TARGET_INDICATORS, target_values
from sim.levers import CATALOGUE
from sim.model import RunSpec
from sim.paired import run_plan
from sim.params import resolve_params
from sim.population import synthesize
from sim.schedules import plan_from_levers
from sim.world import build_world

PARAMETERS = (
    "wage_growth",
    "labour_demand_growth",
    "farm_income_growth",
    "rural_other_growth",
    "hazard_16_24",
    "hazard_25_34",
    "beta_income",
    "beta_services",
    "beta_housing",
    "asc_home",
    "home_age_gradient",
    "stay_bonus",
    "hukou_land_fear",
    "migrant_other_income_factor",
    "labour_demand_relocation",
    "unemployed_hazard_factor",
    "land_guard_cost",
    "land_let_fear",
)
SPREAD = 0.25
LABELS = {
    ("city", "resident_urbanisation_rate"): "resident urbanisation",
    ("county_area", "resident_urbanisation_rate"): "county-area urbanisation",
    ("city", "income_ratio"): "income ratio",
}


def problem(region) -> dict:
    """The SALib problem: factor names and bounds."""
    names, bounds = [], []
    for name in PARAMETERS:
        spec = region.parameters[name]
        lo = max(spec.low, spec.value * (1 - SPREAD))
        hi = min(spec.high, spec.value * (1 + SPREAD))
        names.append(f"params.{name}")
        bounds.append([min(lo, hi), max(lo, hi)])
    for lever in CATALOGUE:
        names.append(f"levers.{lever.id}")
        bounds.append([lever.low, lever.high])
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def run_point(region, world, names, x, scale: float, seed: int, year: int) -> list[float]:
    """The target indicators in ``year`` for one sample point."""
    point = dict(zip(names, map(float, x), strict=True))
    params = resolve_params(
        region, {n.split(".", 1)[1]: v for n, v in point.items() if n.startswith("params.")}
    )
    levers = {n.split(".", 1)[1]: v for n, v in point.items() if n.startswith("levers.")}
    plan = plan_from_levers("sensitivity", levers, (2023, year))
    population = synthesize(region, world, params, scale, seed)
    spec = RunSpec(seed=seed, scale=scale, end_year=year)
    table = run_plan(region, world, params, population, spec, plan, "sensitivity")
    values = target_values(table, year)
    return [values[k] for k in TARGET_INDICATORS]


def analyse(spec: dict, X: np.ndarray, Y: np.ndarray, seed: int) -> pd.DataFrame:
    """mu*, its confidence interval and sigma for every indicator and factor."""
    frames = []
    for j, key in enumerate(TARGET_INDICATORS):
        res = morris_analyze.analyze(
            spec, X, Y[:, j], conf_level=0.95, num_resamples=1000, seed=seed
        )
        frames.append(
            pd.DataFrame(
                {
                    "indicator": LABELS[key],
                    "factor": res["names"],
                    "mu_star": res["mu_star"],
                    "mu_star_conf": res["mu_star_conf"],
                    "mu": res["mu"],
                    "sigma": res["sigma"],
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["indicator", "mu_star"], ascending=[True, False])


def plot(csv: Path, png: Path, top: int = 12) -> None:
    """Bar charts of mu* with confidence intervals, from the CSV alone."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = pd.read_csv(csv)
    indicators = list(dict.fromkeys(table["indicator"]))
    fig, axes = plt.subplots(1, len(indicators), figsize=(5.2 * len(indicators), 5.5))
    for ax, name in zip(np.atleast_1d(axes), indicators, strict=True):
        part = table[table["indicator"] == name].nlargest(top, "mu_star").iloc[::-1]
        ax.barh(part["factor"], part["mu_star"], xerr=part["mu_star_conf"], color="#3b6ea5")
        ax.set_title(name)
        ax.set_xlabel("μ* (mean |elementary effect|)")
        ax.tick_params(axis="y", labelsize=8)
    fig.suptitle("Morris sensitivity of the 2027 target indicators (95% bootstrap intervals)")
    fig.tight_layout()
    fig.savefig(png, dpi=130)
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trajectories", type=int, default=10)
    ap.add_argument("--levels", type=int, default=4)
    ap.add_argument("--scale", type=float, default=0.005)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--year", type=int, default=2027)
    ap.add_argument("--out", type=Path, help="results folder (default: a new one in outputs/)")
    ap.add_argument(
        "--replace", action="store_true", help="replace the results in an existing --out"
    )
    args = ap.parse_args()
    if args.out is None:
        args.out = Path("outputs/sensitivity") / time.strftime("morris-%Y%m%d-%H%M%S")
    if args.out.is_dir() and any(args.out.iterdir()) and not args.replace:
        ap.error(f"{args.out} holds results; add --replace to replace them, or choose --out")
    region = load_region()
    world = build_world(region)
    spec = problem(region)
    X = morris_sample.sample(spec, args.trajectories, num_levels=args.levels, seed=args.seed)
    started = time.time()
    Y = np.array(
        [run_point(region, world, spec["names"], x, args.scale, args.seed, args.year) for x in X]
    )
    elapsed = time.time() - started
    table = analyse(spec, X, Y, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    csv = args.out / "morris.csv"
    table.to_csv(csv, index=False)
    plot(csv, args.out / "morris.png")
    lines = [
        f"# Morris sensitivity of the {args.year} target indicators\n",
        f"{len(X)} runs ({args.trajectories} trajectories, {spec['num_vars']} factors, "
        f"{args.levels} levels) at scale {args.scale:g}, seed {args.seed}, in {elapsed:.0f} s. "
        "μ* is the mean absolute elementary effect over the factor's whole range (rates as "
        "fractions); ± is its 95% bootstrap interval; σ large against μ* means "
        "interactions or non-linearity.\n",
    ]
    for name in dict.fromkeys(table["indicator"]):
        part = table[table["indicator"] == name].head(10)
        lines += [f"## {name}\n", "| factor | μ* | ± | σ |", "|---|---|---|---|"]
        for _, r in part.iterrows():
            lines.append(
                f"| `{r.factor}` | {r.mu_star:.4g} | {r.mu_star_conf:.2g} | {r.sigma:.3g} |"
            )
        lines.append("")
    (args.out / "morris.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
