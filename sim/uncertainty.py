"""Where an ensemble's uncertainty comes from: parameters, base data and seeds.

An ensemble over posterior draws (``ensemble=posterior``) varies three things at once:
the model's parameters, the base year's data the model starts from (the 2023 levels of
the record, uncertain themselves) and the seeds. :func:`variance_decomposition` splits
the variance of one indicator over the ensemble's runs into those three shares.

- **Seeds**: the mean variance between the seeds of one draw, over the total variance
  (law of total variance). It needs two or more seeds per draw (``draw_seeds``); with
  one, it is not separated and the seed noise is carried by the other two shares.
- **Parameters and base data**: the rest, split by how much of the variance between
  draw means each group explains. A lasso regression of the draw means on the draws'
  inputs (sparse: a few inputs carry most of the variance) is scored out of sample
  (10-fold cross-validated R²) on the base data alone, on the parameters alone and on
  both; the two groups' Shapley values, which add up to
  the R² of both, give the split. The Shapley value is the fair division when the
  groups are correlated, as a posterior makes them (a higher 2023 urban income level
  goes with other parameters that still match the record). The share no linear fit
  explains (interactions, curvature; ``explained`` below 1) is divided in the same
  proportion: an assumption, stated wherever the shares are shown.

Which input is base data is a role in ``priors.csv`` (:data:`sim.data.schema.PRIOR_ROLES`).
This module reads results only; it never imports the engine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_DRAWS = 20  # fewer draw means cannot be split between 100 inputs out of sample
FOLDS = 10
BASE_DATA = "base_data"


@dataclass(frozen=True)
class VarianceShares:
    """Shares of an indicator's variance over an ensemble (they add up to 1).

    ``seeds`` is None when each draw ran on one seed; ``parameters`` and ``base_data``
    are None when there are too few draws (:data:`MIN_DRAWS`) or nothing to split.
    ``explained`` is the cross-validated R² of the draw means on all inputs.
    """

    parameters: float | None
    base_data: float | None
    seeds: float | None
    explained: float | None
    draws: int
    seeds_per_draw: int


def _cv_r2(x: np.ndarray, y: np.ndarray) -> float:
    """Out-of-sample R² of a lasso regression of ``y`` on ``x`` (0 if no better than the mean)."""
    from sklearn.linear_model import LassoCV
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    folds = min(FOLDS, len(y))
    smallest_training_set = len(y) - math.ceil(len(y) / folds)
    if x.shape[1] == 0 or smallest_training_set < 2:
        return 0.0
    # Sparse: a few of a hundred inputs carry most of the variance, and an ensemble may
    # have fewer draws than inputs (a ridge fit explained 12% of 100 draws where the
    # lasso explains 68%; both about 85% of 256).
    inner = min(5, smallest_training_set)
    model = make_pipeline(StandardScaler(), LassoCV(cv=inner, alphas=30, max_iter=5000))
    predicted = cross_val_predict(model, x, y, cv=KFold(folds, shuffle=True, random_state=0))
    r2 = 1.0 - float(np.mean((y - predicted) ** 2)) / float(np.var(y))
    return min(1.0, max(0.0, r2))


def variance_decomposition(
    runs: pd.DataFrame, inputs: pd.DataFrame, roles: Mapping[str, str]
) -> VarianceShares:
    """Split the variance of ``runs.value`` into parameters, base data and seeds.

    Args:
        runs: One row per run: ``draw`` and ``value``.
        inputs: One row per draw (``draw`` and one column per input; extra rows for a
            draw's other seeds are ignored).
        roles: Role of each input (``base_data``; any other role counts as parameters).

    Returns:
        The shares; see :class:`VarianceShares` for when some are None.
    """
    values = runs[["draw", "value"]].astype({"value": float})
    per_draw = values.groupby("draw")["value"]
    counts = per_draw.size()
    draws, per = len(counts), int(counts.min()) if len(counts) else 0
    total = float(values["value"].var(ddof=1)) if len(values) > 1 else 0.0
    if draws == 0 or not total > 0:
        return VarianceShares(None, None, None, None, draws, per)
    seeds = None
    if per >= 2:
        seeds = min(1.0, float(per_draw.var(ddof=1).mean()) / total)
    between = 1.0 - (seeds or 0.0)
    if draws < MIN_DRAWS:
        return VarianceShares(None, None, seeds, None, draws, per)
    means = per_draw.mean()
    x = inputs.drop_duplicates("draw").set_index("draw").reindex(means.index)
    x = x.loc[:, x.std(ddof=0) > 0]  # inputs held fixed over the draws explain nothing
    base = [c for c in x.columns if roles.get(c) == BASE_DATA]
    rest = [c for c in x.columns if c not in base]
    y = means.to_numpy()
    r_base = _cv_r2(x[base].to_numpy(), y)
    r_rest = _cv_r2(x[rest].to_numpy(), y)
    r_all = _cv_r2(x.to_numpy(), y)
    shapley_base = max(0.0, 0.5 * (r_base + r_all - r_rest))
    shapley_rest = max(0.0, 0.5 * (r_rest + r_all - r_base))
    if shapley_base + shapley_rest == 0:
        return VarianceShares(None, None, seeds, r_all, draws, per)
    # Each share from its own Shapley value, so a zero value gives exactly 0 (the
    # difference ``between - base_share`` could come out as -3e-17).
    total = shapley_base + shapley_rest
    base_share = between * shapley_base / total
    return VarianceShares(between * shapley_rest / total, base_share, seeds, r_all, draws, per)


def decomposition_table(
    table: pd.DataFrame,
    inputs: Mapping[str, pd.DataFrame],
    roles: Mapping[str, str],
    indicators: list[tuple[str, str]],
    year: int,
) -> pd.DataFrame:
    """The variance shares of ``indicators`` in ``year``, per scenario of an ensemble.

    Args:
        table: Long indicator table with ``draw`` and ``seed`` (and ``run_id`` and
            ``scenario`` for several runs).
        inputs: Each run's member inputs (``draws.csv``), by ``run_id`` (``"."`` for
            a table without one).
        roles: Role of each input.
        indicators: ``(unit, indicator)`` pairs.
        year: The year.
    """
    rows = []
    now = table[table["year"] == year]
    if "run_id" not in now.columns:
        now = now.assign(run_id=".")
    for (run_id, scenario), part in now.groupby(["run_id", "scenario"], sort=False):
        drawn = inputs.get(run_id)
        if drawn is None:
            continue
        for unit, indicator in indicators:
            runs = part[(part.unit == unit) & (part.indicator == indicator)]
            shares = variance_decomposition(runs, drawn, roles)
            rows.append(
                {"scenario": scenario, "unit": unit, "indicator": indicator, **shares.__dict__}
            )
    return pd.DataFrame(rows)


__all__ = ["VarianceShares", "decomposition_table", "variance_decomposition"]
