"""Sweeps: replicate seeds, resumable runs, failure records and collection.

A sweep is a Hydra multirun: one run directory per job under the sweep directory. A run
directory is *complete* when its results were renamed into place (``indicators.parquet``
and ``provenance.json``), *failed* when the job recorded ``failed.json``, and
*incomplete* otherwise (a killed or still running job). Running the same sweep again
into the same directory skips complete runs of the same configuration, data and code,
and runs the rest.
"""

from __future__ import annotations

import json
import os
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.errors import ConfigError
from sim.results import publish_folder
from sim.rng import REPLICATE_SEED, hash4

FAILED = "failed.json"
COLLECTED = "collected"


def replicate_seeds(base: int, n: int) -> list[int]:
    """``n`` distinct seeds derived from ``base`` (the first is ``base`` itself).

    The same base gives the same seeds for every scenario, so comparisons are paired.
    """
    seeds = [int(base)]
    k = 1
    while len(seeds) < n:
        seed = int(hash4(base, 0, k, REPLICATE_SEED)) >> 33  # 31-bit, easy to read and type
        if seed not in seeds:
            seeds.append(seed)
        k += 1
    return seeds


def expand_replicates(overrides: list[str], multirun: bool) -> list[str]:
    """Replace ``seeds=N`` by ``seed=s1,...,sN`` derived from ``seed`` (default 1).

    Raises:
        ConfigError: ``seeds`` is not a positive integer, is combined with a swept
            ``seed``, or is used without ``-m``.
    """
    wanted = [o for o in overrides if o.startswith("seeds=")]
    if not wanted:
        return overrides
    raw = wanted[-1].split("=", 1)[1]
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise ConfigError(f"seeds={raw!r}: allowed an integer in [1, 100000]")
    if not multirun and int(raw) > 1:
        raise ConfigError(f"seeds={raw}: replicates need a multirun (ronghe run -m ...)")
    base = 1
    rest = []
    for o in overrides:
        if o.startswith("seeds="):
            continue
        if o.startswith("seed="):
            value = o.split("=", 1)[1]
            if not value.isdigit():
                raise ConfigError(f"{o}: with seeds=N give one base seed (seed=INTEGER)")
            base = int(value)
            continue
        rest.append(o)
    return [*rest, "seed=" + ",".join(map(str, replicate_seeds(base, int(raw))))]


@dataclass(frozen=True)
class RunKey:
    """What must match for a finished run to be reused: configuration, data and code."""

    config_hash: str
    data_hash: str
    code: str | None


