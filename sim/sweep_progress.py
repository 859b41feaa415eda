"""Progress of a sweep: "12/100 runs done, ETA 4 min" after each run, and a summary.

The sweeper (``hydra_plugins/ronghe/sweeper.py``) calls :func:`start` with the number of
jobs before launching them; it sets three environment variables that the launchers pass
on to their workers (local processes or Slurm jobs). Each run, wherever it runs, appends
one line to the sweep folder's :data:`PROGRESS_FILE` (appends of one short line do not
interleave) and prints the count it reads back. The main process prints
:func:`summary` when the sweep ends. Nothing here touches a run's results.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path

PROGRESS_FILE = ".ronghe-progress"
ENV_JOBS = "RONGHE_SWEEP_JOBS"
ENV_STARTED = "RONGHE_SWEEP_STARTED"
ENV_DIR = "RONGHE_SWEEP_DIR"
STATUSES = ("complete", "skipped", "failed")


def start(sweep_dir: Path, jobs: int) -> None:
    """Begin counting a sweep of ``jobs`` runs in ``sweep_dir`` (a new count each start)."""
    sweep_dir = Path(sweep_dir).absolute()
    sweep_dir.mkdir(parents=True, exist_ok=True)
    (sweep_dir / PROGRESS_FILE).write_text("", encoding="utf-8")
    os.environ[ENV_JOBS] = str(jobs)
    os.environ[ENV_STARTED] = repr(time.time())
    os.environ[ENV_DIR] = str(sweep_dir)


def _duration(seconds: float) -> str:
    """``42 s``, ``3 min 20 s`` or ``2 h 05 min``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _counts(sweep_dir: Path) -> Counter:
    try:
        text = (sweep_dir / PROGRESS_FILE).read_text(encoding="utf-8")
    except OSError:
        return Counter()
    return Counter(line.split("\t", 1)[0] for line in text.splitlines() if line)


def record(status: str, run_dir: Path) -> str | None:
    """Count one finished run; return the progress line (None outside a counted sweep)."""
    folder, jobs = os.environ.get(ENV_DIR), os.environ.get(ENV_JOBS)
    if not folder or not jobs or status not in STATUSES:
        return None
    sweep_dir = Path(folder)
    try:
        with open(sweep_dir / PROGRESS_FILE, "a", encoding="utf-8") as out:
            out.write(f"{status}\t{run_dir}\n")
    except OSError:
        return None
    counts = _counts(sweep_dir)
    done, total = sum(counts.values()), int(jobs)
    elapsed = time.time() - float(os.environ.get(ENV_STARTED, time.time()))
    # Skipped runs take no time: the remaining runs go at the pace of the ones that ran.
    ran = counts["complete"] + counts["failed"]
    left = max(0, total - done)
    eta = f", about {_duration(elapsed / ran * left)} left" if ran and left else ""
    parts = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
    return f"{done}/{total} runs done ({parts}) in {_duration(elapsed)}{eta}"


def summary() -> str | None:
    """The closing line of a counted sweep in this process, or None."""
    folder, jobs = os.environ.get(ENV_DIR), os.environ.get(ENV_JOBS)
    if not folder or not jobs:
        return None
    counts = _counts(Path(folder))
    elapsed = time.time() - float(os.environ.get(ENV_STARTED, time.time()))
    parts = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]) or "none finished"
    missing = int(jobs) - sum(counts.values())
    lost = f", {missing} not reported (killed?)" if missing > 0 else ""
    return (
        f"sweep of {jobs} runs: {parts}{lost} in {_duration(elapsed)}; results in {folder} "
        f"(ronghe collect {folder}; ronghe report {folder})"
    )


def finish() -> None:
    """Forget the counted sweep (the environment of this process)."""
    for name in (ENV_JOBS, ENV_STARTED, ENV_DIR):
        os.environ.pop(name, None)


__all__ = ["PROGRESS_FILE", "finish", "record", "start", "summary"]
