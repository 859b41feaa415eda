"""Scenario discovery: the lever ranges under which all three 2027 targets are likely met.

    python experiments/discovery/discover.py [--name main] [--replace] [--quick] \
        [--packages 384] [--draws-per-package 8] [--scale 0.01] [--threshold 0.8] \
        [--workers 2] [--seed 1] [--compare-evaluators N]

The EMA model of sim/ema.py (its levers: the twelve of goal seeking over the same
intervals; its uncertainty: the posterior draw) defines the experiment. A Latin
hypercube of lever packages (EMA's LHS sampler) is run, each package at several
posterior draws (balanced: no package meets a draw twice and every draw is used equally
often), at scale 0.01 to 2027. PRIM (ema_workbench.analysis.prim) then looks, over the
lever dimensions only, for boxes of lever ranges in which the share of cases (package x
draw) that meet all three 2027 targets reaches --threshold: of PRIM's peeling trajectory
it takes the box of highest coverage whose density reaches it (else the densest). It
does the same for each target on its own. The first box for all three is checked on
fresh packages drawn inside it (holdout). For comparison, every posterior draw runs the
baseline and the decision package as written, the package with every searched lever at
the reform end of its range, and the centre of the first box.

Writes experiments/discovery/results/<name>/ (refusing an existing folder unless
--replace): cases.csv (package, draw, seed, lever values, outcomes), boxes.csv (each
box's lever limits, quasi-p values and resampling reproducibility), box_stats.csv,
trajectory.csv (PRIM's peeling trajectories), reference.csv (the comparison packages at
every draw), holdout.csv, run.json (the settings, commit and times) and summary.md,
written from them (``--summarise`` rewrites it from the folder's files). ``--quick`` is a small
check (scale 0.002, default name ``quick``).

The runs go through sim.run_ensemble with the members the EMA model's function builds
(RongheExperiment.member), so each case is what the EMA model returns for it.
``--compare-evaluators N`` runs the first N cases both through EMA's
MultiprocessingEvaluator and through sim.run_ensemble, checks that the outcomes agree
bit for bit and prints both times; it writes nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from ema_workbench import MultiprocessingEvaluator, Sample, perform_experiments
from ema_workbench.analysis import prim
from ema_workbench.em_framework.samplers import LHSSampler

from sim.data import load_region
from sim.ema import (
    MET_OUTCOMES,
    OUTCOMES,
    TARGET_OUTCOMES,
    RongheExperiment,
    ronghe_model,
    target_outcomes,
    year_targets,
)
from sim.ensemble import run_ensemble
from sim.levers import LEVERS
from sim.posterior import load_posterior, stale_reasons

HERE = Path(__file__).resolve().parent
REFERENCE_SCENARIOS = ("baseline", "decision_package")
PRIM_OUTCOMES = ("all_met", *MET_OUTCOMES)  # all three targets, then each on its own
LABELS = {
    "city_resident_urbanisation_rate": "resident urbanisation",
    "county_area_resident_urbanisation_rate": "county-area urbanisation",
    "city_income_ratio": "urban-rural income ratio",
}
QUICK = {"packages": 24, "draws_per_package": 4, "scale": 0.002, "holdout": 8, "reference": 16}


def lever_names(model) -> list[str]:
    """The EMA model's lever names, in its order."""
    return [lever.name for lever in model.levers]


def lever_bounds(model) -> dict[str, tuple[float, float]]:
    """The range the EMA model searches for each lever."""
    return {lever.name: (lever.lower_bound, lever.upper_bound) for lever in model.levers}


def sample_packages(model, n: int, seed: int, bounds: pd.DataFrame | None = None) -> pd.DataFrame:
    """``n`` lever packages: EMA's Latin hypercube over the model's levers (or ``bounds``)."""
    levers = list(model.levers)
    if bounds is not None:
        levers = [
            type(lever)(
                lever.name, float(bounds.at[0, lever.name]), float(bounds.at[1, lever.name])
            )
            for lever in levers
        ]
    samples = LHSSampler().generate_samples(levers, n, rng=seed)
    return pd.DataFrame([dict(sample) for sample in samples])[[lv.name for lv in levers]]


