"""Writing a run's results: complete files or nothing.

Every file of a run is first written into a hidden staging folder inside the run
directory and renamed into place only when all of them are complete, so a failed or
killed run leaves no half-written results.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pandas as pd
import yaml

RESULT_FILES = ("indicators.parquet", "config.yaml", "provenance.json", "population_fit.csv")


RESULT_NEUTRAL_KEYS = ("hydra", "threads", "progress")


def config_hash(config: dict) -> str:
    """SHA-256 of the canonical JSON of a resolved configuration.

    Keys that cannot change results (``threads``, ``progress``; results are identical
    for any thread count) are left out, so a resumed sweep may use other values.
    """
    clean = {k: v for k, v in config.items() if k not in RESULT_NEUTRAL_KEYS}
    text = json.dumps(clean, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


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


def publish_folder(staging: Path, target: Path) -> None:
    """Put the complete folder ``staging`` at ``target`` by renames, replacing any old one.

    Readers see the old folder or the new one, never a mixture; ``staging`` must lie in
    the same file system as ``target`` (a sibling).
    """
    if target.exists():
        old = target.with_name(f".{target.name}-old-{uuid.uuid4().hex}")
        os.replace(target, old)
        os.replace(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, target)


def write_run(
    run_dir: Path,
    *,
    indicators: pd.DataFrame,
    config: dict,
    provenance: dict,
    population_fit: pd.DataFrame,
    extra_files: dict[str, str] | None = None,
) -> None:
    """Write the run's files atomically into ``run_dir``.

    ``extra_files`` (name to text) are renamed into place before the result files, so
    a run counts as complete only once all of them are there.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    for stale in run_dir.glob(".staging-*"):  # left by an attempt that was killed
        shutil.rmtree(stale, ignore_errors=True)
    staging = run_dir / f".staging-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        indicators.to_parquet(staging / "indicators.parquet", index=False)
        (staging / "config.yaml").write_text(
            yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        (staging / "provenance.json").write_text(
            json.dumps(provenance, indent=2, ensure_ascii=False, default=str) + "\n",
            encoding="utf-8",
        )
        population_fit.to_csv(staging / "population_fit.csv", index=False)
        extra = dict(extra_files or {})
        for name, text in extra.items():
            (staging / name).write_text(text, encoding="utf-8")
        for name in (*extra, *RESULT_FILES):
            os.replace(staging / name, run_dir / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
