"""Ronghe (融合): agent-based simulation of urban-rural integrated development.

>>> import sim
>>> table = sim.run("decision_package", scale=0.002, end_year=2027)  # doctest: +SKIP

The Python API (:mod:`sim.api`, docs/api.md): :func:`run` returns the long indicator
table of a run or an ensemble, :func:`targets` the three 2027 target indicators per run,
:class:`RongheModel` is the model for Mesa's tools (``mesa.batch_run``), and
:func:`run_ensemble` runs many configurations on every core. They load on first use, so
``import sim`` stays light.

Layers import downward only: ``data`` -> ``population`` -> ``rules``/``kernels`` ->
``model`` -> ``indicators`` -> ``results`` -> ``cli``. ``config``, ``errors`` and ``rng``
are foundations every layer may import.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ronghe")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

# Public names and the modules that define them, imported when first used. Named by
# string: the engine (sim.paths.engine_digest) does not depend on the API above it.
_EXPORTS = {
    "run": "sim.api",
    "targets": "sim.api",
    "RongheModel": "sim.api",
    "run_ensemble": "sim.ensemble",
    "ConfigError": "sim.errors",
    "DataError": "sim.errors",
    "RongheError": "sim.errors",
    "ScenarioError": "sim.errors",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = ["__version__", *_EXPORTS]
