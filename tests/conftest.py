"""Shared fixtures: region data, the place layout and a small-model runner."""

from __future__ import annotations

import numpy as np
import pytest

from sim.data import load_region
from sim.model import RongheModel, RunSpec
from sim.params import resolve_params
from sim.population import synthesize
from sim.schedules import default_plan
from sim.world import build_world


@pytest.fixture(scope="session")
def region():
    return load_region()


@pytest.fixture(scope="session")
def world(region):
    return build_world(region)


@pytest.fixture(scope="session")
def params(region):
    return resolve_params(region)


@pytest.fixture(scope="session")
def make_model(region, world):
    """Build a model: ``make_model(scale=..., seed=..., backend=..., end_year=..., **params)``."""

    def build(
        *,
        scale=0.001,
        seed=1,
        backend="numba",
        end_year=2025,
        steps_per_year=4,
        check_invariants=True,
        plan=None,
        **overrides,
    ):
        params = resolve_params(region, overrides)
        population = synthesize(region, world, params, scale, seed)
        plan = plan or default_plan()
        spec = RunSpec(
            seed=seed,
            scale=scale,
            backend=backend,
            end_year=end_year,
            steps_per_year=steps_per_year,
            check_invariants=check_invariants,
        )
        return RongheModel(region, world, params, population, spec, plan.policy_at)

    return build


def tallies_equal(a, b) -> bool:
    """True if two lists of year tallies hold identical numbers."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        for name in vars(x):
            u, v = getattr(x, name), getattr(y, name)
            if isinstance(u, np.ndarray):
                if not np.array_equal(u, v):
                    return False
            elif u != v:
                return False
    return True