def is_complete(run_dir: Path, key: RunKey) -> bool:
    """True if ``run_dir`` holds complete results of the run ``key`` describes."""
    prov_path = run_dir / "provenance.json"
    if not (run_dir / "indicators.parquet").is_file() or not prov_path.is_file():
        return False
    try:
        prov = json.loads(prov_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return (
        prov.get("config_hash") == key.config_hash
        and prov.get("data_hash") == key.data_hash
        and prov.get("git_commit") == key.code
    )


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def record_failure(run_dir: Path, exc: BaseException, overrides: list[str]) -> None:
    """Write ``failed.json`` (error, type, overrides, traceback) into ``run_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    record = {
        "error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        "type": type(exc).__name__,
        "overrides": overrides,
        "traceback": "".join(traceback.format_exception(exc)),
    }
    _write_atomic(run_dir / FAILED, json.dumps(record, indent=2, ensure_ascii=False) + "\n")


def clear_failure(run_dir: Path) -> None:
    """Forget an earlier failure of this run (it is being run again)."""
    (run_dir / FAILED).unlink(missing_ok=True)


def _run_dirs(sweep_dir: Path) -> list[Path]:
    """Job directories of a sweep (or the run itself): folders with ``.hydra`` or results."""
    found = set()
    for marker in (".hydra", "provenance.json", FAILED):
        for path in [sweep_dir / marker, *sweep_dir.rglob(f"*/{marker}")]:
            run = path.parent
            if path.exists() and COLLECTED not in run.relative_to(sweep_dir).parts:
                found.add(run)
    return sorted(found)


def _overrides(run_dir: Path) -> list[str]:
    path = run_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return []
    import yaml

    return [str(o) for o in yaml.safe_load(path.read_text(encoding="utf-8")) or []]


def _override_columns(overrides: list[str]) -> dict[str, object]:
    """Task overrides of a job as ``{key: value}`` (numbers as numbers)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    out: dict[str, object] = {}
    for o in OverridesParser.create().parse_overrides(overrides):
        key = o.key_or_group
        if key.startswith("hydra") or key in ("seed", "scenario"):
            continue
        value = o.value()
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            value = json.dumps(value, sort_keys=True, default=str)
        out[key] = value
    return out


def collect(sweep_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every run of a sweep: the tidy indicator table and the table of runs.

    Returns:
        ``(indicators, runs)``. ``indicators`` has ``run_id``, ``scenario``, one column per
        overridden key, ``seed``, ``year``, ``unit``, ``indicator``, ``value`` for every
        complete run. ``runs`` has one row per run with its status (``complete``,
        ``failed``, ``incomplete``), the error of a failed run and the provenance of a
        complete one.

    Raises:
        ConfigError: ``sweep_dir`` is not a folder or holds no runs.
    """
    if not sweep_dir.is_dir():
        raise ConfigError(f"collect: {sweep_dir} is not a folder")
    dirs = _run_dirs(sweep_dir)
    if not dirs:
        raise ConfigError(f"collect: no runs under {sweep_dir}")
    runs, tables = [], []
    for run_dir in dirs:
        run_id = str(run_dir.relative_to(sweep_dir)) if run_dir != sweep_dir else "."
        overrides = _overrides(run_dir)
        row: dict[str, object] = {"run_id": run_id, "overrides": " ".join(overrides)}
        columns = _override_columns(overrides)
        if (run_dir / "indicators.parquet").is_file() and (run_dir / "provenance.json").is_file():
            prov = json.loads((run_dir / "provenance.json").read_text(encoding="utf-8"))
            row.update(status="complete", error=None)
            row.update(
                {
                    k: prov.get(k)
                    for k in (
                        "scenario",
                        "seed",
                        "scale",
                        "backend",
                        "config_hash",
                        "data_hash",
                        "git_commit",
                        "scenario_sha256",
                        "wall_time_s",
                        "peak_memory_mb",
                        "host",
                        "finished_utc",
                    )
                }
            )
            table = pd.read_parquet(run_dir / "indicators.parquet")
            table.insert(0, "run_id", run_id)
            for k, (key, value) in enumerate(sorted(columns.items())):
                table.insert(2 + k, key, value)
            tables.append(table)
        elif (run_dir / FAILED).is_file():
            failure = json.loads((run_dir / FAILED).read_text(encoding="utf-8"))
            row.update(status="failed", error=f"{failure.get('type')}: {failure.get('error')}")
        else:
            row.update(status="incomplete", error=None)
        runs.append(row)
    runs_table = pd.DataFrame(runs)
    if tables:
        indicators = pd.concat(tables, ignore_index=True)
        front = ["run_id", "scenario"]
        middle = [c for c in indicators.columns if c not in (*front, "seed", "year", "unit")]
        middle = [c for c in middle if c not in ("indicator", "value")]
        indicators = indicators[[*front, *middle, "seed", "year", "unit", "indicator", "value"]]
    else:
        indicators = pd.DataFrame(
            columns=["run_id", "scenario", "seed", "year", "unit", "indicator", "value"]
        )
    return indicators, runs_table


def write_collected(sweep_dir: Path) -> tuple[Path, pd.DataFrame]:
    """Collect a sweep into ``SWEEP_DIR/collected/`` (written whole, then renamed)."""
    indicators, runs = collect(sweep_dir)
    out = sweep_dir / COLLECTED
    staging = sweep_dir / f".{COLLECTED}-{uuid.uuid4().hex}"
    staging.mkdir()
    indicators.to_parquet(staging / "indicators.parquet", index=False)
    runs.to_parquet(staging / "runs.parquet", index=False)
    publish_folder(staging, out)
    return out, runs
