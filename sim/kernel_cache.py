"""Keep numba's on-disk cache of Ronghe's compiled functions in step with their sources.

numba checks a cached function against the file that defines it only. A kernel of
``sim/kernels.py`` compiles in the rules of ``sim/rules.py`` and the draws of
``sim/rng.py``, so after an edit or an upgrade that changes only those, numba would load
the kernel's old machine code and run the old rule without a word. :func:`ensure_fresh`
records a digest of every source compiled into a cached function next to the cache and,
when the digest no longer matches, removes the cache files numba wrote for Ronghe's
modules, so the next call compiles afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from pathlib import Path
from types import ModuleType

# Modules whose functions are cached or compiled into cached functions.
COMPILED_MODULES = ("rng", "state", "world", "rules", "kernels")
STAMP = "ronghe-compiled-sources.sha256"


def sources_digest(package_dir: Path) -> str:
    """SHA-256 over the sources of :data:`COMPILED_MODULES`, in that order."""
    digest = hashlib.sha256()
    for name in COMPILED_MODULES:
        digest.update(name.encode())
        digest.update((package_dir / f"{name}.py").read_bytes())
    return digest.hexdigest()


def cache_folders(modules: tuple[ModuleType, ...]) -> set[Path]:
    """The folders numba caches the modules' ``cache=True`` functions in."""
    folders = set()
    for module in modules:
        for value in vars(module).values():
            path = getattr(getattr(value, "_cache", None), "_cache_path", None)
            if path:
                folders.add(Path(path))
    return folders


def refresh(folder: Path, digest: str) -> bool:
    """Remove the folder's cache files of :data:`COMPILED_MODULES` unless ``digest`` matches.

    Only the files numba writes for those modules (``NAME.*.nbi`` and ``NAME.*.nbc``) are
    removed; the new digest is written atomically after them.

    Returns:
        Whether files were dropped (False if the digest matched or the folder is not
        writable: numba then compiles without caching there).
    """
    stamp = folder / STAMP
    with contextlib.suppress(OSError):
        if stamp.read_text(encoding="ascii") == digest:
            return False
    try:
        for name in COMPILED_MODULES:
            for pattern in (f"{name}.*.nbi", f"{name}.*.nbc"):
                for path in folder.glob(pattern):
                    path.unlink(missing_ok=True)
        tmp = folder / f".{STAMP}.{uuid.uuid4().hex}"
        tmp.write_text(digest, encoding="ascii")
        os.replace(tmp, stamp)
    except OSError:
        return False
    return True


def ensure_fresh() -> None:
    """Drop cached machine code compiled from sources that have changed since.

    Call before the first compiled function runs in a process (the model does, through
    :func:`sim.threads.prepare`).
    """
    from sim import kernels, rng, rules

    digest = sources_digest(Path(kernels.__file__).parent)
    for folder in cache_folders((rng, rules, kernels)):
        refresh(folder, digest)
