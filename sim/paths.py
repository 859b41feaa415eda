"""Where the project's folders are, and the folders Ronghe writes into.

The source checkout's ``conf`` and ``scenarios`` folders, else the copies in the wheel;
a digest of the package's code for resuming sweeps; safe names for the run folders of a
sweep; and the check that an output folder can be created before any run starts. This
module does not import the model, so a sweep's main process starts quickly.
"""

from __future__ import annotations

import ast
import hashlib
import os
import platform
from functools import cache
from importlib import metadata
from pathlib import Path

from sim.config import RANGES
from sim.errors import ConfigError, shown

PACKAGE_DIR = Path(__file__).resolve().parent
# Longest folder name Ronghe makes from a run's overrides; longer names keep their start
# and end in a digest of the whole, well below the 255 bytes most filesystems allow.
MAX_RUN_FOLDER_NAME = 200
NAME_MAX = 255  # bytes in one path component on Linux filesystems (ext4, xfs, tmpfs, NFS)
PATH_MAX = 4096
# Libraries whose version can change a run's numbers: part of the resume key.
RESULT_LIBRARIES = ("numpy", "numba", "mesa", "pandas", "pyarrow", "scipy")


def project_dir(name: str) -> Path:
    """``conf`` or ``scenarios``: the source checkout's folder, else the bundled copy."""
    source = PACKAGE_DIR.parent / name
    if source.is_dir():
        return source
    return PACKAGE_DIR / "_bundled" / name


def replication_estimates_file() -> Path:
    """The stored estimates of the virtual replications (``python -m sim.replications``)."""
    return PACKAGE_DIR.parent / "experiments" / "replications" / "estimates.csv"


def calibration_results_folder() -> Path:
    """The committed results of the main calibration (experiments/calibration)."""
    return PACKAGE_DIR.parent / "experiments" / "calibration" / "results" / "main"


def scenarios_folder(setting: str | None) -> tuple[Path, ...]:
    """Where scenarios are looked up: the folder named by ``scenarios_dir``, then the library.

    The library is the project's ``scenarios/`` (or the copy in the wheel), so a user's
    scenario extends library scenarios by name.

    Raises:
        ConfigError: ``scenarios_dir`` names no folder.
    """
    library = project_dir("scenarios")
    if not setting:
        return (library,)
    if not os.path.isdir(setting):  # False for any OSError (a name too long, ...)
        raise ConfigError(
            f"scenarios_dir={shown(setting)}: not a folder; allowed {RANGES['scenarios_dir']}"
        )
    return (Path(setting), library)


def source_digest(package: Path) -> str:
    """SHA-256 over the paths and bytes of every ``*.py`` file under ``package``."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@cache
def code_digest() -> str:
    """SHA-256 of the package's Python source and the versions of the numeric libraries.

    Two runs with the same configuration, data, scenario and code digest give the same
    numbers; the digest changes with any edit of ``sim/`` (committed or not) and with an
    upgrade of Python or of a library in :data:`RESULT_LIBRARIES`. Cached per process:
    a sweep's jobs in one process share the code they were imported with.
    """
    digest = hashlib.sha256(source_digest(PACKAGE_DIR).encode())
    _library_versions(digest)
    return digest.hexdigest()


# The module whose imports reach every module that shapes a calibration's numbers: the
# model, its synthesis, indicators and moments, the ensemble runner and the method itself.
ENGINE_ROOT = "sim.calibration"


def _module_file(package: Path, module: str) -> Path | None:
    """The source file of ``module`` (``sim.x.y``) under ``package``, if there is one."""
    base = package.joinpath(*module.split(".")[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported(package: Path, module: str, path: Path) -> set[str]:
    """The package's modules that ``path`` imports anywhere (functions included)."""
    top = package.name
    found = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == top}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                keep = len(parts) - node.level + (path.name == "__init__.py")
                name = ".".join(parts[:keep] + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name.split(".")[0] != top:
                continue
            found.add(name)
            found |= {f"{name}.{a.name}" for a in node.names}
    return {m for m in found if _module_file(package, m) is not None}


def module_closure(package: Path, root: str) -> list[Path]:
    """The source files of ``root`` and of every package module it imports, transitively.

    Imports inside functions count too: a lazily imported module shapes the results as
    much as one imported at the top.
    """
    seen: dict[str, Path] = {}
    todo = [root, package.name]
    while todo:
        module = todo.pop()
        path = _module_file(package, module)
        if module in seen or path is None:
            continue
        seen[module] = path
        todo += sorted(_imported(package, module, path))
    return sorted(set(seen.values()))


def _library_versions(digest) -> None:
    digest.update(f"python={platform.python_version()}\0".encode())
    for name in RESULT_LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name}={version}\0".encode())


@cache
def engine_digest() -> str:
    """SHA-256 of the engine's source (what a calibration runs) and the numeric libraries.

    The engine is :data:`ENGINE_ROOT` and everything it imports: the model, synthesis,
    data loading, indicators and moments. Editing the command line, the charts or the
    report leaves it unchanged, so a fitted posterior stays current through such edits
    and goes stale only when something that shapes its numbers changes.
    """
    digest = hashlib.sha256()
    for path in module_closure(PACKAGE_DIR, ENGINE_ROOT):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    _library_versions(digest)
    return digest.hexdigest()


def run_folder_name(overrides: str) -> str:
    r"""One folder name for a run of a sweep, from its overrides (Hydra's override_dirname).

    ``/``, ``\``, ``%`` and characters that do not print are percent-encoded (their UTF-8
    bytes), so a value such as ``region=../../x`` names a folder inside the sweep
    folder instead of a path out of it, and different overrides give different names. A
    name longer than :data:`MAX_RUN_FOLDER_NAME` bytes keeps its first 160 bytes and ends
    in a digest of the whole. ``""`` (a sweep of one run without overrides) is the sweep
    folder itself.
    """
    name = "".join(
        "".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
        if ch in "%/\\" or not ch.isprintable()
        else ch
        for ch in overrides
    )
    if name.startswith("."):
        name = "%2E" + name[1:]
    raw = name.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_RUN_FOLDER_NAME:
        digest = hashlib.sha256(overrides.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        name = raw[:160].decode("utf-8", "ignore") + "~" + digest
    return name


def check_output_folder(key: str, path: str | Path) -> None:
    """Refuse a folder that cannot hold results, before any run starts.

    Checks the name (each part at most :data:`NAME_MAX` bytes), that no part of the path
    is a file, and that the nearest existing folder can be written (not read-only).

    Raises:
        ConfigError: Naming ``key``, the path and the reason, in one line.
    """
    folder = Path(path)
    if len(os.fsencode(folder)) >= PATH_MAX:
        raise ConfigError(f"{key}={shown(str(path))}: path longer than {PATH_MAX} bytes")
    for part in folder.parts:
        if len(os.fsencode(part)) > NAME_MAX:
            raise ConfigError(
                f"{key}={shown(str(path))}: the name {shown(part, 40)} is longer than the "
                f"{NAME_MAX} bytes a filesystem allows"
            )
    probe = folder
    while not probe.exists() and probe != probe.parent and not probe.is_symlink():
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ConfigError(f"{key}={shown(str(path))}: {shown(str(probe))} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{key}={shown(str(path))}: cannot write in {shown(str(probe))} "
            "(read-only or no permission)"
        )
