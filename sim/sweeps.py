"""Sweeps: replicate seeds and the collection of a sweep's runs.

A sweep is a Hydra multirun: one run folder per job under the sweep folder, each
complete, failed or incomplete (:mod:`sim.runfolder`). Running the same sweep again
into the same folder skips complete runs of the same configuration, data, scenario and
code, and runs the rest. :func:`collect` gathers the complete runs into one table,
checking every file against its provenance and every table against the schema a run
writes; a run whose files do not check out is listed as failed, not collected.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pandas as pd

from sim.errors import ConfigError, ResultsError
from sim.results import PROVENANCE, check_replaceable, publish_folder, verify_run
from sim.runfolder import FAILED, LOCK, read_failure

COLLECTED = "collected"
# Not named indicators.parquet: a glob over run folders (SWEEP/*/indicators.parquet) must
# not count the collected table as one more run.
COLLECTED_INDICATORS = "all_indicators.parquet"


def replicate_seeds(base: int, n: int) -> list[int]:
    """``n`` distinct seeds derived from ``base`` (the first is ``base`` itself).

    The same base gives the same seeds for every scenario, so comparisons are paired.
    """
    # Imported here: collecting and reporting results (this module's other work) then
    # never loads numba, which the counter-based hash is compiled with.
    from sim.rng import REPLICATE_SEED, hash4

    seeds = [int(base)]
    seen = set(seeds)
    k = 1
    while len(seeds) < n:
        seed = int(hash4(base, 0, k, REPLICATE_SEED)) >> 33  # 31-bit, easy to read and type
        if seed not in seen:
            seeds.append(seed)
            seen.add(seed)
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


def _run_dirs(sweep_dir: Path) -> list[Path]:
    """Run folders of a sweep (or the run itself): folders Ronghe marked or wrote results in.

    Hidden folders (a run's staging folder, submitit's files, a collection being
    written) and ``collected/`` are not runs.
    """
    found = set()
    for marker in (LOCK, PROVENANCE, FAILED):
        for path in [sweep_dir / marker, *sweep_dir.rglob(marker)]:
            parts = path.parent.relative_to(sweep_dir).parts
            if (
                path.is_file()
                and COLLECTED not in parts
                and not any(p.startswith(".") for p in parts)
            ):
                found.add(path.parent)
    return sorted(found)


def _override_columns(overrides: list[str]) -> dict[str, object]:
    """Task overrides of a job as ``{key: value}`` (numbers as numbers).

    Raises:
        ResultsError: The recorded overrides do not parse.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    out: dict[str, object] = {}
    try:
        parsed = OverridesParser.create().parse_overrides([str(o) for o in overrides])
    except HydraException:
        raise ResultsError("the overrides recorded in provenance.json do not parse") from None
    for o in parsed:
        key = o.key_or_group
        if key.startswith("hydra") or key in ("seed", "scenario"):
            continue
        value = o.value()
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            value = json.dumps(value, sort_keys=True, default=str)
        out[key] = value
    return out


PROVENANCE_COLUMNS = (
    "scenario",
    "seed",
    "scale",
    "backend",
    "config_hash",
    "data_hash",
    "scenario_sha256",
    "code_digest",
    "git_commit",
    "wall_time_s",
    "peak_memory_mb",
    "host",
    "finished_utc",
)
# The indicator table every run writes (sim.indicators.indicator_table): column, types.
INDICATOR_SCHEMA = {
    "year": ("int16", "int32", "int64"),
    "unit": ("string", "large_string"),
    "indicator": ("string", "large_string"),
    "value": ("double",),
    "scenario": ("string", "large_string"),
    "seed": ("int64",),
}


def read_indicators(path: Path) -> pd.DataFrame:
    """A run's ``indicators.parquet``, checked against :data:`INDICATOR_SCHEMA`.

    Raises:
        ResultsError: Not a parquet file, or other columns or types than a run writes.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise ResultsError(f"{path}: not a readable parquet file ({type(exc).__name__})") from None
    found = {f.name: str(f.type) for f in schema}
    expected = dict(INDICATOR_SCHEMA)
    if "draw" in found:  # an ensemble run (ensemble=posterior): the draw of each row
        expected["draw"] = ("int64",)
    if list(found) != list(expected) or any(found[c] not in types for c, types in expected.items()):
        shown = ", ".join(f"{c}:{t}" for c, t in found.items())[:200]
        raise ResultsError(
            f"{path}: columns {shown}; expected {', '.join(INDICATOR_SCHEMA)} "
            "(and draw after them in an ensemble run; year, seed, draw integers; value float; "
            "the others text)"
        )
    try:
        return pd.read_parquet(path)
    except (OSError, pa.ArrowException) as exc:
        raise ResultsError(f"{path}: not a readable parquet file ({type(exc).__name__})") from None


def _collect_run(run_dir: Path, run_id: str) -> tuple[dict, pd.DataFrame | None]:
    """One run's row of the runs table, and its indicator table if it is complete."""
    row: dict[str, object] = {"run_id": run_id, "overrides": ""}
    # The provenance is written last and removed first (sim.runfolder.retire): result
    # files without it are a write or a rerun that stopped midway, not results.
    has_results = (run_dir / PROVENANCE).exists()
    failure = read_failure(run_dir)
    if not has_results:
        if failure is None:
            row.update(status="incomplete", error=None)
        else:
            row.update(
                status="failed",
                error=f"{failure.get('type')}: {failure.get('error')}",
                overrides=_joined(failure.get("overrides")),
            )
        return row, None
    try:
        prov = verify_run(run_dir)
        table = read_indicators(run_dir / "indicators.parquet")
        overrides = prov.get("overrides") or []
        columns = _override_columns(overrides)
    except ResultsError as exc:
        row.update(status="failed", error=f"ResultsError: {exc}")
        return row, None
    row.update(status="complete", error=None, overrides=_joined(overrides))
    row.update({k: prov.get(k) for k in PROVENANCE_COLUMNS})
    table.insert(0, "run_id", run_id)
    for k, (key, value) in enumerate(sorted(columns.items())):
        table.insert(2 + k, key, value)
    return row, table


def _joined(overrides: object) -> str:
    return " ".join(map(str, overrides)) if isinstance(overrides, list) else ""


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
        row, table = _collect_run(run_dir, run_id)
        runs.append(row)
        if table is not None:
            tables.append(table)
    runs_table = pd.DataFrame(
        runs, columns=["run_id", "overrides", "status", "error", *PROVENANCE_COLUMNS]
    )
    if tables:
        indicators = pd.concat(tables, ignore_index=True)
        if "draw" in indicators.columns:  # -1: a run that is not an ensemble's
            indicators["draw"] = indicators["draw"].fillna(-1).astype("int64")
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
    """Collect a sweep into ``SWEEP_DIR/collected/`` (written whole, then renamed).

    It holds :data:`COLLECTED_INDICATORS` (every complete run's indicators) and
    ``runs.parquet`` (every run's status and provenance).
    """
    indicators, runs = collect(sweep_dir)
    out = sweep_dir / COLLECTED
    check_replaceable(out, COLLECTED, "collect")
    staging = sweep_dir / f".{COLLECTED}-{uuid.uuid4().hex}"
    try:
        staging.mkdir()
        indicators.to_parquet(staging / COLLECTED_INDICATORS, index=False)
        runs.to_parquet(staging / "runs.parquet", index=False)
        publish_folder(staging, out, COLLECTED, "collect")
    except OSError as exc:
        raise ResultsError(f"cannot write {out}: {exc.strerror or type(exc).__name__}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out, runs
