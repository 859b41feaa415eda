"""The posterior ensemble shipped as data: ``sim/regions/suining/posterior.parquet``.

One row per draw: the calibrated parameters' values and the draw's own seed. The file's
metadata records what the draws were fitted on (git commit, the digest of Ronghe's engine,
the data and calibration hashes, the scale and the method). A posterior is data tied to
that state: :func:`stale_reasons` says what has changed since, so a run over the draws
can warn that the engine no longer is the one they were fitted to (refit with
``python experiments/calibration/history_match.py --write``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.data import DEFAULT_DATA_DIR, RegionData
from sim.errors import ConfigError
from sim.paths import engine_digest

POSTERIOR_NAME = "posterior.parquet"  # in the region's folder
POSTERIOR_FILE = DEFAULT_DATA_DIR / POSTERIOR_NAME
META_PREFIX = "ronghe."
REFIT = "python experiments/calibration/history_match.py --write"


@dataclass(frozen=True)
class PosteriorDraws:
    """The draws (one row each: parameters and ``seed``) and what they were fitted on."""

    draws: pd.DataFrame
    meta: dict[str, str]

    @property
    def parameters(self) -> list[str]:
        """The calibrated parameters (every column but ``draw`` and ``seed``)."""
        return [c for c in self.draws.columns if c not in ("draw", "seed")]

    def params_of(self, k: int) -> dict[str, float]:
        """Parameter values of draw ``k`` (for a run's ``params``)."""
        row = self.draws.iloc[k]
        return {name: float(row[name]) for name in self.parameters}


def write_posterior(draws: pd.DataFrame, meta: dict[str, str], path: Path = POSTERIOR_FILE):
    """Store ``draws`` with ``meta`` (written to a temporary name, then renamed)."""
    table = pa.Table.from_pandas(draws.reset_index(drop=True), preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), **{META_PREFIX + k: str(v) for k, v in meta.items()}}
    )
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp)
    tmp.replace(path)


def posterior_digest(path: Path | None = None) -> str:
    """SHA-256 of the posterior file (``missing`` when there is none).

    A run over the draws depends on it besides its configuration, data and code.
    """
    from sim.results import file_digest

    path = Path(path) if path is not None else POSTERIOR_FILE
    return file_digest(path) if path.is_file() else "missing"


def load_posterior(path: Path | None = None) -> PosteriorDraws:
    """Read the posterior draws and their metadata.

    Raises:
        ConfigError: No posterior file, or one without its metadata.
    """
    path = Path(path) if path is not None else POSTERIOR_FILE
    if not path.is_file():
        raise ConfigError(f"no posterior at {path}; fit one with: {REFIT}")
    table = pq.read_table(path)
    raw = table.schema.metadata or {}
    meta = {
        k.decode()[len(META_PREFIX) :]: v.decode()
        for k, v in raw.items()
        if k.decode().startswith(META_PREFIX)
    }
    if "engine_digest" not in meta and "code_digest" not in meta:
        raise ConfigError(f"{path}: no record of what it was fitted on; refit with: {REFIT}")
    return PosteriorDraws(table.to_pandas(), meta)


def stale_reasons(posterior: PosteriorDraws, region: RegionData) -> list[str]:
    """What changed since the posterior was fitted (empty: it fits this engine and data)."""
    reasons = []
    if posterior.meta.get("engine_digest") != engine_digest():
        reasons.append(
            f"the engine changed since the posterior was fitted (commit "
            f"{posterior.meta.get('commit', '?')[:12]})"
        )
    if posterior.meta.get("data_hash") != region.data_hash:
        reasons.append("the data files changed since the posterior was fitted")
    if posterior.meta.get("calibration_hash") != region.calibration_hash:
        reasons.append("the observations or priors changed since the posterior was fitted")
    return reasons


__all__ = [
    "POSTERIOR_FILE",
    "PosteriorDraws",
    "load_posterior",
    "posterior_digest",
    "stale_reasons",
    "write_posterior",
]
