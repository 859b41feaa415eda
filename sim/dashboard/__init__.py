"""The dashboard: ``ronghe dashboard`` serves a local Solara web app (the ``dashboard`` extra).

Pick a library scenario, set the levers (sliders, schedules, per-county values), run it
and the baseline on the same seeds in the background, and read the scorecard, the lever
cost, fan and difference charts; save the scenario as YAML or write the full report.
This is the outermost layer: nothing else in ``sim`` imports it (docs/dashboard.md).
"""

from __future__ import annotations

from importlib.util import find_spec

from sim.errors import ConfigError

if find_spec("solara") is None:
    raise ConfigError('dashboard: solara is not installed; pip install "ronghe[dashboard]"')

from sim.dashboard.server import main

__all__ = ["main"]
