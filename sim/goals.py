"""Goal seeking: how likely a lever package meets the 2027 targets, and what it costs.

A goal run (``goal.replicates > 0``; :func:`sim.runner.run_to_directory`) runs the
configured scenario and lever overrides on several replicate seeds; :func:`assess`
checks the three target indicators of the target year against the decision's targets
and prices the package with the catalogue's lever costs. The Optuna sweeper
(``+experiment=goal_seek``) minimises the returned objective: the package's cost, plus
a penalty while the probability of meeting all three targets is below the required one.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.indicators import TARGET_INDICATORS, target_values
from sim.levers import default_policy, lever_defaults, package_cost

GOAL_FILE = "goal.json"
TARGET_NAMES = {
    ("city", "resident_urbanisation_rate"): "urbanisation",
    ("county_area", "resident_urbanisation_rate"): "county_area",
    ("city", "income_ratio"): "income_ratio",
}
GAP_UNIT = 0.01  # one point of a rate, or 0.01 of the income ratio


@dataclasses.dataclass(frozen=True)
class GoalResult:
    """One package on several seeds."""

    objective: float
    cost: float
    probability: dict[str, float]
    mean_gap: dict[str, float]
    seeds: list[int]
    levers: dict

    def to_json(self) -> str:
        """The result as JSON text."""
        return json.dumps(dataclasses.asdict(self), indent=2, ensure_ascii=False, default=str)


def _gap(value: float, target) -> float:
    """Shortfall from the target in GAP_UNITs (0 when met)."""
    short = value - target.value if target.direction == "at_most" else target.value - value
    return max(0.0, short) / GAP_UNIT


def assess(tables: list[pd.DataFrame], region, scenario, goal, targets) -> GoalResult:
    """Probability of meeting each target, mean shortfalls, cost and the objective.

    Args:
        tables: Indicator tables of the package on each replicate seed.
        region: Region data (counties).
        scenario: The composed scenario (its lever plan is priced in the target year).
        goal: :class:`~sim.config.GoalSettings`.
        targets: The run's targets (:func:`~sim.config.run_targets`).
    """
    targets = {(t.unit, t.indicator): t for t in targets if t.year == goal.year}
    met, gaps = [], []
    for table in tables:
        values = target_values(table, goal.year)
        met.append([bool(targets[k].met(values[k])) for k in TARGET_INDICATORS])
        gaps.append([_gap(values[k], targets[k]) for k in TARGET_INDICATORS])
    first = tables[0]
    residents = first[(first.year == first.year.min()) & (first.indicator == "resident_population")]
    by_county = residents.set_index("unit")["value"]
    weights = np.array([by_county[c.key] for c in region.counties])
    policy = scenario.plan.policy_at(float(goal.year))
    cost = package_cost(
        policy.values, weights / weights.sum(), default_policy(lever_defaults(region))
    )
    met_arr, gap_arr = np.array(met), np.array(gaps)
    names = [TARGET_NAMES[k] for k in TARGET_INDICATORS]
    probability = {n: float(met_arr[:, i].mean()) for i, n in enumerate(names)}
    probability["all"] = float(met_arr.all(axis=1).mean())
    mean_gap = {n: float(gap_arr[:, i].mean()) for i, n in enumerate(names)}
    shortfall = max(0.0, goal.probability - probability["all"])
    # While infeasible, the mean shortfalls tell the sampler which way the targets lie.
    penalty = goal.penalty * (shortfall + sum(mean_gap.values())) if shortfall > 0 else 0.0
    return GoalResult(
        objective=float(cost + penalty),
        cost=float(cost),
        probability=probability,
        mean_gap=mean_gap,
        seeds=[int(t.seed.iloc[0]) for t in tables],
        levers=scenario.levers,
    )


def read_goal(run_dir: Path) -> dict | None:
    """The stored goal result of a run, if it has one."""
    path = run_dir / GOAL_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


__all__ = ["GOAL_FILE", "GoalResult", "assess", "read_goal"]