def assign_draws(packages: int, per_package: int, n_draws: int, seed: int) -> np.ndarray:
    """Draws per package: distinct within a package, the least used first (random ties)."""
    rng = np.random.default_rng(seed)
    uses = np.zeros(n_draws, dtype=int)
    chosen = np.empty((packages, per_package), dtype=int)
    for j in range(packages):
        order = np.lexsort((rng.random(n_draws), uses))[:per_package]
        uses[order] += 1
        chosen[j] = np.sort(order)
    return chosen


def design(model, packages: int, per_package: int, n_draws: int, seed: int, bounds=None):
    """One row per case: ``package``, ``draw`` and the package's lever values."""
    levers = sample_packages(model, packages, seed, bounds)
    draws = assign_draws(packages, per_package, n_draws, seed)
    rows = [
        {"package": j, "draw": int(k), **levers.iloc[j].to_dict()}
        for j in range(packages)
        for k in draws[j]
    ]
    return pd.DataFrame(rows)


def run_cases(function: RongheExperiment, cases: pd.DataFrame, levers, workers: int):
    """``cases`` with each run's seed and outcomes (sim.run_ensemble over the members)."""
    members = [
        function.member(**{name: row[name] for name in levers}, draw=int(row["draw"]))
        for _, row in cases.iterrows()
    ]
    started = time.perf_counter()
    tables = run_ensemble(members, workers=workers, progress=_progress(len(members)))
    seconds = time.perf_counter() - started
    outcomes = pd.DataFrame([target_outcomes(t, function.targets) for t in tables])
    seeds = pd.Series([m["seed"] for m in members], name="seed", index=cases.index)
    return pd.concat([cases, seeds, outcomes.set_index(cases.index)], axis=1), seconds


def _progress(total: int):
    marks = {round(total * q / 10) for q in range(1, 11)}

    def report(done: int, _total: int) -> None:
        if done in marks:
            print(f"  {done}/{total} runs", file=sys.stderr, flush=True)

    return report


def reference_runs(function: RongheExperiment, packages, n_draws: int, workers: int):
    """Each ``(label, scenario, levers)`` package at the first ``n_draws`` draws."""
    frames = []
    for label, scenario, levers in packages:
        cases = pd.DataFrame({"label": label, "scenario": scenario, "draw": range(n_draws)})
        cases = cases.assign(**levers)
        frame, _ = run_cases(replace(function, scenario=scenario), cases, list(levers), workers)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def comparison_packages(bounds: dict, limits: pd.DataFrame) -> list[tuple[str, str, dict]]:
    """The scenarios as written, every lever at its reform end, and box 1's centre."""
    packages = [(f"{s} (as written)", s, {}) for s in REFERENCE_SCENARIOS]
    top = {name: high for name, (_, high) in bounds.items()}
    packages.append(("every searched lever at the reform end of its range", "baseline", top))
    first = limits[(limits.outcome == "all_met") & (limits.box == 1)]
    if len(first):
        centre = {
            r.lever: (r.low + r.high) / 2 if r.restricted else sum(bounds[r.lever]) / 2
            for r in first.itertuples()
        }
        packages.append(("centre of box 1 (all three targets)", "baseline", centre))
    return packages


def select(box, threshold: float) -> int:
    """The trajectory's box of highest coverage with density >= threshold (else densest)."""
    trajectory = box.peeling_trajectory
    reached = trajectory[trajectory["density"] >= threshold]
    if len(reached):
        return int(reached["coverage"].idxmax())
    return int(trajectory["density"].idxmax())


