"""Writing results: complete files or nothing, and never over what Ronghe did not write.

A run's files are written into a hidden staging folder inside the run folder, flushed to
disk, and renamed into place; ``provenance.json`` goes last and lists the SHA-256 of
every other file, so a run counts as complete only when its provenance is there and
every file matches it. Readers (:func:`verify_run`) therefore see the old results, the
new ones or none, never a mixture, whatever moment a run is killed at.

Folders Ronghe replaces whole (a report, a sweep's ``collected/``) carry a manifest of
what Ronghe wrote into them; a folder without one, or holding anything else, is never
replaced (:func:`check_replaceable`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pandas as pd
import yaml

from sim.errors import ConfigError, ResultsError

PROVENANCE = "provenance.json"
# Renamed into place in this order; the provenance, which lists the others, comes last.
RESULT_FILES = ("indicators.parquet", "config.yaml", "population_fit.csv", PROVENANCE)
# An ensemble run's inputs: one row per run (draw, seed and the parameter values used).
DRAWS_FILE = "draws.csv"
MANIFEST = ".ronghe-manifest.json"
MAX_PROVENANCE_BYTES = 4 << 20  # a run's provenance is a few kB; refuse to parse junk
STAGING = re.compile(r"\.staging-[0-9a-f]{32}")

RESULT_NEUTRAL_KEYS = ("hydra", "threads", "progress")


def config_hash(config: dict) -> str:
    """SHA-256 of the canonical JSON of a resolved configuration.

    Keys that cannot change results (``threads``, ``progress``; results are identical
    for any thread count) are left out, so a resumed sweep may use other values.
    """
    clean = {k: v for k, v in config.items() if k not in RESULT_NEUTRAL_KEYS}
    text = json.dumps(clean, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_commit(path: Path) -> str | None:
    """Commit of the git checkout holding ``path`` (with ``-dirty`` if modified), or None."""
    try:
        top = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{top}-dirty" if dirty else top


def _flush(path: Path) -> None:
    """Force a written file or folder to disk, so a rename never publishes lost bytes."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_provenance(run_dir: Path) -> dict:
    """The parsed ``provenance.json`` of a run folder.

    Raises:
        ResultsError: Missing, too large, not JSON or not a mapping written by Ronghe.
    """
    path = run_dir / PROVENANCE
    try:
        if path.stat().st_size > MAX_PROVENANCE_BYTES:
            raise ResultsError(f"{path}: larger than {MAX_PROVENANCE_BYTES >> 20} MiB")
        prov = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise ResultsError(f"{run_dir}: no {PROVENANCE}") from None
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: unreadable ({type(exc).__name__})") from None
    if not isinstance(prov, dict) or prov.get("package") != "ronghe":
        raise ResultsError(f"{path}: not the provenance of a Ronghe run")
    return prov


def read_draw_inputs(run_dir: Path) -> pd.DataFrame | None:
    """The inputs of an ensemble run's members (:data:`DRAWS_FILE`), or None if none.

    Raises:
        ResultsError: The file is there but unreadable.
    """
    path = Path(run_dir) / DRAWS_FILE
    if not path.is_file():
        return None
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: unreadable ({type(exc).__name__})") from None


def verify_run(run_dir: Path) -> dict:
    """The provenance of a run folder whose files all match it; else raise.

    Raises:
        ResultsError: The folder holds no provenance, or a file it lists is missing or
            differs from the digest it recorded (a corrupt, edited or half-replaced file).
    """
    prov = read_provenance(run_dir)
    files = prov.get("files")
    if not isinstance(files, dict) or "indicators.parquet" not in files:
        raise ResultsError(
            f"{run_dir / PROVENANCE}: lists no file digests (written by an older Ronghe); "
            "run it again"
        )
    for name, digest in files.items():
        path = run_dir / str(name)
        if Path(str(name)).name != name or not path.is_file():
            raise ResultsError(f"{run_dir}: {str(name)[:80]!r} listed in {PROVENANCE} is missing")
        if file_digest(path) != digest:
            raise ResultsError(f"{path}: differs from the digest in {PROVENANCE} (corrupt)")
    return prov


