"""Calibrate the free income and land constants to Suining's 2023 figures.

Targets (sim/data): urban and rural per-capita disposable income in 2023 (facts.csv,
derived from the H1 figures), the composition of urban and rural income by source
(Sichuan 2020, facts.csv; property income through the collective dividend), and the
2023 share of contracted land offered for rent or
abandoned (assumptions.csv). The constants move one at a time towards their own target
(fixed-point iteration on the 2023 state of the model, which is fast and deterministic).

    python experiments/calibration/calibrate_2023.py [--scale 0.02] [--write]

``--write`` stores the results in sim/regions/suining/parameters.csv (basis "calibrated").
"""

from __future__ import annotations

import argparse

import numpy as np
from common import write_calibrated

from sim.data import load_region
from sim.levers import default_policy
from sim.model import RongheModel, RunSpec
from sim.params import resolve_params
from sim.population import synthesize
from sim.world import build_world

KNOBS = (
    "wage_core_2023",
    "urban_other_income_2023",
    "urban_other_transfers_2023",
    "commute_access_2023",
    "rural_business_income_2023",
    "remittance_share",
    "farm_capacity_per_worker",
    "collective_dividend_2023",
)


def base_year(region, world, values: dict, scale: float, seed: int):
    params = resolve_params(region, values)
    pop = synthesize(region, world, params, scale, seed)
    policy = default_policy()
    model = RongheModel(
        region,
        world,
        params,
        pop,
        RunSpec(seed=seed, scale=scale, end_year=2023),
        lambda t: policy,
    )
    t = model.tallies[0]
    years = t.person_steps / model.spy
    comp = t.component_sum.sum(axis=0) / years.sum(axis=0)[:, None]  # [rural/urban, source]
    land = t.land.sum(axis=0)
    return comp, (land[1] + land[2]) / land[0]


def targets(region):
    v = region.value
    urban_total = v("city", "urban_income", 2023)
    rural_total = v("city", "rural_income", 2023)
    u = np.array(
        [
            v("sichuan", f"urban_{k}_income", 2020)
            for k in ("wage", "operating", "property", "transfer")
        ]
    )
    r = np.array(
        [
            v("sichuan", f"rural_{k}_income", 2020)
            for k in ("wage", "operating", "property", "transfer")
        ]
    )
    offered = v("city", "land_transfer_rate", 2023) + v("city", "abandoned_land_share", 2023)
    return urban_total * u / u.sum(), rural_total * r / r.sum(), offered


def calibrate(scale: float, seed: int, iterations: int) -> dict:
    region = load_region()
    world = build_world(region)
    values = {k: region.parameters[k].value for k in KNOBS}
    urban_t, rural_t, offered_t = targets(region)
    for it in range(iterations):
        comp, offered = base_year(region, world, values, scale, seed)
        rural, urban = comp[0], comp[1]
        print(
            f"iter {it}: urban {urban.sum():8.0f} (target {urban_t.sum():.0f}) "
            f"rural {rural.sum():8.0f} (target {rural_t.sum():.0f}) offered {offered:.3f} "
            f"| urban {np.round(urban)} rural {np.round(rural)}"
        )
        damp = 0.8
        values["wage_core_2023"] *= (urban_t[0] / urban[0]) ** damp
        values["urban_other_income_2023"] *= (
            (urban_t[1] + urban_t[2]) / (urban[1] + urban[2])
        ) ** damp
        values["urban_other_transfers_2023"] = max(
            0.0, values["urban_other_transfers_2023"] + damp * (urban_t[3] - urban[3])
        )
        values["commute_access_2023"] = min(
            0.9, values["commute_access_2023"] * (rural_t[0] / rural[0]) ** damp
        )
        values["rural_business_income_2023"] = max(
            0.0, values["rural_business_income_2023"] + damp * (rural_t[1] - rural[1]) / 0.8
        )
        values["remittance_share"] = min(
            0.8, max(0.0, values["remittance_share"] + damp * (rural_t[3] - rural[3]) / 20000)
        )
        values["farm_capacity_per_worker"] *= (offered / offered_t) ** damp
        values["collective_dividend_2023"] = max(
            0.0, values["collective_dividend_2023"] + damp * (rural_t[2] - rural[2]) * 0.5
        )
    return values


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    values = calibrate(args.scale, args.seed, args.iterations)
    for k, v in values.items():
        print(f"{k} = {v:.6g}")
    if args.write:
        write_calibrated(values)


if __name__ == "__main__":
    main()
