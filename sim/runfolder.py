"""A run's folder: who may write into it, when its results count, what a failure leaves.

Ronghe marks a folder it runs in with ``.ronghe-run.lock`` and holds an exclusive lock
on that file while a run works there, so two runs never write into one folder at once:
the second stops with a one-line error and touches nothing. A folder that already holds
a file with the name of a result (``indicators.parquet``, ``failed.json``...) is used only
if Ronghe wrote it: it carries the marker or a Ronghe provenance.

An attempt first retires the folder's earlier results (their provenance goes first, so
they stop counting at once), then writes its own whole (:func:`sim.results.write_run`)
or records ``failed.json``. A run folder is therefore *complete* (results whose files
match their provenance), *failed* (``failed.json``: the last attempt failed) or
*incomplete* (killed, or still running); the results of one configuration are never
shown under another.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sim.errors import ConfigError, ResultsError, RongheError
from sim.results import PROVENANCE, read_provenance, verify_run

LOCK = ".ronghe-run.lock"
FAILED = "failed.json"


class RunFolderBusyError(RongheError):
    """Another run holds the run folder."""


@dataclass(frozen=True)
class RunKey:
    """What must match for finished results to be reused.

    Attributes:
        config_hash: The resolved configuration (overrides included).
        data_hash: The data files' bytes.
        scenario_sha256: The composed scenario files' bytes.
        code: :func:`sim.paths.code_digest`: the package's source and numeric libraries.
    """

    config_hash: str
    data_hash: str
    scenario_sha256: str
    code: str

    def as_provenance(self) -> dict[str, str]:
        """The key's fields as provenance entries."""
        return {
            "config_hash": self.config_hash,
            "data_hash": self.data_hash,
            "scenario_sha256": self.scenario_sha256,
            "code_digest": self.code,
        }


def is_complete(run_dir: Path, key: RunKey) -> bool:
    """True if ``run_dir`` holds intact results of the run ``key`` describes."""
    try:
        prov = verify_run(run_dir)
    except ResultsError:
        return False
    return all(prov.get(k) == v for k, v in key.as_provenance().items())


def _written_by_ronghe(run_dir: Path) -> bool:
    if (run_dir / LOCK).is_file():
        return True
    try:
        read_provenance(run_dir)
    except ResultsError:
        return False
    return True


@contextlib.contextmanager
def claim(run_dir: Path, writes: tuple[str, ...], what: str) -> Iterator[None]:
    """Hold ``run_dir`` for one run: create and mark it, and lock it until the block ends.

    Args:
        run_dir: The run folder.
        writes: Names of the files the run may write or replace there.
        what: The setting that chose the folder, for messages (``hydra.run.dir``).

    Raises:
        ConfigError: The folder holds a file named like a result that Ronghe did not
            write, or cannot be created or written.
        RunFolderBusyError: Another run holds the folder.
    """
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        foreign = [n for n in (*writes, FAILED) if (run_dir / n).exists()]
        if foreign and not _written_by_ronghe(run_dir):
            raise ConfigError(
                f"{what}={run_dir}: holds {', '.join(foreign)}, which Ronghe did not write; "
                "choose another folder"
            )
        fd = os.open(run_dir / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise ConfigError(
            f"{what}={run_dir}: cannot write there ({exc.strerror or type(exc).__name__})"
        ) from None
    try:
        # flock, not a lock-file library: the file must stay as the folder's marker, and a
        # killed run must never leave the folder locked (the kernel drops the lock).
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise RunFolderBusyError(
                f"{what}={run_dir}: another run is writing into this folder; choose another "
                "folder or wait until it ends"
            ) from None
        raise ConfigError(
            f"{what}={run_dir}: cannot lock the run folder ({exc.strerror})"
        ) from None
    try:
        yield
    finally:
        os.close(fd)  # releases the lock


def retire(run_dir: Path, writes: tuple[str, ...]) -> None:
    """Remove the earlier results and failure record of a claimed run folder.

    The provenance goes first, so the old results stop counting before anything else
    changes. Only files named in ``writes`` (Ronghe's own) are removed.
    """
    (run_dir / PROVENANCE).unlink(missing_ok=True)
    for name in (*writes, FAILED):
        with contextlib.suppress(IsADirectoryError, PermissionError):
            (run_dir / name).unlink(missing_ok=True)


def record_failure(run_dir: Path, exc: BaseException, overrides: list[str]) -> bool:
    """Write ``failed.json`` (error, type, overrides, traceback) into a claimed run folder.

    Best effort: a folder that cannot be written (disk full) keeps no record, and the
    error still reaches the user.

    Returns:
        Whether the record was written.
    """
    record = {
        "package": "ronghe",
        "error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        "type": type(exc).__name__,
        "overrides": overrides,
        "traceback": "".join(traceback.format_exception(exc)),
    }
    tmp = run_dir / f".{FAILED}.{uuid.uuid4().hex}"
    try:
        tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, run_dir / FAILED)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        return False
    return True


def read_failure(run_dir: Path) -> dict | None:
    """The failure record of a run folder, or None if it has none (or an unreadable one)."""
    path = run_dir / FAILED
    try:
        if path.stat().st_size > 1 << 20:
            return {"error": f"{FAILED} larger than 1 MiB", "type": "ResultsError"}
        record = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"error": f"unreadable {FAILED}", "type": "ResultsError"}
    return record if isinstance(record, dict) else {"error": f"malformed {FAILED}"}