def write_run(
    run_dir: Path,
    *,
    indicators: pd.DataFrame,
    config: dict,
    provenance: dict,
    population_fit: pd.DataFrame,
    extra_files: dict[str, str] | None = None,
) -> None:
    """Write a run's files atomically into ``run_dir`` (see the module docstring).

    ``extra_files`` (name to text) are results too: listed in the provenance and renamed
    into place before it. The caller holds the run folder (:func:`sim.runfolder.claim`).

    Raises:
        ResultsError: A file could not be written (disk full, read-only, ...); the run
            folder then holds no results of this run.
    """
    staging = run_dir / f".staging-{uuid.uuid4().hex}"
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        for stale in run_dir.iterdir():  # left by an attempt that was killed
            if STAGING.fullmatch(stale.name) and stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        staging.mkdir()
        indicators.to_parquet(staging / "indicators.parquet", index=False)
        (staging / "config.yaml").write_text(
            yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        population_fit.to_csv(staging / "population_fit.csv", index=False)
        extra = dict(extra_files or {})
        for name, text in extra.items():
            (staging / name).write_text(text, encoding="utf-8")
        names = [*extra, *RESULT_FILES[:-1]]
        for name in names:
            _flush(staging / name)
        record = {**provenance, "files": {n: file_digest(staging / n) for n in names}}
        (staging / PROVENANCE).write_text(
            json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n",
            encoding="utf-8",
        )
        _flush(staging / PROVENANCE)
        # Older results stop counting before any of their files is replaced.
        (run_dir / PROVENANCE).unlink(missing_ok=True)
        for name in (*names, PROVENANCE):
            os.replace(staging / name, run_dir / name)
        _flush(run_dir)
    except OSError as exc:
        raise ResultsError(
            f"cannot write results into {run_dir}: {exc.strerror or type(exc).__name__}"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_manifest(folder: Path, kind: str) -> None:
    """Record, in ``folder``, every file now in it as written by Ronghe (a ``kind`` folder)."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    record = {"package": "ronghe", "kind": kind, "files": files}
    (folder / MANIFEST).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def check_replaceable(target: Path, kind: str, what: str) -> None:
    """Refuse to replace ``target`` unless it is new, empty or a ``kind`` folder Ronghe wrote.

    A folder Ronghe wrote has its manifest, and holds only what the manifest lists.

    Raises:
        ConfigError: Naming ``what`` (the setting that chose the folder) and the reason.
    """
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise ConfigError(f"{what}={target}: exists and is not a folder; allowed a new folder")
    present = {p.relative_to(target).as_posix() for p in target.rglob("*") if not p.is_dir()}
    if not present and not any(target.iterdir()):
        return
    try:
        manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
        listed = set(manifest["files"]) if manifest.get("kind") == kind else None
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        listed = None
    if listed is None:
        raise ConfigError(
            f"{what}={target}: holds files Ronghe did not write there (no {kind} manifest); "
            f"allowed a new or empty folder, or an earlier {kind} of Ronghe's"
        )
    foreign = sorted(present - listed - {MANIFEST})
    if foreign:
        raise ConfigError(
            f"{what}={target}: holds {len(foreign)} file(s) Ronghe did not write "
            f"(first: {foreign[0][:80]}); move them away or choose another folder"
        )


def publish_folder(staging: Path, target: Path, kind: str, what: str) -> None:
    """Put the complete folder ``staging`` at ``target`` by renames, replacing an earlier one.

    ``target`` is checked with :func:`check_replaceable` first; readers see the old
    folder or the new one, never a mixture. ``staging`` must be a sibling of ``target``.
    """
    write_manifest(staging, kind)
    check_replaceable(target, kind, what)
    if target.exists():
        old = target.with_name(f".{target.name}-old-{uuid.uuid4().hex}")
        os.replace(target, old)
        os.replace(staging, target)
        with contextlib.suppress(OSError):
            shutil.rmtree(old)
    else:
        os.replace(staging, target)