def discover(cases, bounds: dict, outcome: str, threshold: float, boxes: int, seed: int):
    """PRIM boxes over the levers (``bounds``: their searched ranges) for ``outcome``.

    Returns each box's lever limits, its statistics and the peeling trajectories.
    """
    levers = list(bounds)
    finder = prim.Prim(cases[levers].reset_index(drop=True), cases[outcome].to_numpy(bool))
    limits, stats, trajectories = [], [], []
    for b in range(1, boxes + 1):
        box = finder.find_box()
        if box is None:
            break
        i = select(box, threshold)
        box.select(i)
        row = box.peeling_trajectory.iloc[i]
        trajectories.append(
            box.peeling_trajectory.assign(
                outcome=outcome, box=b, selected=box.peeling_trajectory.id == i
            )
        )
        k = np.asarray(box.yi)
        stats.append(
            {
                "outcome": outcome,
                "box": b,
                "trajectory_id": i,
                "coverage": float(row["coverage"]),
                "density": float(row["density"]),
                "mass": float(row["mass"]),
                "cases": int(row["n"]),
                "cases_met": int(row["k"]),
                "packages": int(cases.iloc[k]["package"].nunique()),
                "restricted": int(row["res_dim"]),
                "reaches_threshold": bool(row["density"] >= threshold),
            }
        )
        qp = box.p_values[i]
        reproduced = _reproduced(box, i, levers, seed, first=b == 1)
        lims = box.box_lims[i]
        for name in levers:
            lever = LEVERS[name]
            restricted = name in qp
            limits.append(
                {
                    "outcome": outcome,
                    "box": b,
                    "lever": name,
                    "clause": lever.clause,
                    "unit": lever.unit,
                    "low": float(lims.at[0, name]),
                    "high": float(lims.at[1, name]),
                    "range_low": float(bounds[name][0]),
                    "range_high": float(bounds[name][1]),
                    "restricted": restricted,
                    "qp_low": _qp(qp, name, 0),
                    "qp_high": _qp(qp, name, 1),
                    "reproduce_coverage_pct": reproduced.at[name, "reproduce coverage"],
                    "reproduce_density_pct": reproduced.at[name, "reproduce density"],
                }
            )
        if row["density"] < threshold:
            break
    return pd.DataFrame(limits), pd.DataFrame(stats), pd.concat(trajectories, ignore_index=True)


def _reproduced(box, i: int, levers: list[str], seed: int, first: bool) -> pd.DataFrame:
    """Percent of PRIM runs on random halves of the cases that restrict each lever.

    Only for the first box: EMA 3.0's ``PrimBox.resample`` indexes the remaining cases'
    outcomes by the cases' original positions, which fails once a box has taken some.
    """
    if not first:
        columns = ["reproduce coverage", "reproduce density"]
        return pd.DataFrame(np.nan, index=levers, columns=columns)
    return box.resample(i, iterations=10, p=0.5, rng=seed).astype(float)


def _qp(qp: dict, name: str, side: int) -> float:
    value = qp.get(name, [-1, -1])[side]
    return float("nan") if value == -1 else float(value)


def in_box(frame: pd.DataFrame, limits: pd.DataFrame) -> pd.Series:
    """Whether each row's levers lie within the box's restricted limits."""
    inside = pd.Series(True, index=frame.index)
    for _, r in limits[limits["restricted"]].iterrows():
        inside &= frame[r["lever"]].between(r["low"], r["high"])
    return inside


def holdout_runs(model, function, limits, packages, per_package, n_draws, seed, workers):
    """Fresh packages inside the box's limits, at draws assigned anew."""
    bounds = pd.DataFrame(
        {r["lever"]: [r["low"], r["high"]] for _, r in limits.iterrows()}, index=[0, 1]
    )
    cases = design(model, packages, per_package, n_draws, seed, bounds)
    frame, _ = run_cases(function, cases, lever_names(model), workers)
    return frame


def explained(cases: pd.DataFrame, levers: list[str]) -> pd.DataFrame:
    """Share of each target indicator's variance over the cases that draws and levers explain.

    R² of least-squares fits on the draw (one indicator per draw), on the lever values
    (linear), and on both (additive).
    """
    draws = pd.get_dummies(cases["draw"]).to_numpy(float)
    values = cases[levers].to_numpy(float)
    ones = np.ones((len(cases), 1))
    rows = []
    for name in TARGET_OUTCOMES:
        y = cases[name].to_numpy(float)
        rows.append(
            {
                "indicator": name,
                "draws": _r2(draws, y),
                "levers": _r2(np.hstack([ones, values]), y),
                "both": _r2(np.hstack([draws, values]), y),
            }
        )
    return pd.DataFrame(rows)


