"""The best lever packages of a goal-seeking sweep (``ronghe run -m +experiment=goal_seek``).

    python experiments/goal_seek/best_packages.py outputs/goal_seek/<time> [--top 10]

Reads the ``goal.json`` of every complete trial (its files checked against its
provenance by ``sim.sweeps.collect``; failed or killed trials are left out) and writes
``best_packages.md`` and ``.csv`` into the sweep folder: the packages that meet all
three targets with the required probability, cheapest first, then the closest of the
others; with their cost, the probability of meeting each target and the lever values.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from sim.goals import GOAL_FILE
from sim.levers import LEVERS
from sim.sweeps import collect


def load(sweep: Path) -> pd.DataFrame:
    rows = []
    _, runs = collect(sweep)
    for run_id in runs.loc[runs.status == "complete", "run_id"]:
        path = sweep / run_id / GOAL_FILE
        if not path.is_file():
            continue
        goal = json.loads(path.read_text(encoding="utf-8"))
        row = {"trial": path.parent.name, "objective": goal["objective"], "cost": goal["cost"]}
        row.update({f"P({k})": v for k, v in goal["probability"].items()})
        for lever, value in goal["levers"].items():
            if isinstance(value, int | float):
                row[lever] = value
        rows.append(row)
    if not rows:
        raise SystemExit(f"no goal.json under {sweep}")
    return pd.DataFrame(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sweep", type=Path)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--probability", type=float, default=0.8)
    args = ap.parse_args()
    table = load(args.sweep)
    table["feasible"] = table["P(all)"] >= args.probability
    table = table.sort_values(["feasible", "objective"], ascending=[False, True])
    best = table.head(args.top)
    levers = [c for c in best.columns if c in LEVERS]
    lines = [
        f"# Best lever packages ({len(table)} trials, {int(table.feasible.sum())} meet all "
        f"three 2027 targets with probability ≥ {args.probability})\n",
        "Cost in million yuan a year against the 2023 policy (catalogue assumptions). "
        "Probabilities over the replicate seeds of each trial.\n",
        "| trial | feasible | cost | P(urbanisation) | P(county area) | P(income ratio) | "
        "P(all) | " + " | ".join(f"`{c}`" for c in levers) + " |",
        "|" + "---|" * (7 + len(levers)),
    ]
    for _, r in best.iterrows():
        lines.append(
            f"| {r.trial} | {'yes' if r.feasible else 'no'} | {r.cost:,.0f} | "
            f"{r['P(urbanisation)']:.0%} | {r['P(county_area)']:.0%} | "
            f"{r['P(income_ratio)']:.0%} | {r['P(all)']:.0%} | "
            + " | ".join(f"{r[c]:.3g}" for c in levers)
            + " |"
        )
    text = "\n".join(lines) + "\n"
    (args.sweep / "best_packages.md").write_text(text, encoding="utf-8")
    table.to_csv(args.sweep / "best_packages.csv", index=False)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
