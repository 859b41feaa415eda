"""Where the project's folders are: the source checkout's, else the copies in the wheel."""

from __future__ import annotations

from pathlib import Path

from sim.config import RANGES
from sim.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parent


def project_dir(name: str) -> Path:
    """``conf`` or ``scenarios``: the source checkout's folder, else the bundled copy."""
    source = PACKAGE_DIR.parent / name
    if source.is_dir():
        return source
    return PACKAGE_DIR / "_bundled" / name


def scenarios_folder(setting: str | None) -> Path:
    """The folder named by ``scenarios_dir``, else the project's ``scenarios/``.

    Raises:
        ConfigError: ``scenarios_dir`` names no folder.
    """
    if not setting:
        return project_dir("scenarios")
    if not Path(setting).is_dir():
        raise ConfigError(
            f"scenarios_dir={setting!r}: not a folder; allowed {RANGES['scenarios_dir']}"
        )
    return Path(setting)
