"""Ronghe (融合): agent-based simulation of urban-rural integrated development.

Layers import downward only: ``data`` -> ``population`` -> ``rules``/``kernels`` ->
``model`` -> ``indicators`` -> ``results`` -> ``cli``. ``config``, ``errors`` and ``rng``
are foundations every layer may import.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ronghe")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = ["__version__"]
