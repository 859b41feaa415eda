"""Prior distributions of the parameters and lever intervals (``priors.csv``).

Families: ``uniform`` on ``[low, high]``; ``normal`` (mean ``loc``, sd ``scale``) and
``lognormal`` (median ``loc``, sd of the log ``scale``), both truncated to ``[low, high]``;
``fixed``, held at the value in use (a declared choice, with its reason, not to vary it).
Draws are counter-based (:mod:`sim.rng`): the same seed gives the same draws on any
machine, and each parameter's draws do not depend on which others are drawn.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim import rng
from sim.data import PriorSpec, RegionData
from sim.errors import ConfigError


@dataclass(frozen=True)
class Prior:
    """One prior: its family and support, and the value in use (``value``)."""

    name: str
    family: str
    loc: float | None
    scale: float | None
    low: float
    high: float
    value: float | None
    basis: str
    role: str
    reasoning: str

    @property
    def free(self) -> bool:
        """Whether the calibration varies it (every family but ``fixed``)."""
        return self.family != "fixed"

    def _normal(self) -> stats.rv_continuous:
        """The truncated normal: of the value (normal) or of its log (lognormal)."""
        if self.family == "normal":
            mu, sd, lo, hi = self.loc, self.scale, self.low, self.high
        else:
            mu, sd = math.log(self.loc), self.scale
            lo, hi = math.log(self.low), math.log(self.high)
        return stats.truncnorm((lo - mu) / sd, (hi - mu) / sd, loc=mu, scale=sd)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The quantiles of ``u`` in [0, 1): maps uniform draws to prior draws."""
        u = np.asarray(u, dtype=float)
        if self.family == "fixed":
            return np.full(u.shape, self.value, dtype=float)
        if self.family == "uniform":
            return self.low + u * (self.high - self.low)
        x = self._normal().ppf(u)
        return np.exp(x) if self.family == "lognormal" else x

    def logpdf(self, x: np.ndarray) -> np.ndarray:
        """The log density at ``x`` (``-inf`` outside the support)."""
        x = np.asarray(x, dtype=float)
        inside = (x >= self.low) & (x <= self.high)
        if self.family == "uniform":
            return np.where(inside, -math.log(self.high - self.low), -np.inf)
        if self.family == "normal":
            return np.where(inside, self._normal().logpdf(x), -np.inf)
        if self.family == "lognormal":
            with np.errstate(divide="ignore", invalid="ignore"):
                log_x = np.log(np.where(inside, x, self.low))
            return np.where(inside, self._normal().logpdf(log_x) - log_x, -np.inf)
        raise ConfigError(f"prior {self.name}: a fixed parameter has no density")

    def quantiles(self, q=(0.05, 0.5, 0.95)) -> tuple[float, ...]:
        """Quantiles of the prior (the value in use for a fixed one)."""
        return tuple(float(v) for v in self.ppf(np.asarray(q)))


def _prior(spec: PriorSpec, value: float | None) -> Prior:
    low = spec.low if spec.low is not None else value
    high = spec.high if spec.high is not None else value
    return Prior(
        name=spec.name,
        family=spec.family,
        loc=spec.loc,
        scale=spec.scale,
        low=float(low) if low is not None else math.nan,
        high=float(high) if high is not None else math.nan,
        value=value,
        basis=spec.basis,
        role=spec.role,
        reasoning=spec.reasoning,
    )


def priors_of(region: RegionData) -> dict[str, Prior]:
    """Every prior of ``region``, with the value in use of what it is a prior of.

    A lever interval whose central value is the catalogue's default (``None`` in the
    evidence file) has ``value`` None.
    """
    central = {f"lever:{e.lever}.{e.parameter}": e.central for e in region.lever_evidence}
    out = {}
    for name, spec in region.priors.items():
        value = central.get(name) if name.startswith("lever:") else region.parameters[name].value
        out[name] = _prior(spec, value)
    return out


def _stream(name: str) -> int:
    """A parameter's own stream of draws: 62 bits of a hash of its whole name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little") >> 2


def draw(priors: dict[str, Prior], n: int, seed: int) -> pd.DataFrame:
    """``n`` draws from the free priors, one column each (counter-based, reproducible).

    Each parameter's draws use its own stream, keyed by its name, so adding a prior does
    not change the draws of the others.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ConfigError(f"draws={n!r}: allowed an integer >= 0")
    ids = np.arange(n, dtype=np.int64)
    columns = {}
    for name, prior in priors.items():
        if not prior.free:
            continue
        u = rng.uniforms(seed, _stream(name), ids, rng.PRIOR_DRAW)
        columns[name] = prior.ppf(u)
    return pd.DataFrame(columns, index=pd.RangeIndex(n, name="draw"))


__all__ = ["Prior", "draw", "priors_of"]