def _r2(x: np.ndarray, y: np.ndarray) -> float:
    fitted = x @ np.linalg.lstsq(x, y, rcond=None)[0]
    return float(1 - ((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def chance(frame: pd.DataFrame, column: str = "all_met") -> tuple[float, float]:
    """Share of cases with ``column`` true and its standard error, clustered by package."""
    if "package" not in frame or frame["package"].nunique() < 2:
        p = float(frame[column].mean())
        return p, float(np.sqrt(p * (1 - p) / max(len(frame), 1)))
    means = frame.groupby("package")[column].mean()
    return float(means.mean()), float(means.std(ddof=1) / np.sqrt(len(means)))


def write_results(folder: Path, files: dict[str, pd.DataFrame | str], replace_old: bool) -> None:
    """Write ``files`` into a staging folder, then put it in place of ``folder``."""
    staging = folder.with_name(f".{folder.name}.staging")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for name, content in files.items():
        if isinstance(content, str):
            (staging / name).write_text(content, encoding="utf-8")
        else:
            content.to_csv(staging / name, index=False)
    old = folder.with_name(f".{folder.name}.old")
    if folder.exists():
        if not replace_old:  # checked before the runs; someone made it meanwhile
            raise SystemExit(f"{folder} appeared during the run; results left in {staging}")
        folder.rename(old)
    staging.rename(folder)
    if old.exists():
        shutil.rmtree(old)


def commit() -> str:
    """The checkout's commit, marked when the working tree has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty else "")


def fmt(value: float, lever: str | None = None) -> str:
    """A lever value or outcome, readable."""
    if lever is not None and LEVERS[lever].high >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def target_label(target) -> str:
    """``resident urbanisation ≥ 63%``: the target as a column heading."""
    name = f"{target.unit}_{target.indicator}"
    sign = "≤" if target.direction == "at_most" else "≥"
    value = f"{target.value:g}" if target.value > 1 else f"{target.value * 100:g}%"
    return f"{LABELS[name]} {sign} {value}"


def tradeoff(trajectory: pd.DataFrame, outcome: str, levels=(0.6, 0.7, 0.8, 0.9)) -> list[str]:
    """Box 1's peeling trajectory for ``outcome``: the widest box reaching each density."""
    lines = [
        "| density at least | step | density | coverage | cases | restricted levers |",
        "|---|---|---|---|---|---|",
    ]
    first = trajectory[(trajectory["outcome"] == outcome) & (trajectory["box"] == 1)]
    for level in levels:
        reached = first[first["density"] >= level]
        if not len(reached):
            lines.append(f"| {level:g} | – | – | – | – | – |")
            continue
        r = reached.loc[reached["coverage"].idxmax()]
        lines.append(
            f"| {level:g} | {int(r['id'])} | {r['density']:.3f} | {r['coverage']:.3f} | "
            f"{int(r['n'])} | {int(r['res_dim'])} |"
        )
    return lines


def summary(run: dict, targets, results: dict) -> str:
    """The markdown summary, from the results' tables and the run's settings (run.json)."""
    cases, limits, stats = results["cases"], results["limits"], results["stats"]
    reference, holdout = results["reference"], results["holdout"]
    seconds, threshold = run["seconds"], run["threshold"]
    uses = cases.groupby("draw").size()
    lines = [
        "# Scenario discovery: lever ranges that meet all three 2027 targets\n",
        f"{len(cases)} cases: {cases['package'].nunique()} lever packages (Latin hypercube "
        f"over the {len(run['levers'])} levers of goal seeking, each over the same "
        f"interval) x {run['draws_per_package']} posterior draws each ({uses.size} of the "
        f"{run['posterior_draws']} draws, each used {_span(uses)} times). Each case is one "
        f"run at scale {run['scale']:g} from 2023 to 2027 with the draw's parameters and "
        "seed, the levers held from 2024 on top of the baseline scenario. Seed "
        f"{run['seed']}; PRIM threshold {threshold:g}; commit {run['commit']}; "
        f"{seconds['all']:.0f} s wall on {run['workers']} workers.\n",
    ]
    if run["stale"]:
        lines.append("**Warning:** " + "; ".join(run["stale"]) + ".\n")
    lines += [
        "## Chance of meeting the targets\n",
        "Share of cases meeting each 2027 target, ± its standard error (clustered by "
        "package for the sampled packages; over the draws for the packages run at every "
        "draw).\n",
        "| cases | n | "
        + " | ".join(target_label(t) for t in targets)
        + " | all three | lever spending 2027, median (billion yuan) |",
        "|---|---|---|---|---|---|---|",
    ]
    groups = [(label, part) for label, part in reference.groupby("label", sort=False)]
    groups = [(f"{label}, every draw", part) for label, part in groups]
    groups.append(("all sampled packages", cases))
    first = limits[(limits.outcome == "all_met") & (limits.box == 1)]
    if len(first):
        inside = in_box(cases, first)
        groups += [
            ("sampled packages inside box 1", cases[inside]),
            ("sampled packages outside box 1", cases[~inside]),
        ]
    if holdout is not None:
        groups.append(("holdout: fresh packages inside box 1", holdout))
    for label, frame in groups:
        cells = []
        for column in [*MET_OUTCOMES, "all_met"]:
            p, se = chance(frame, column)
            cells.append(f"{p:.2f} ± {se:.2f}")
        spending = frame["lever_spending"].median() / 1e9
        lines.append(f"| {label} | {len(frame)} | " + " | ".join(cells) + f" | {spending:.1f} |")
    lines.append("")
    labels = {"all_met": "All three targets"}
    labels.update({f"{t.unit}_{t.indicator}_met": target_label(t).capitalize() for t in targets})
    for outcome in PRIM_OUTCOMES:
        share = float(cases[outcome].mean())
        if not (stats.outcome == outcome).any():
            verdict = (
                "no lever range needs restricting" if share >= threshold else "PRIM found no box"
            )
            lines.append(f"## {labels[outcome]}\n\nMet in {share:.1%} of all cases: {verdict}.\n")
            continue
        for _, s in stats[stats.outcome == outcome].iterrows():
            box_limits = limits[
                (limits.outcome == outcome) & (limits.box == s["box"]) & limits.restricted
            ]
            lines += _box_section(labels[outcome], s, box_limits, share, threshold)
            if s["box"] == 1:
                lines += [
                    "Along PRIM's peeling trajectory for this box, the widest box (highest "
                    "coverage) that reaches each density:\n",
                    *tradeoff(results["trajectory"], outcome),
                    "",
                ]
    shares = explained(cases, run["levers"])
    ceiling = cases.groupby("draw")["all_met"].max().mean()
    lines += [
        "## What the draws and the levers explain\n",
        "Share of each target indicator's variance over the sampled cases explained by "
        "the posterior draw, by the lever values (linear) and by both (additive), R² of "
        "least-squares fits:\n",
        "| indicator | draws | levers | both |",
        "|---|---|---|---|",
        *(
            f"| {LABELS[r.indicator]} | {r.draws:.3f} | {r.levers:.3f} | {r.both:.3f} |"
            for r in shares.itertuples()
        ),
        "",
        f"At {ceiling:.1%} of the draws at least one of the packages run there meets all "
        f"three targets; at the other {1 - ceiling:.1%} none of them does.\n",
        "## Notes\n",
        "- A box's density is the share of its cases (the packages inside it, each at its "
        "draws) that meet the targets: the chance over the posterior for a package drawn "
        "at random from the box, not for every package in it. PRIM chooses the box on "
        "these cases, so the density is optimistic; the holdout row runs fresh packages "
        "inside box 1 (all three targets), each at draws assigned anew.",
        "- Levers not listed under a box are unrestricted: any value in their range. "
        "Quasi-p values (Bryant and Lempert 2010) test whether a limit raises the density "
        "by more than chance; reproducibility is the share of 10 PRIM runs on random "
        "halves of the cases that restrict the lever (first boxes only: EMA 3.0's "
        "resampling fails on later ones).",
        f"- Timing: sampled cases {seconds['cases']:.0f} s, comparison packages "
        f"{seconds['reference']:.0f} s, holdout {seconds['holdout']:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def _span(counts: pd.Series) -> str:
    low, high = int(counts.min()), int(counts.max())
    return f"{low}" if low == high else f"{low} to {high}"


def _box_section(label: str, s: pd.Series, box_limits: pd.DataFrame, share, threshold):
    verdict = "reaches" if s["reaches_threshold"] else "does not reach"
    lines = [
        f"## {label}: PRIM box {s['box']}\n",
        f"Density {s['density']:.3f}: {s['cases_met']} of the {s['cases']} cases in the box "
        f"({s['packages']} packages) meet it, against {share:.3f} of all cases; "
        f"{verdict} the threshold {threshold:g}. Coverage {s['coverage']:.3f} (the share "
        f"of all cases meeting it that lie in the box), mass {s['mass']:.3f}, "
        f"{int(s['restricted'])} restricted levers (trajectory step {s['trajectory_id']}).\n",
        "| lever | clause | unit | box | range searched | quasi-p (low, high) | "
        "reproduced in resamples (coverage, density) |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, r in box_limits.iterrows():
        name = r["lever"]
        qp = ", ".join("–" if np.isnan(q) else f"{q:.2g}" for q in (r.qp_low, r.qp_high))
        reproduced = (
            "–"
            if np.isnan(r.reproduce_coverage_pct)
            else f"{r.reproduce_coverage_pct:.0f}%, {r.reproduce_density_pct:.0f}%"
        )
        lines.append(
            f"| `{name}` | {r.clause} | {r.unit} | {fmt(r.low, name)} to "
            f"{fmt(r.high, name)} | {fmt(r.range_low, name)} to "
            f"{fmt(r.range_high, name)} | {qp} | {reproduced} |"
        )
    lines.append("")
    return lines


RESULT_FILES = {
    "cases": "cases.csv",
    "limits": "boxes.csv",
    "stats": "box_stats.csv",
    "trajectory": "trajectory.csv",
    "reference": "reference.csv",
    "holdout": "holdout.csv",
}


def summarise(folder: Path) -> int:
    """Rewrite ``folder``'s summary.md from its tables and run.json."""
    if not (folder / "run.json").is_file():
        print(f"{folder}: no run.json, not a discovery results folder", file=sys.stderr)
        return 2
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    results = {
        key: pd.read_csv(folder / name) if (folder / name).is_file() else None
        for key, name in RESULT_FILES.items()
    }
    targets = year_targets(2027, scale=run["scale"], end_year=2027)
    (folder / "summary.md").write_text(summary(run, targets, results), encoding="utf-8")
    print(f"wrote {folder / 'summary.md'}", file=sys.stderr)
    return 0


def compare_evaluators(model, function, cases: pd.DataFrame, workers: int) -> int:
    """Time the same cases through EMA's MultiprocessingEvaluator and sim.run_ensemble."""
    levers = lever_names(model)
    policies = [Sample(**{n: row[n] for n in levers}) for _, row in cases.iterrows()]
    scenarios = [Sample(draw=int(k)) for k in cases["draw"]]
    started = time.perf_counter()
    with MultiprocessingEvaluator(model, n_processes=workers) as evaluator:
        experiments, outcomes = perform_experiments(
            model, scenarios, policies, evaluator=evaluator, combine="cycle"
        )
    ema_seconds = time.perf_counter() - started
    ours, ensemble_seconds = run_cases(function, cases, levers, workers)
    order = experiments.sort_index()
    assert (order["draw"].to_numpy() == cases["draw"].to_numpy()).all()
    same = all(
        pd.Series(outcomes[name]).equals(ours[name].reset_index(drop=True)) for name in OUTCOMES
    )
    print(
        f"{len(cases)} cases on {workers} workers: EMA MultiprocessingEvaluator "
        f"{ema_seconds:.1f} s, sim.run_ensemble {ensemble_seconds:.1f} s; outcomes "
        f"{'identical' if same else 'DIFFER'}"
    )
    return 0 if same else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", default=None, help="results folder name (main; quick with --quick)")
    ap.add_argument("--out", type=Path, default=HERE / "results")
    ap.add_argument("--replace", action="store_true", help="replace an existing results folder")
    ap.add_argument("--quick", action="store_true", help="a small check at scale 0.002")
    ap.add_argument("--packages", type=int, default=384)
    ap.add_argument("--draws-per-package", type=int, default=8)
    ap.add_argument("--scale", type=float, default=0.01)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--boxes", type=int, default=2, help="at most this many PRIM boxes")
    ap.add_argument("--holdout", type=int, default=40, help="fresh packages inside box 1")
    ap.add_argument("--reference", type=int, default=0, help="draws for the scenarios (0: all)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--compare-evaluators", type=int, default=0, metavar="N")
    ap.add_argument(
        "--summarise", action="store_true", help="rewrite summary.md of --name from its files"
    )
    args = ap.parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            if ap.get_default(key.replace("-", "_")) == getattr(args, key):
                setattr(args, key, value)
    folder = args.out / (args.name or ("quick" if args.quick else "main"))
    if args.summarise:
        return summarise(folder)
    if folder.exists() and not args.replace and not args.compare_evaluators:
        print(f"{folder} exists: choose another --name or pass --replace", file=sys.stderr)
        return 2
    posterior = load_posterior()
    args.n_posterior = len(posterior.draws)
    stale = stale_reasons(posterior, load_region())
    for reason in stale:
        print(f"warning: {reason}; refit before trusting these numbers", file=sys.stderr)
    model = ronghe_model("ronghe", scale=args.scale, end_year=2027, year=2027)
    function: RongheExperiment = model.function
    levers = lever_names(model)
    cases = design(model, args.packages, args.draws_per_package, args.n_posterior, args.seed)
    if args.compare_evaluators:
        return compare_evaluators(model, function, cases.head(args.compare_evaluators), 2)
    args.commit = commit()
    args.bounds = lever_bounds(model)
    started = time.perf_counter()
    print(f"{len(cases)} cases at scale {args.scale:g}", file=sys.stderr)
    cases, seconds_cases = run_cases(function, cases, levers, args.workers)
    found = [
        discover(
            cases, args.bounds, outcome, args.threshold, args.boxes if k == 0 else 1, args.seed
        )
        for k, outcome in enumerate(PRIM_OUTCOMES)
        if outcome == "all_met" or 0 < cases[outcome].mean() < args.threshold
    ]
    limits, stats, trajectory = (
        pd.concat(parts, ignore_index=True) for parts in zip(*found, strict=True)
    )
    print("comparison packages at every draw", file=sys.stderr)
    t = time.perf_counter()
    packages = comparison_packages(args.bounds, limits)
    n_reference = args.reference or args.n_posterior
    reference = reference_runs(function, packages, n_reference, args.workers)
    seconds_reference = time.perf_counter() - t
    holdout, seconds_holdout = None, 0.0
    first = limits[(limits.outcome == "all_met") & (limits.box == 1)]
    if len(first) and args.holdout:
        print("holdout inside box 1", file=sys.stderr)
        t = time.perf_counter()
        holdout = holdout_runs(
            model,
            function,
            first,
            args.holdout,
            args.draws_per_package,
            args.n_posterior,
            args.seed + 1,
            args.workers,
        )
        seconds_holdout = time.perf_counter() - t
    run = {
        "packages": args.packages,
        "draws_per_package": args.draws_per_package,
        "scale": args.scale,
        "threshold": args.threshold,
        "seed": args.seed,
        "workers": args.workers,
        "posterior_draws": args.n_posterior,
        "levers": levers,
        "commit": args.commit,
        "stale": stale,
        "seconds": {
            "all": time.perf_counter() - started,
            "cases": seconds_cases,
            "reference": seconds_reference,
            "holdout": seconds_holdout,
        },
    }
    results = {
        "cases": cases,
        "limits": limits,
        "stats": stats,
        "trajectory": trajectory,
        "reference": reference,
        "holdout": holdout,
    }
    text = summary(run, function.targets, results)
    files = {
        "cases.csv": cases,
        "boxes.csv": limits,
        "box_stats.csv": stats,
        "trajectory.csv": trajectory,
        "reference.csv": reference,
        "run.json": json.dumps(run, indent=1) + "\n",
        "summary.md": text,
    }
    if holdout is not None:
        files["holdout.csv"] = holdout
    write_results(folder, files, args.replace)
    print(text)
    print(f"wrote {folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
