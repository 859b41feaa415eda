"""Calibrate the migration constants and the hukou application rate to the recent record.

Targets, averaged over the first two simulated years (2024-2025) of the baseline:

* resident population: -0.61% a year (274.8万 in 2023 against 278.2万 in 2021);
* resident urbanisation: +0.785 points a year (59.78% in 2023 against 58.21% in 2021);
* registered urbanisation: +0.85 points a year (27.69% in 2019 to 30.23% in 2022; the
  2023 fall of 1.05 points is treated as a definitional break).

Only the first years are matched: later years, including 2027, follow from the rules.
The knobs are ``asc_outside`` (pull of destinations outside Suining), ``asc_core`` and
``asc_town`` moved together (pull of Suining's towns and seats over the home village)
and ``hukou_apply_rate``; each moves in proportion to its own gap.

    python experiments/calibration/calibrate_trends.py [--scale 0.02] [--seeds 2] [--write]
"""

from __future__ import annotations

import argparse

import numpy as np
from common import write_calibrated

from sim.data import load_region
from sim.indicators import indicator_table
from sim.levers import default_policy
from sim.model import RongheModel, RunSpec
from sim.params import resolve_params
from sim.population import synthesize
from sim.world import build_world

TARGETS = {"population": -0.0061, "urbanisation": 0.00785, "registered_urbanisation": 0.0085}


def trends(region, world, values: dict, scale: float, seeds: list[int]) -> dict:
    out = {k: [] for k in TARGETS}
    for seed in seeds:
        params = resolve_params(region, values)
        pop = synthesize(region, world, params, scale, seed)
        model = RongheModel(
            region,
            world,
            params,
            pop,
            RunSpec(seed=seed, scale=scale, end_year=2025),
            lambda t: default_policy(),
        )
        model.run()
        t = indicator_table(
            model.tallies,
            weight=model.weight,
            steps_per_year=model.spy,
            county_area=["anju"],
            scenario="calibration",
            seed=seed,
        )
        city = t[t.unit == "city"].pivot(index="year", columns="indicator", values="value")
        out["population"].append(
            (city.loc[2025, "resident_population"] / city.loc[2023, "resident_population"]) ** 0.5
            - 1
        )
        out["urbanisation"].append(
            (
                city.loc[2025, "resident_urbanisation_rate"]
                - city.loc[2023, "resident_urbanisation_rate"]
            )
            / 2
        )
        out["registered_urbanisation"].append(
            (
                city.loc[2025, "registered_urbanisation_rate"]
                - city.loc[2023, "registered_urbanisation_rate"]
            )
            / 2
        )
    return {k: float(np.mean(v)) for k, v in out.items()}


def calibrate(scale: float, seeds: list[int], iterations: int) -> dict:
    region = load_region()
    world = build_world(region)
    knobs = ("asc_outside", "asc_core", "asc_town", "hukou_apply_rate")
    values = {k: region.parameters[k].value for k in knobs}
    for it in range(iterations):
        got = trends(region, world, values, scale, seeds)
        print(
            f"iter {it}: "
            + "  ".join(f"{k} {got[k]:+.4f} (target {TARGETS[k]:+.4f})" for k in TARGETS)
            + "  | "
            + "  ".join(f"{k}={v:.4g}" for k, v in values.items()),
            flush=True,
        )
        values["asc_outside"] += 0.6 * (got["population"] - TARGETS["population"]) / 0.012
        shift = 0.6 * (TARGETS["urbanisation"] - got["urbanisation"]) / 0.005
        values["asc_core"] += shift
        values["asc_town"] += shift
        ratio = TARGETS["registered_urbanisation"] / max(got["registered_urbanisation"], 1e-4)
        values["hukou_apply_rate"] = float(
            np.clip(values["hukou_apply_rate"] * ratio**0.8, 0.001, 0.5)
        )
    return values


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.02)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=8)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    values = calibrate(args.scale, list(range(1, args.seeds + 1)), args.iterations)
    for k, v in values.items():
        print(f"{k} = {v:.6g}")
    if args.write:
        write_calibrated(values)


if __name__ == "__main__":
    main()
